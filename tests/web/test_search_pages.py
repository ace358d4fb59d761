"""The search and notification pages of agents and of the portal, as a browser posts and
reads them (session cookie, CSRF token in the form): the same visibility as the API."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of, portal_case
from tests.web.test_search_api import _post


def test_the_search_page_shows_hits_as_each_user_may_see_them(site: Site):
    carol, number = portal_case(site, "carol", "Webcam freezes", "The webcam freezes in calls")
    alice_api = site.login("alice")
    _post(alice_api, number, "Webcam driver blacklisted by security", internal=True)
    _post(alice_api, number, "Try the new webcam driver please")
    alice = browser_login(site, "alice")
    page = alice.get("/search", params={"q": "webcam driver"})
    assert page.status_code == 200
    assert "Webcam driver blacklisted by security" in page.text
    assert "Try the new webcam driver please" in page.text
    assert f'href="/cases/{number}"' in page.text

    mine = carol.get("/portal/search", params={"q": "webcam driver"})
    assert "Try the new webcam driver please" in mine.text
    assert "blacklisted" not in mine.text
    assert f'href="/portal/cases/{number}"' in mine.text
    none = carol.get("/portal/search", params={"q": "blacklisted security"})
    assert "Nothing found" in none.text
    bad = carol.get("/portal/search", params={"q": "?!"})
    assert bad.status_code == 200 and "give at least one word" in bad.text
    elsewhere = carol.get("/search", params={"q": "webcam"}, follow_redirects=False)
    assert elsewhere.status_code == 303  # customers search in the portal
    assert (
        browser_login(site, "sam").get("/search", params={"q": "webcam"}).text.count(number) == 0
    )  # sam may not read support cases


def test_the_bell_counts_unread_and_the_page_marks_them_read(site: Site):
    carol, number = portal_case(site, "carol", "Headset crackles")
    alice_api = site.login("alice")
    _post(alice_api, number, "Headset is on the recall list", internal=True)
    _post(alice_api, number, "A replacement headset is on its way")
    home = carol.get("/portal")
    assert 'class="unread-count">1<' in home.text  # the internal note is not counted
    page = carol.get("/portal/notifications")
    assert "A replacement headset is on its way" in page.text
    assert "recall" not in page.text
    done = carol.post(
        "/portal/notifications",
        data={"csrf_token": csrf_of(page.text), "id": "all"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "unread-count" not in carol.get("/portal").text
    forged = carol.post("/portal/notifications", data={"id": "all"}, follow_redirects=False)
    assert forged.status_code == 403  # no CSRF token: refused
    page = carol.get("/portal/notifications")
    chosen = carol.post(
        "/portal/notifications",
        data={"csrf_token": csrf_of(page.text), "mail": "digest"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert '<option value="digest" selected>' in carol.get("/portal/notifications").text
