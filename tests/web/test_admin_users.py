"""Administering users from the web: invite with a one-time link, deactivate and reactivate
(sessions and API tokens stop at once), reset with a one-time link, group membership; the
nonsense refused next to its field; only administrators, with the form's CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.store.models import AuditEntry, Group, Membership, User
from tests.web.conftest import PASSWORD, Site
from tests.web.test_pages import browser_login, csrf_of, portal_case

NEW = "tangerine submarine 48 orbits"


def _link(html: str) -> str:
    found = re.search(r'id="password-link" value="http://testserver(/password/[^"]+)"', html)
    assert found, html
    return found.group(1)


def _post(client: TestClient, path: str, **data: str):
    token = csrf_of(client.get("/admin").text)
    return client.post(path, data={"csrf_token": token, **data})


def test_an_invited_user_sets_a_password_once_and_signs_in(site: Site):
    root = browser_login(site, "root")
    form = root.get("/admin/users/new")
    assert form.status_code == 200 and "Invite a user" in form.text
    invited = root.post(
        "/admin/users/new",
        data={"csrf_token": csrf_of(form.text), "username": "nina", "display_name": "Nina N"},
    )
    assert invited.status_code == 200 and "shown only once" in invited.text
    link = _link(invited.text)
    anonymous = TestClient(site.client.app)
    page = anonymous.get(link)
    assert page.status_code == 200 and "nina" in page.text
    weak = anonymous.post(
        link, data={"new_password": "password1234", "csrf_token": csrf_of(page.text)}
    )
    assert weak.status_code == 422 and "commonly used" in weak.text
    done = anonymous.post(
        link,
        data={"new_password": NEW, "csrf_token": csrf_of(weak.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/"  # signed in
    again = anonymous.post(link, data={"new_password": NEW + "!"})
    assert again.status_code == 404 and "was used already" in again.text  # one time only
    signed_in = anonymous.post("/api/session", json={"username": "nina", "password": NEW})
    assert signed_in.status_code == 200
    duplicate = root.post(
        "/admin/users/new", data={"csrf_token": csrf_of(form.text), "username": "nina"}
    )
    assert duplicate.status_code == 422 and "already exists" in duplicate.text
    bad_name = root.post(
        "/admin/users/new", data={"csrf_token": csrf_of(form.text), "username": "no spaces"}
    )
    assert bad_name.status_code == 422 and "must start with a letter or digit" in bad_name.text
    bad_mail = root.post(
        "/admin/users/new",
        data={"csrf_token": csrf_of(form.text), "username": "otto", "email": "otto at home"},
    )
    assert bad_mail.status_code == 422 and "is not a mail address" in bad_mail.text


def test_a_deactivated_user_loses_sessions_and_tokens_at_once(site: Site):
    bob = site.login("bob")
    secret = bob.post("/api/tokens", json={"name": "script"}).json()["token"]
    script = TestClient(site.client.app, headers={"Authorization": f"Bearer {secret}"})
    assert script.get("/api/me").status_code == 200
    root = browser_login(site, "root")
    off = _post(root, "/admin/users/bob/deactivate", follow_redirects=False)
    assert off.status_code == 200 and "deactivated" in off.text
    assert bob.get("/api/me").status_code == 401
    assert script.get("/api/me").status_code == 401
    refused = site.client.post("/api/session", json={"username": "bob", "password": PASSWORD})
    assert refused.status_code == 422
    _post(root, "/admin/users/bob/reactivate")
    assert bob.get("/api/me").status_code == 401  # the old session stays ended
    assert script.get("/api/me").status_code == 200  # tokens work again: never revoked
    assert site.login("bob").get("/api/me").json()["username"] == "bob"
    with site.runtime.unit() as work:
        actions = {e.action for e in work.session.query(AuditEntry).filter_by(entity="user")}
    assert {"deactivated", "reactivated"} <= actions


def test_the_last_administrator_cannot_deactivate_themselves(site: Site):
    root = browser_login(site, "root")
    refused = _post(root, "/admin/users/root/deactivate")
    assert refused.status_code == 422
    assert "cannot deactivate yourself: the last active administrator" in refused.text
    assert root.get("/admin").status_code == 200


def test_a_reset_forgets_the_password_and_gives_a_one_time_link(site: Site):
    alice = site.login("alice")
    root = browser_login(site, "root")
    reset = _post(root, "/admin/users/alice/reset")
    assert reset.status_code == 200
    link = _link(reset.text)
    assert alice.get("/api/me").status_code == 401
    old = site.client.post("/api/session", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 422
    anonymous = TestClient(site.client.app)
    token = csrf_of(anonymous.get(link).text)
    assert anonymous.post(link, data={"new_password": NEW, "csrf_token": token}).status_code == 200
    assert anonymous.post("/api/session", json={"username": "alice", "password": NEW}).is_success


def test_a_customer_is_refused_an_agent_group_next_to_the_field(site: Site):
    root = browser_login(site, "root")
    refused = _post(root, "/admin/users/carol/groups", group="service-desk")
    assert refused.status_code == 422
    assert "carol is a customer and may not join service-desk" in refused.text
    assert 'class="field invalid"' in refused.text
    overview = _post(root, "/admin/members", username="carol", group="service-desk")
    assert overview.status_code == 422
    api = site.login("root").post("/api/groups/service-desk/members", json={"username": "carol"})
    assert api.status_code == 422 and "customer" in api.json()["errors"]["group"]
    added = _post(root, "/admin/users/sam/groups", group="service-desk", follow_redirects=True)
    assert added.status_code == 200 and "remove sam from service-desk" in added.text
    removed = _post(root, "/admin/users/sam/groups-remove", group="service-desk")
    assert "remove sam from service-desk" not in removed.text
    with site.runtime.unit() as work:
        entries = work.session.query(AuditEntry).filter_by(entity="membership")
        members = {e.after["user"] for e in entries if e.after}
    assert "carol" not in members


def test_only_administrators_reach_the_user_pages(site: Site):
    alice = browser_login(site, "alice")
    assert alice.get("/admin/users/bob").status_code == 403
    assert alice.get("/admin/users/new").status_code == 403
    token = csrf_of(alice.get("/account").text)
    for path in ("/admin/users/bob/deactivate", "/admin/users/bob/reset", "/admin/users/new"):
        assert alice.post(path, data={"csrf_token": token, "username": "x"}).status_code == 403
    carol = browser_login(site, "carol", "/portal")
    assert carol.get("/admin/users/bob").status_code in (403, 404)
    root = browser_login(site, "root")
    forged = root.post("/admin/users/bob/deactivate", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert root.get("/admin/users/nobody").status_code == 404
    assert site.login("bob").get("/api/me").status_code == 200
    assert TestClient(site.client.app).get("/password/forged-link").status_code == 404


def test_the_api_deactivates_and_reactivates_for_administrators_only(site: Site):
    bob = site.login("bob")
    secret = bob.post("/api/tokens", json={"name": "script"}).json()["token"]
    script = TestClient(site.client.app, headers={"Authorization": f"Bearer {secret}"})
    alice = site.login("alice")
    assert alice.post("/api/users/bob/active", json={"active": False}).status_code == 403
    root = site.login("root")
    plain = root.post("/api/tokens", json={"name": "no admin scope"}).json()["token"]
    no_admin = TestClient(site.client.app, headers={"Authorization": f"Bearer {plain}"})
    assert no_admin.post("/api/users/bob/active", json={"active": False}).status_code == 403
    assert root.post("/api/users/nobody/active", json={"active": False}).status_code == 404
    assert root.post("/api/users/bob/active", json={"active": "no"}).status_code == 422
    off = root.post("/api/users/bob/active", json={"active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert bob.get("/api/me").status_code == 401 and script.get("/api/me").status_code == 401
    last = root.post("/api/users/root/active", json={"active": False})
    assert (
        last.status_code == 422 and "last active administrator" in last.json()["errors"]["active"]
    )
    on = root.post("/api/users/bob/active", json={"active": True})
    assert on.json()["is_active"] is True and script.get("/api/me").status_code == 200


def test_the_overview_names_the_groups_and_lanes_of_each_case_type_s_roles(site: Site):
    page = browser_login(site, "root").get("/admin").text
    row = page[page.index("<td>SUPPORT</td>") :].split("</tr>")[0]
    assert "<strong>manager</strong>" in row and "service-desk" in row
    assert "<strong>task_user</strong>" in row and "specialists" in row
    assert "<strong>escalation</strong>" in row and "support-leads" in row


def test_a_deactivated_users_open_work_is_named_for_administrators(site: Site):
    _, number = portal_case(site, "carol", "Printer jams")
    alice = site.login("alice")
    assert alice.post(f"/api/cases/{number}/assignee", json={"to": "bob"}).status_code == 200
    root = browser_login(site, "root")
    _post(root, "/admin/users/bob/deactivate")
    page = root.get("/admin/users/bob")
    assert 'id="orphaned"' in page.text and "wait for someone else" in page.text
    assert f'href="/cases/{number}"' in page.text
    api = site.login("root").get("/api/users/bob/assignments")
    assert {"kind": "case", "case": number, "what": "Printer jams"} in api.json()
    again = alice.post(f"/api/cases/{number}/assignee", json={"to": None})
    assert again.status_code == 200
    assert "No open case or task is assigned to bob" in root.get("/admin/users/bob").text


def _role(site: Site, username: str, group: str) -> str | None:
    with site.runtime.unit() as work:
        found = work.session.execute(
            select(Membership.role)
            .join(User, User.id == Membership.user_id)
            .join(Group, Group.id == Membership.group_id)
            .where(User.username == username, Group.name == group)
        ).scalar_one_or_none()
    return found


def test_the_membership_forms_choose_member_or_lead_like_the_cli(site: Site):
    root = browser_login(site, "root")
    overview = root.get("/admin")
    assert '<select name="role" aria-label="role"><option value="member">member</option>' in (
        overview.text
    )
    _post(root, "/admin/members", username="sam", group="service-desk", role="lead")
    assert _role(site, "sam", "service-desk") == "lead"
    assert 'sam <span class="badge">lead</span>' in root.get("/admin").text
    _post(root, "/admin/members", username="sam", group="service-desk", role="member")
    assert _role(site, "sam", "service-desk") == "member"
    # the user's own page offers the same choice
    added = _post(root, "/admin/users/sam/groups", group="specialists", role="lead")
    assert added.status_code == 200 and _role(site, "sam", "specialists") == "lead"
    # a forged role is refused next to its field, and nothing changes
    forged = _post(root, "/admin/members", username="sam", group="service-desk", role="owner")
    assert forged.status_code == 422 and "must be one of member, lead" in forged.text
    _post(root, "/admin/users/sam/groups-remove", group="specialists")
    refused = _post(root, "/admin/users/sam/groups", group="specialists", role="admin")
    assert refused.status_code == 422 and "must be one of member, lead" in refused.text
    assert _role(site, "sam", "service-desk") == "member"
    assert _role(site, "sam", "specialists") is None
    # nobody else sets a role: an agent posting the form is refused
    alice = browser_login(site, "alice")
    token = csrf_of(alice.get("/").text)
    attempt = alice.post(
        "/admin/members",
        data={"csrf_token": token, "username": "alice", "group": "specialists", "role": "lead"},
    )
    assert attempt.status_code == 403 and _role(site, "alice", "specialists") != "lead"
