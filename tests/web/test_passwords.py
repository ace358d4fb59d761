"""Passwords: the policy wherever one is set, changing one's own, an administrator's reset,
and every session of the user ending with the old password."""

from __future__ import annotations

import re

import pytest

from engine.errors import InvalidInput
from people import directory, passwords
from tests.web.conftest import PASSWORD, Site
from tests.web.test_pages import browser_login, csrf_of

NEW = "tangerine submarine 48 orbits"


@pytest.mark.parametrize(
    ("weak", "why"),
    [
        ("x", "at least 12 characters"),
        ("password1234", "commonly used password"),
        ("aaaaaaaaaaaa", "too weak"),
        ("qwertyuiopas", "too weak"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(weak: str, why: str):
    problem = passwords.policy_problem(weak)
    assert problem is not None and why in problem
    with pytest.raises(InvalidInput) as refused:
        passwords.hash_new(weak, username="someone")
    assert why in refused.value.errors["password"]


def test_a_password_made_of_the_user_name_is_weak():
    assert passwords.policy_problem("carolinecaroline", ["carolinecaroline"]) is not None
    assert passwords.policy_problem(PASSWORD, ["carol"]) is None


def test_the_api_refuses_weak_passwords_and_stores_nothing(site: Site):
    root = site.login("root")
    weak = root.post("/api/users", json={"username": "eve", "password": "eve"})
    assert weak.status_code == 422 and "12 characters" in weak.json()["errors"]["password"]
    reset = root.post("/api/users/bob/password", json={"new_password": "password1234"})
    assert reset.status_code == 422 and "common" in reset.json()["errors"]["new_password"]
    with site.runtime.unit() as work:
        assert "eve" not in {u.username for u in directory.list_users(work)}
    assert site.login("bob")  # the old password still works


def test_changing_my_password_ends_my_other_sessions(site: Site):
    phone, laptop = site.login("alice"), site.login("alice")
    wrong = laptop.post(
        "/api/me/password", json={"current_password": "not it", "new_password": NEW}
    )
    assert wrong.status_code == 422 and "current_password" in wrong.json()["errors"]
    weak = laptop.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": "alice"}
    )
    assert weak.status_code == 422 and "new_password" in weak.json()["errors"]
    changed = laptop.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert changed.status_code == 200, changed.text
    laptop.headers["X-CSRF-Token"] = changed.json()["csrf_token"]  # a new session here ...
    assert laptop.get("/api/me").json()["username"] == "alice"
    assert laptop.post("/api/tokens", json={"name": "still works"}).status_code == 201
    assert phone.get("/api/me").status_code == 401  # ... and none anywhere else
    old = site.client.post("/api/session", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 422
    new = site.client.post("/api/session", json={"username": "alice", "password": NEW})
    assert new.status_code == 200


def test_an_administrator_resets_a_password_and_the_users_sessions_end(site: Site):
    bob, root = site.login("bob"), site.login("root")
    assert bob.post("/api/users/alice/password", json={"new_password": NEW}).status_code == 403
    reset = root.post("/api/users/bob/password", json={"new_password": NEW})
    assert reset.status_code == 200 and reset.json()["username"] == "bob"
    assert bob.get("/api/me").status_code == 401
    assert root.post("/api/users/nobody/password", json={"new_password": NEW}).status_code == 404
    signed = site.client.post("/api/session", json={"username": "bob", "password": NEW})
    assert signed.status_code == 200


def test_everyone_changes_their_password_on_the_account_page(site: Site):
    carol = browser_login(site, "carol", "/portal")
    page = carol.get("/account")
    assert page.status_code == 200 and 'href="/portal"' in page.text  # the portal's header
    token = csrf_of(page.text)
    weak = carol.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.text
    done = carol.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW},
    )
    assert done.status_code == 200 and "Password changed" in done.text  # after the redirect
    assert carol.get("/portal").status_code == 200  # this browser has the new session
    assert re.search(r'name="csrf_token" value="([^"]+)"', done.text).group(1) != token
