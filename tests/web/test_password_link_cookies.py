"""The set-password page of an invitation or reset link keeps its form token in a cookie of
its own: a sign-in form open in another tab keeps working, the cookie is sent only to the
link's pages and is gone once the link is spent; a used or expired link says so plainly."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from people import user_access
from tests.web.conftest import PASSWORD, Site
from tests.web.test_pages import csrf_of

NEW = "tangerine submarine 48 orbits"


def _invite(site: Site, username: str) -> str:
    answer = site.login("root").post("/api/users/invite", json={"username": username})
    assert answer.status_code == 201, answer.text
    return urlsplit(answer.json()["link"]).path


def test_a_set_password_tab_and_a_sign_in_tab_both_work(site: Site):
    link = _invite(site, "nina")
    browser = TestClient(site.client.app)
    set_page = browser.get(link)  # first tab: the invitation
    sign_in_page = browser.get("/login")  # second tab: the sign-in form
    signed_in = browser.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(sign_in_page.text)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    spent = browser.post(
        link,
        data={"new_password": NEW, "csrf_token": csrf_of(set_page.text)},
        follow_redirects=False,
    )
    assert spent.status_code == 303, spent.text
    assert browser.get("/api/me").json()["username"] == "nina"
    # and the other way round: the link opened after the sign-in form
    other = TestClient(site.client.app)
    sign_in_page = other.get("/login")
    other.get(_invite(site, "otto"))
    again = other.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(sign_in_page.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303, again.text


def test_the_form_token_is_only_for_the_link_pages_and_gone_after_use(site: Site):
    link = _invite(site, "nina")
    browser = TestClient(site.client.app)
    page = browser.get(link)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("casework_password_csrf=")
    assert "Path=/password/" in cookie and "HttpOnly" in cookie and "Max-Age=" in cookie
    assert "casework_login_csrf" not in cookie
    done = browser.post(
        link, data={"new_password": NEW, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert 'casework_password_csrf=""' in done.headers["set-cookie"]
    assert "casework_password_csrf" not in browser.cookies
    used = browser.get(link)
    assert used.status_code == 404 and "was used already" in used.text
    assert "casework_password_csrf" not in browser.cookies


def test_a_used_or_expired_link_gives_a_clear_page(site: Site):
    link = _invite(site, "nina")
    browser = TestClient(site.client.app)
    token = csrf_of(browser.get(link).text)
    site.clock.advance(user_access.LINK_LIFETIME + timedelta(minutes=1))
    for answer in (
        browser.get(link),
        browser.post(link, data={"new_password": NEW, "csrf_token": token}),
        browser.post(link, data={}),
    ):
        assert answer.status_code == 404 and "This link has expired" in answer.text
        assert 'href="/login"' in answer.text
    assert "casework_password_csrf" not in browser.cookies  # dropped with the dead link
    stale = TestClient(site.client.app).post(link, data={"new_password": NEW})
    assert stale.status_code == 404 and "has expired" in stale.text
    for forged in ("/password/" + "x" * 5000, "/password/%C3%A9%00", "/password/..%2F.."):
        assert TestClient(site.client.app).get(forged).status_code == 404
