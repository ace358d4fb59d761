"""API tokens as a script and its owner use them: families, scopes, expiry, the Tokens page."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from engine.store.credentials import ApiToken
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of


def script(site: Site, secret: str) -> TestClient:
    client = TestClient(site.client.app)
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def make(client: TestClient, name: str, **extra: object) -> dict:
    answer = client.post("/api/tokens", json={"name": name, **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_token_made_with_a_token_is_revoked_with_it(site: Site):
    alice = site.login("alice")
    parent = make(alice, "deploy")
    child = make(script(site, parent["token"]), "deploy: nightly")
    grandchild = make(script(site, child["token"]), "deploy: nightly: one run")
    assert (child["parent_id"], grandchild["parent_id"]) == (parent["id"], child["id"])
    assert child["expires_at"] == parent["expires_at"]  # never outlives its parent
    sibling = make(alice, "reports")
    revoked = alice.delete(f"/api/tokens/{parent['id']}")
    assert revoked.json() == {"revoked": [parent["id"], child["id"], grandchild["id"]]}
    for dead in (parent, child, grandchild):
        assert script(site, dead["token"]).get("/api/me").status_code == 401
    assert script(site, sibling["token"]).get("/api/me").status_code == 200
    states = {t["id"]: t["active"] for t in alice.get("/api/tokens").json()}
    assert states == {parent["id"]: False, child["id"]: False, grandchild["id"]: False,
                      sibling["id"]: True}  # fmt: skip


def test_a_child_fails_when_an_ancestor_is_revoked_even_if_it_was_not_marked(site: Site):
    alice = site.login("alice")
    parent = make(alice, "parent")
    child = make(script(site, parent["token"]), "child")
    with site.runtime.unit() as work:  # as a revocation racing the child's creation would
        work.session.execute(
            update(ApiToken).where(ApiToken.id == parent["id"]).values(revoked_at=work.now)
        )
    assert script(site, child["token"]).get("/api/me").status_code == 401


def test_a_child_never_gets_wider_scopes_or_a_later_expiry(site: Site):
    alice, root = site.login("alice"), site.login("root")
    parent = make(alice, "short", expires_in_days=10)
    robot = script(site, parent["token"])
    later = robot.post("/api/tokens", json={"name": "later", "expires_in_days": 30})
    assert later.status_code == 422 and "expires_in_days" in later.json()["errors"]
    assert robot.post("/api/tokens", json={"name": "x", "scopes": ["admin"]}).status_code == 403
    assert alice.post("/api/tokens", json={"name": "x", "scopes": ["admin"]}).status_code == 403
    reader = make(root, "reader", scopes=["read"])
    assert reader["scopes"] == ["read"]
    assert script(site, reader["token"]).post("/api/tokens", json={"name": "w"}).status_code == 403
    site.clock.advance(timedelta(days=10, seconds=1))
    assert robot.get("/api/me").status_code == 401  # expired


def test_a_read_only_token_reads_and_changes_nothing(site: Site):
    alice = site.login("alice")
    reader = script(site, make(alice, "dashboard", scopes=["read"])["token"])
    assert reader.get("/api/cases").status_code == 200
    refused = reader.post("/api/cases", json={"case_type": "SUPPORT", "subject": "x"})
    assert refused.status_code == 403 and "write scope" in refused.json()["detail"]
    assert alice.get("/api/cases").json() == []


def test_administrators_powers_need_the_admin_scope(site: Site):
    root = site.login("root")
    plain = script(site, make(root, "plain")["token"])
    assert plain.get("/api/me").json()["is_admin"] is False
    assert plain.post("/api/groups", json={"name": "robots"}).status_code == 403
    assert plain.get("/api/tokens", params={"everyone": "true"}).status_code == 403
    admin = script(site, make(root, "admin", scopes=["read", "write", "admin"])["token"])
    assert admin.post("/api/groups", json={"name": "robots"}).status_code == 201
    assert make(admin, "child")["scopes"] == ["read", "write", "admin"]  # the parent's
    assert make(plain, "child")["scopes"] == ["read", "write"]


def test_administrators_see_and_revoke_everyones_tokens_others_only_their_own(site: Site):
    alice, bob, root = site.login("alice"), site.login("bob"), site.login("root")
    mine = make(alice, "mine")
    assert [t["name"] for t in bob.get("/api/tokens").json()] == []
    assert bob.get("/api/tokens", params={"everyone": "true"}).status_code == 403
    assert bob.delete(f"/api/tokens/{mine['id']}").status_code == 404
    everyone = root.get("/api/tokens", params={"everyone": "true"}).json()
    assert [(t["user"], t["name"]) for t in everyone] == [("alice", "mine")]
    assert root.delete(f"/api/tokens/{mine['id']}").json() == {"revoked": [mine["id"]]}
    assert script(site, mine["token"]).get("/api/me").status_code == 401


def test_the_tokens_page_creates_shows_once_and_revokes(site: Site):
    alice = browser_login(site, "alice")
    page = alice.get("/tokens")
    assert page.status_code == 200 and "No tokens yet" in page.text
    made = alice.post(
        "/tokens",
        data={"csrf_token": csrf_of(page.text), "name": "laptop", "scope_write": "on", "days": "7"},
    )
    secret = re.search(r"<code class=\"secret\">(cw_[^<]+)</code>", made.text).group(1)
    assert script(site, secret).get("/api/me").json()["username"] == "alice"
    again = alice.get("/tokens")
    assert secret not in again.text and "laptop" in again.text and "read, write" in again.text
    token_id = re.search(r"/tokens/(\d+)/revoke", again.text).group(1)
    revoked = alice.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(again.text)})
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert script(site, secret).get("/api/me").status_code == 401
    bad = alice.post(
        "/tokens", data={"csrf_token": csrf_of(again.text), "name": "x", "days": "999"}
    )
    assert bad.status_code == 422 and "from 1 to 365 days" in bad.text
