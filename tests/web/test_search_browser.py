"""Real headless Chromium: an agent and a customer search from the header of their pages,
and the bell counts unread notifications.  The customer's page never shows the agent's
internal note, whose words find nothing for her."""

from __future__ import annotations

import pytest

from tests.web.test_browser import (  # noqa: F401 - pytest fixtures
    browser,
    dialogs,
    open_in_portal,
    server,
    session,
    shot,
)

pytestmark = pytest.mark.integration


def test_search_from_the_header_with_the_visibility_of_each_user(browser, server, dialogs):  # noqa: F811
    carol = session(browser, server, "carol", dialogs, "/portal")
    number = open_in_portal(
        carol, server, "Scanner feeds crooked", "The scanner feeds paper crooked"
    )
    alice = session(browser, server, "alice", dialogs)
    alice.goto(f"{server}/cases/{number}")
    alice.fill("form.reply textarea[name=body]", "Scanner rollers worn, warranty expired")
    alice.click("form.reply button[value=true]")  # "Add internal note (agents only)"
    alice.fill("form.reply textarea[name=body]", "New scanner rollers are on the way")
    alice.click("form.reply button[value=false]")  # "Send public reply"

    alice.click("header a:has-text('Search')")
    alice.fill("#search-q", "scanner rollers")
    alice.click("form.search-page button[type=submit]")
    alice.wait_for_selector("#post-hits")
    found = alice.inner_text("#post-hits")
    assert "warranty expired" in found and "internal" in found
    assert "New scanner rollers are on the way" in found
    shot(alice, "search.png")

    carol.goto(f"{server}/portal")
    bell = carol.inner_text("header a.bell")
    assert "1" in bell  # one public post to tell her of; the internal note is not counted
    carol.click("header a:has-text('Search')")
    carol.fill("#search-q", "scanner rollers")
    carol.click("form.search-page button[type=submit]")
    carol.wait_for_selector("#post-hits")
    found = carol.inner_text("main")
    assert "New scanner rollers are on the way" in found
    assert "warranty" not in found and "internal" not in found
    carol.fill("#search-q", "warranty expired")
    carol.click("form.search-page button[type=submit]")
    assert "Nothing found" in carol.inner_text("main")
    carol.click("header a.bell")
    assert "New scanner rollers are on the way" in carol.inner_text("#notification-list")
    carol.click("button:has-text('Mark all read')")
    carol.wait_for_load_state()
    assert carol.query_selector("header a.bell .unread-count") is None
    assert dialogs == []
