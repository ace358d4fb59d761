"""Inviting a user into groups at once: the web form's group picker (member or lead per
group), the API's ``leads`` beside ``groups``; a group that does not exist, or a role that
is not one, is named beside the picker and nobody is created."""

from __future__ import annotations

import html

from sqlalchemy import select

from engine.store.models import Group, Membership, User
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of


def _roles(site: Site, username: str) -> dict[str, str]:
    with site.runtime.unit() as work:
        rows = work.session.execute(
            select(Group.name, Membership.role)
            .join(Membership, Membership.group_id == Group.id)
            .join(User, User.id == Membership.user_id)
            .where(User.username == username)
        )
        return dict(rows.tuples().all())


def _exists(site: Site, username: str) -> bool:
    with site.runtime.unit() as work:
        return work.session.scalar(select(User.id).where(User.username == username)) is not None


def test_the_invite_form_puts_the_user_in_the_groups_picked_with_their_roles(site: Site):
    root = browser_login(site, "root")
    form = root.get("/admin/users/new")
    assert 'name="role:service-desk"' in form.text and 'name="role:support-leads"' in form.text
    invited = root.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_of(form.text),
            "username": "nina",
            "role:service-desk": "member",
            "role:support-leads": "lead",
            "role:specialists": "",
        },
    )
    assert invited.status_code == 200 and "nina is invited" in invited.text
    assert _roles(site, "nina") == {"service-desk": "member", "support-leads": "lead"}
    user_page = root.get("/admin/users/nina").text
    assert "remove nina from service-desk" in user_page


def test_an_unknown_group_or_role_is_named_beside_the_picker_and_creates_nobody(site: Site):
    root = browser_login(site, "root")
    token = csrf_of(root.get("/admin/users/new").text)
    for field, role, problem in (
        ("role:service-desk", "boss", "'boss' is not a role: member or lead"),
        ("role:ghosts", "member", "no group 'ghosts'"),
    ):
        refused = root.post(
            "/admin/users/new",
            data={"csrf_token": token, "username": "otto", "display_name": "Otto", field: role},
        )
        assert refused.status_code == 422, refused.text
        picker = html.unescape(refused.text[refused.text.index('id="invite-groups"') :])
        assert problem in picker.split("</fieldset>")[0]
        assert 'value="Otto"' in refused.text  # what was typed stays
        assert not _exists(site, "otto")


def test_the_api_and_the_picker_share_one_rule_for_leads(site: Site):
    root = site.login("root")
    answer = root.post(
        "/api/users/invite",
        json={"username": "pia", "groups": ["specialists"], "leads": ["support-leads"]},
    )
    assert answer.status_code == 201, answer.text
    assert _roles(site, "pia") == {"specialists": "member", "support-leads": "lead"}
    both = root.post(
        "/api/users/invite",
        json={"username": "quin", "groups": ["specialists"], "leads": ["specialists"]},
    )
    assert both.status_code == 201 and _roles(site, "quin") == {"specialists": "lead"}
    unknown = root.post("/api/users/invite", json={"username": "rhea", "leads": ["ghosts"]})
    assert unknown.status_code == 404 and not _exists(site, "rhea")
    alice = site.login("alice")
    refused = alice.post("/api/users/invite", json={"username": "sol", "leads": ["specialists"]})
    assert refused.status_code == 403 and not _exists(site, "sol")


def test_a_forged_role_from_someone_not_an_administrator_is_refused_as_forbidden(site: Site):
    alice = browser_login(site, "alice")
    token = csrf_of(alice.get("/account").text)
    forged = alice.post(
        "/admin/users/new",
        data={"csrf_token": token, "username": "otto", "role:service-desk": "boss"},
    )
    assert forged.status_code == 403 and 'id="invite-groups"' not in forged.text
    assert not _exists(site, "otto")
