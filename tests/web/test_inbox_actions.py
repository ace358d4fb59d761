"""The inbox's views, bulk actions and live refresh, through the HTML forms and the event
stream as a browser gets them, on SQLite and PostgreSQL; with the attacker's view: another
user's view, a hidden or forged case in a bulk request, a customer, a missing CSRF token."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from engine.run import cases
from engine.store.access import View, ViewGroup
from engine.store.models import Group, HumanTask
from tests.web.conftest import Site
from tests.web.test_inbox_pages import listed, portal_case
from tests.web.test_pages import browser_login, csrf_of
from web.pages import inbox_actions


def hide_from_alice(site: Site, number: str) -> None:
    """Restrict the case to bob: alice may no longer see it at all."""
    granted = site.login("root").post(
        f"/api/cases/{number}/grants",
        json={"users": [{"name": "bob", "level": "full"}], "groups": []},
    )
    assert granted.status_code in (200, 201), granted.text


def add_view(site: Site, name: str, group: str, filters: dict[str, str]) -> None:
    with site.runtime.unit() as work:
        view = View(name=name, case_types=["SUPPORT"], scopes=["open"], filters=filters)
        work.session.add(view)
        work.session.flush()
        group_id = work.session.query(Group.id).filter(Group.name == group).scalar()
        work.session.add(ViewGroup(view_id=view.id, group_id=group_id))


def test_role_views_are_tabs_and_a_personal_view_keeps_filter_and_sort(site: Site):
    urgent, normal = portal_case(site, "Urgent one"), portal_case(site, "Normal one")
    with site.runtime.unit() as work:
        cases.case_by_number(work, urgent).priority = "urgent"
    add_view(site, "Urgent support", "service-desk", {"priority": "urgent"})
    add_view(site, "Leads only", "support-leads", {})
    alice = browser_login(site, "alice")
    html = alice.get("/").text
    assert "Urgent support" in html and "Leads only" not in html  # offered to her role only
    assert listed(alice.get("/?view=Urgent+support").text) == [urgent]
    # a view offered to another role is "not found", as one that does not exist
    assert alice.get("/?view=Leads+only").status_code == 404
    assert alice.get("/?view=nothing").status_code == 404
    saved = alice.post(
        "/inbox/views",
        data={"csrf_token": csrf_of(html), "name": "Mine by key", "show": "all", "sort": "key"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/?show=all&sort=key"
    html = alice.get("/").text
    link = re.search(r'<a class="personal" href="([^"]+)">Mine by key</a>', html).group(1)
    assert listed(alice.get(link.replace("&amp;", "&")).text) == [urgent, normal]
    # saving a view naming a role view not offered to her is refused
    refused = alice.post(
        "/inbox/views",
        data={"csrf_token": csrf_of(html), "name": "Sneaky", "view": "Leads only"},
    )
    assert refused.status_code == 404 and "Sneaky" not in alice.get("/").text
    blank = alice.post("/inbox/views", data={"csrf_token": csrf_of(html), "name": "  "})
    assert blank.status_code == 422 and "name" in blank.text
    # bob neither sees nor deletes alice's view; without the CSRF token nothing happens
    view_id = re.search(r"/inbox/views/(\d+)/delete", html).group(1)
    bob = browser_login(site, "bob")
    assert "Mine by key" not in bob.get("/").text
    bob_csrf = csrf_of(bob.get("/").text)
    forged = bob.post(f"/inbox/views/{view_id}/delete", data={"csrf_token": bob_csrf})
    assert forged.status_code == 404
    assert alice.post(f"/inbox/views/{view_id}/delete", data={}).status_code == 403
    assert "Mine by key" in alice.get("/").text
    gone = alice.post(f"/inbox/views/{view_id}/delete", data={"csrf_token": csrf_of(html)})
    assert gone.status_code == 200 and "Mine by key" not in gone.text


def bulk(client, act: str, numbers: list[str], **fields: str):
    csrf = csrf_of(client.get("/").text)
    data = {"csrf_token": csrf, "act": act, **fields}
    return client.post("/inbox/bulk", data={**data, "case": numbers})


def test_bulk_actions_decide_each_case_and_name_each_refusal(site: Site):
    first, second, hidden = (portal_case(site, s) for s in ("One", "Two", "Three"))
    hide_from_alice(site, hidden)
    alice = browser_login(site, "alice")
    done = bulk(alice, "priority", [first, second, hidden, "C-999999"], priority="high")
    assert done.status_code == 200, done.text[-1500:]
    assert "2 of 4 done." in done.text
    assert f"<li>{hidden}: not found</li>" in done.text
    assert "<li>C-999999: not found</li>" in done.text
    assert "Three" not in done.text  # a hidden case's subject never shows
    with site.runtime.unit() as work:
        assert cases.case_by_number(work, first).priority == "high"
        assert cases.case_by_number(work, hidden).priority == "normal"
    assigned = bulk(alice, "assign", [first, second], to="bob")
    assert "2 of 2 done." in assigned.text
    assert re.findall(r"<td>bob</td>", alice.get("/").text) == ["<td>bob</td>"] * 2
    # closing: refused while tasks are open, each case named with the reason
    with site.runtime.unit() as work:
        case_id = cases.case_by_number(work, second).id
        for task in work.session.query(HumanTask).filter(HumanTask.case_id == case_id):
            task.state = "cancelled"
    closed = bulk(alice, "close", [first, second], outcome="solved")
    assert "1 of 2 done." in closed.text
    assert f"<li>{first}: 1 open task</li>" in closed.text
    with site.runtime.unit() as work:
        assert cases.case_by_number(work, second).status == "closed"
    # a monitor sees the cases but may not change them: each refusal says so
    mona = browser_login(site, "mona")
    refused = bulk(mona, "priority", [first], priority="low")
    assert "0 of 1 done." in refused.text
    assert re.search(rf"<li>{first}: you may not [^<]+</li>", refused.text)


def test_a_bulk_request_without_csrf_or_with_bad_input_changes_nothing(site: Site):
    number = portal_case(site, "Printer")
    alice = browser_login(site, "alice")
    unsigned = {"act": "priority", "priority": "low", "case": number}
    no_token = alice.post("/inbox/bulk", data=unsigned)
    assert no_token.status_code == 403
    assert bulk(alice, "priority", [number], priority="sky-high").status_code == 422
    assert bulk(alice, "assign", [number], to="nobody-here").status_code == 422
    assert bulk(alice, "drop", [number]).status_code == 422
    assert bulk(alice, "priority", [], priority="low").status_code == 422
    with site.runtime.unit() as work:
        assert cases.case_by_number(work, number).priority == "normal"
    carol = browser_login(site, "carol", "/portal")
    csrf = csrf_of(carol.get("/portal").text)
    answer = carol.post(
        "/inbox/bulk",
        data={"csrf_token": csrf, "act": "priority", "priority": "low", "case": number},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def events(client, since: str) -> list[dict[str, object]]:
    with client.stream("GET", "/inbox/events", params={"since": since}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        text = "".join(answer.iter_text())
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_actions, "STREAM_SECONDS", 0.0)


@pytest.mark.usefixtures("short_streams")
def test_the_live_refresh_names_only_cases_the_user_may_see(site: Site):
    alice = browser_login(site, "alice")
    since = re.search(r'data-since="([^"]+)"', alice.get("/").text).group(1)
    assert events(alice, since) == []  # nothing changed yet: no event
    site.clock.advance(timedelta(minutes=1))
    seen, hidden = portal_case(site, "Seen"), portal_case(site, "Hidden")
    hide_from_alice(site, hidden)
    [event] = events(alice, since)
    assert event == {"count": 1, "cases": [seen]}
    assert bob_sees_both(site, since) == {seen, hidden}
    # a customer, or nobody signed in, gets no stream at all
    carol = browser_login(site, "carol", "/portal")
    answer = carol.get("/inbox/events", params={"since": since}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    anonymous = site.client.get("/inbox/events", params={"since": since}, follow_redirects=False)
    assert anonymous.status_code == 303
    assert alice.get("/inbox/events", params={"since": "yesterday"}).status_code == 422


def bob_sees_both(site: Site, since: str) -> set[str]:
    [event] = events(browser_login(site, "bob"), since)
    return set(event["cases"])  # type: ignore[arg-type]
