"""The agent's inbox, the case page's layout, the specialist's task page and the portal,
through their HTML as a browser gets them (server side; the browser journeys are in
``test_inbox_browser.py``)."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.run import cases
from engine.store.models import User
from tests.web.conftest import Site
from tests.web.test_pages import browser_login, csrf_of


def portal_case(site: Site, subject: str) -> str:
    answer = site.login("carol").post(
        "/api/cases", json={"case_type": "SUPPORT", "subject": subject}
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["number"]


def listed(html: str) -> list[str]:
    """The case numbers of the work list, in the order shown."""
    return re.findall(r'<tr data-href="/cases/([^"]+)">', html)


def count(html: str) -> int:
    return int(re.search(r'<h1>Inbox <span class="count">(\d+)</span>', html).group(1))


def test_the_inbox_sorts_by_any_column_both_ways(site: Site):
    low, urgent, high = (
        portal_case(site, "Banana"),
        portal_case(site, "Apple"),
        portal_case(site, "Cherry"),
    )
    for number, priority in ((low, "low"), (urgent, "urgent"), (high, "high")):
        with site.runtime.unit() as work:
            cases.case_by_number(work, number).priority = priority
    page = browser_login(site, "alice")
    by_priority = listed(page.get("/?sort=priority&dir=asc").text)
    assert by_priority == [urgent, high, low]
    assert listed(page.get("/?sort=priority&dir=desc").text) == [low, high, urgent]
    assert listed(page.get("/?sort=subject").text) == [urgent, low, high]  # Apple Banana Cherry
    assert listed(page.get("/?sort=key&dir=desc").text) == [high, urgent, low]
    html = page.get("/?sort=subject").text
    assert 'aria-sort="ascending"' in html and "Case type" in html and "Last activity" in html
    # an unknown sort or filter falls back to the defaults instead of failing
    assert page.get("/?sort=drop+table&show=everything").status_code == 200


def test_the_inbox_filters_mine_groups_unassigned_and_breached(site: Site):
    first, second = portal_case(site, "First"), portal_case(site, "Second")
    alice = browser_login(site, "alice")
    assert set(listed(alice.get("/?show=groups").text)) == {first, second}
    task = site.login("alice").get("/api/tasks?scope=groups").json()
    task_id = next(t["id"] for t in task if t["case"] == first)
    assert site.login("alice").post(f"/api/tasks/{task_id}/claim").status_code == 200
    assert listed(alice.get("/?show=mine").text) == [first]
    assert listed(alice.get("/?show=groups").text) == [second]
    with site.runtime.unit() as work:
        bob = work.session.query(User).filter(User.username == "bob").one()
        cases.case_by_number(work, second).assignee_id = bob.id
    assert listed(alice.get("/?show=unassigned").text) == [first]
    html = alice.get("/?show=all").text
    assert "bob" in html and "unassigned" in html
    assert listed(alice.get("/?show=breached").text) == []
    assert 'class="sla sla-ok"' in html and "left" in html
    site.clock.advance(timedelta(days=3))  # past the first response target; sessions ended
    late = browser_login(site, "alice").get("/?show=breached").text
    assert set(listed(late)) == {first, second}
    assert 'class="sla sla-breached"' in late
    assert count(late) == 2


def test_a_case_hidden_from_the_user_is_neither_listed_nor_counted(site: Site):
    seen, hidden = portal_case(site, "Seen"), portal_case(site, "Secret")
    root = site.login("root")
    granted = root.post(
        f"/api/cases/{hidden}/grants",
        json={"users": [{"name": "bob", "level": "full"}], "groups": []},
    )
    assert granted.status_code in (200, 201), granted.text
    alice, bob = browser_login(site, "alice"), browser_login(site, "bob")
    for show in ("all", "groups", "unassigned", "breached", "at_risk", "mine"):
        html = alice.get(f"/?show={show}").text
        assert hidden not in html and "Secret" not in html
    assert count(alice.get("/").text) == 1 and listed(alice.get("/").text) == [seen]
    assert count(bob.get("/").text) == 2
    site.clock.advance(timedelta(days=3))
    assert count(browser_login(site, "alice").get("/?show=breached").text) == 1


def test_the_inbox_pages_through_many_cases(site: Site):
    numbers = [portal_case(site, f"Case {i:02d}") for i in range(27)]
    alice = browser_login(site, "alice")
    first = alice.get("/?sort=key").text
    assert count(first) == 27 and "Page 1 of 2" in first and listed(first) == numbers[:25]
    second = alice.get("/?sort=key&page=2").text
    assert listed(second) == numbers[25:] and 'rel="prev"' in second
    assert 'src="/static/inbox.js"' in first
    assert "j / k" in first


def test_the_case_page_puts_the_task_first_folds_the_diagram_and_explains_close(site: Site):
    number = portal_case(site, "Printer jam")
    alice = browser_login(site, "alice")
    html = alice.get(f"/cases/{number}").text
    assert html.index('name="f_category"') < html.index("Service levels")
    assert '<details class="card diagram"' in html
    assert "Close: 1 open task." in html and f"/cases/{number}/close" not in html
    # not the case's manager: an internal note is the default (first button)
    buttons = re.findall(r'<button type="submit" name="internal" value="(true|false)"', html)
    assert buttons == ["true", "false"] and "Add internal note (agents only)" in html
    with site.runtime.unit() as work:
        me = work.session.query(User).filter(User.username == "alice").one()
        cases.case_by_number(work, number).assignee_id = me.id
    html = alice.get(f"/cases/{number}").text
    buttons = re.findall(r'<button type="submit" name="internal" value="(true|false)"', html)
    assert buttons == ["false", "true"] and "Send public reply (the customer sees it)" in html
    answer = alice.post(
        f"/cases/{number}/posts",
        data={"csrf_token": csrf_of(html), "body": "We are on it", "internal": "false"},
    )
    assert answer.status_code == 200
    assert "visibility-public" in answer.text and "We are on it" in answer.text
    carol = browser_login(site, "carol", "/portal")
    assert "We are on it" in carol.get(f"/portal/cases/{number}").text


def test_a_bad_task_form_keeps_what_was_typed_and_names_the_field(site: Site):
    number = portal_case(site, "Laptop broken")
    alice = browser_login(site, "alice")
    html = alice.get(f"/cases/{number}").text
    task_id = re.search(r"/cases/tasks/(\d+)/complete", html).group(1)
    bad = alice.post(
        f"/cases/tasks/{task_id}/complete",
        data={
            "csrf_token": csrf_of(html),
            "f_category": "nonsense",
            "f_needs_investigation": "false",
            "f_triage_note": "typed by hand",
        },
    )
    assert bad.status_code == 422 and "Category must be one of" in bad.text
    assert "typed by hand" in bad.text


def specialist_task(site: Site, subject: str) -> tuple[str, int]:
    """A case triaged to the specialists; answers its number and the Investigate task."""
    number = portal_case(site, subject)
    alice = site.login("alice")
    triage = next(t for t in alice.get("/api/tasks?scope=groups").json() if t["case"] == number)
    done = alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={"data": {"category": "hardware", "needs_investigation": True, "triage_note": "look"}},
    )
    assert done.status_code == 200, done.text
    task = next(t for t in site.login("sam").get("/api/tasks").json() if t["case"] == number)
    return number, task["id"]


def test_a_specialist_gets_a_focused_page_with_the_summary_and_their_form(site: Site):
    number, task_id = specialist_task(site, "Server noise")
    sam = browser_login(site, "sam")
    assert listed(sam.get("/?show=groups").text) == [number]  # as part of their task
    assert count(browser_login(site, "mona").get("/?show=groups").text) == 0
    opened = sam.get(f"/cases/{number}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/tasks/{task_id}"
    html = sam.get(f"/tasks/{task_id}").text
    assert "Server noise" in html and 'name="f_findings"' in html
    assert "Stream" not in html and "Claim" not in html and "History" not in html
    bad = sam.post(
        f"/tasks/{task_id}/complete",
        data={"csrf_token": csrf_of(html), "f_findings": "fan is loose", "f_hours_spent": "many"},
    )
    assert bad.status_code == 422 and "Hours spent must be a whole number" in bad.text
    assert "fan is loose" in bad.text
    good = sam.post(
        f"/tasks/{task_id}/complete",
        data={"csrf_token": csrf_of(html), "f_findings": "fan is loose", "f_hours_spent": "2"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert sam.get(f"/tasks/{task_id}").status_code == 404  # done: no longer theirs
    # someone else's task page is not found, like a missing one
    assert browser_login(site, "mona").get(f"/tasks/{task_id}").status_code == 404
    assert sam.get("/tasks/999999").status_code == 404


def test_the_portal_speaks_the_customer_s_language(site: Site):
    number = portal_case(site, "Printer jam")
    carol = browser_login(site, "carol", "/portal")
    listing = carol.get("/portal").text
    assert "We are working on it" in listing and ">open<" not in listing
    page = carol.get(f"/portal/cases/{number}").text
    assert "We are working on it" in page and "Claim" not in page
    assert "task " not in page.lower().replace("task-form", "")
    assert "needs_investigation" not in page and "priority" not in page.lower()
