"""Handing a task over, through the API and on the case page: reassign it to another of its
candidates, or delegate the task one holds; every refusal names its reason and changes
nothing, as at the command line (``task reassign`` / ``task delegate``)."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_api import my_task, open_case
from tests.web.test_pages import browser_login, csrf_of


def test_a_task_is_reassigned_and_delegated_between_its_candidates(site: Site):
    alice, bob = site.login("alice"), site.login("bob")
    number = open_case(site.login("carol"))["number"]
    triage = my_task(alice, number, "Triage case")
    assert alice.post(f"/api/tasks/{triage['id']}/claim").status_code == 200

    moved = alice.post(f"/api/tasks/{triage['id']}/reassign", json={"to": "bob"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["task"]["claimed_by"] == "bob"
    assert my_task(bob, number, "Triage case")["claimed_by"] == "bob"

    lent = bob.post(f"/api/tasks/{triage['id']}/delegate", json={"to": "alice"})
    assert lent.status_code == 200, lent.text
    assert lent.json()["task"]["claimed_by"] == "alice"
    back = alice.post(f"/api/tasks/{triage['id']}/release")
    assert back.json()["task"]["claimed_by"] == "bob"  # released: back to who delegated it
    history = alice.get(f"/api/cases/{number}").json()["history"]
    actions = [entry["action"] for entry in history if entry["entity"] == "task"]
    assert {"reassigned", "delegated"} <= set(actions)


def test_refusals_name_their_reason_and_change_nothing(site: Site):
    alice, bob = site.login("alice"), site.login("bob")
    number = open_case(site.login("carol"))["number"]
    triage = my_task(alice, number, "Triage case")
    assert alice.post(f"/api/tasks/{triage['id']}/claim").status_code == 200
    url = f"/api/tasks/{triage['id']}"

    not_a_candidate = alice.post(f"{url}/reassign", json={"to": "mona"})  # a monitor
    assert not_a_candidate.status_code == 403
    assert "mona may not act on task" in not_a_candidate.json()["detail"]
    assert "service-desk" in not_a_candidate.json()["detail"]  # says who it is for
    outsider = alice.post(f"{url}/reassign", json={"to": "sam"})
    assert outsider.status_code == 403 and "may not see its case" in outsider.json()["detail"]
    customer = alice.post(f"{url}/reassign", json={"to": "carol"})
    assert customer.status_code == 403
    not_held = bob.post(f"{url}/delegate", json={"to": "bob"})
    assert not_held.status_code == 403 and "claim it first" in not_held.json()["detail"]
    assert site.login("dave").post(f"{url}/reassign", json={"to": "bob"}).status_code == 404
    assert alice.post("/api/tasks/999999/reassign", json={"to": "bob"}).status_code == 404
    assert alice.post(f"{url}/reassign", json={"to": "nobody-here"}).status_code == 404
    assert alice.post(f"{url}/reassign", json={"to": ""}).status_code == 422
    assert alice.post(f"{url}/reassign", json={"to": "bob", "x": 1}).status_code == 422
    off = site.login("root").post("/api/users/bob/active", json={"active": False})
    assert off.status_code == 200
    deactivated = alice.post(f"{url}/reassign", json={"to": "bob"})
    assert deactivated.status_code == 422
    assert deactivated.json()["errors"]["to"] == "bob is deactivated: choose someone else"
    assert my_task(alice, number, "Triage case")["claimed_by"] == "alice"  # nothing changed


def test_the_case_page_hands_a_task_over_and_says_why_it_cannot(site: Site):
    alice = site.login("alice")
    number = open_case(site.login("carol"))["number"]
    triage = my_task(alice, number, "Triage case")
    browser = browser_login(site, "alice")
    page = browser.get(f"/cases/{number}").text
    assert f'action="/cases/tasks/{triage["id"]}/reassign"' in page
    assert f'formaction="/cases/tasks/{triage["id"]}/delegate"' not in page  # not held yet
    token = csrf_of(page)
    url = f"/cases/tasks/{triage['id']}"

    unknown = browser.post(f"{url}/reassign", data={"csrf_token": token, "to": "zed"})
    assert unknown.status_code == 422 and "nobody is called &#39;zed&#39;" in unknown.text
    monitor = browser.post(f"{url}/reassign", data={"csrf_token": token, "to": "mona"})
    assert monitor.status_code == 403
    assert "mona may not act on task" in monitor.text and 'aria-invalid="true"' in monitor.text
    assert monitor.text.count("mona may not act on task") == 1  # beside Hand to, only there
    forged = browser.post(f"{url}/reassign", data={"csrf_token": "forged", "to": "bob"})
    assert forged.status_code == 403
    assert my_task(alice, number, "Triage case")["claimed_by"] is None  # nothing changed

    moved = browser.post(
        f"{url}/reassign", data={"csrf_token": token, "to": "bob"}, follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"].endswith(f"#task-{triage['id']}")
    assert my_task(alice, number, "Triage case")["claimed_by"] == "bob"
    bobs = browser_login(site, "bob")
    held = bobs.get(f"/cases/{number}").text
    assert f'formaction="/cases/tasks/{triage["id"]}/delegate"' in held  # bob holds it now
    lent = bobs.post(
        f"{url}/delegate", data={"csrf_token": csrf_of(held), "to": "alice"}, follow_redirects=False
    )
    assert lent.status_code == 303
    assert my_task(alice, number, "Triage case")["claimed_by"] == "alice"
    portal = browser_login(site, "carol", "/portal").get(f"/portal/cases/{number}").text
    assert "/reassign" not in portal and "Hand to" not in portal


def test_an_administrator_hands_over_a_task_they_are_no_candidate_for(site: Site):
    """A task held by someone who left is given to a colleague by an administrator, who is
    not one of its candidates, on the case page as over the API."""
    alice = site.login("alice")
    number = open_case(site.login("carol"))["number"]
    triage = my_task(alice, number, "Triage case")
    assert alice.post(f"/api/tasks/{triage['id']}/claim").status_code == 200
    root = browser_login(site, "root")
    page = root.get(f"/cases/{number}").text
    assert f'action="/cases/tasks/{triage["id"]}/reassign"' in page
    moved = root.post(
        f"/cases/tasks/{triage['id']}/reassign",
        data={"csrf_token": csrf_of(page), "to": "bob"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert my_task(alice, number, "Triage case")["claimed_by"] == "bob"
