"""Work held by a deactivated user is marked where agents see it (the case page, the inbox
rows, the case's tasks, the API) with the reassignment suggested, and no door gives a case
or a task to a deactivated user: the API, the case page's form and the bulk action."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import Site
from tests.web.test_api import my_task, open_case
from tests.web.test_pages import browser_login, csrf_of

MARK = 'bob <span class="deactivated">(deactivated)</span>'


def _bobs_case_then_bob_leaves(site: Site) -> tuple[TestClient, str]:
    """A case assigned to bob whose first task bob holds; then bob is deactivated."""
    alice, bob = site.login("alice"), site.login("bob")
    number = open_case(site.login("carol"), "Printer jams")["number"]
    assert alice.post(f"/api/cases/{number}/assignee", json={"to": "bob"}).status_code == 200
    triage = my_task(bob, number, "Triage case")
    assert bob.post(f"/api/tasks/{triage['id']}/claim").status_code == 200
    off = site.login("root").post("/api/users/bob/active", json={"active": False})
    assert off.status_code == 200
    return alice, number


def test_a_deactivated_assignee_is_marked_and_reassignment_suggested(site: Site):
    alice, number = _bobs_case_then_bob_leaves(site)
    browser = browser_login(site, "alice")
    page = browser.get(f"/cases/{number}").text
    assert f"assigned to {MARK}" in page
    assert f"held by {MARK}" in page
    notice = page[page.index('id="assignee-deactivated"') :].split("</p>")[0]
    assert "bob is deactivated" in notice and 'href="#assign-to"' in notice
    assert 'id="assign-to" name="to" list="agents" value=""' in page  # not bob again
    row = browser.get("/?show=all").text.split(f'data-href="/cases/{number}"')[1].split("</tr>")[0]
    assert MARK in row
    api = alice.get(f"/api/cases/{number}").json()
    assert api["assignee"] == "bob" and api["assignee_deactivated"] is True
    [held] = [t for t in api["tasks"] if t["state"] == "open"]
    assert held["claimed_by"] == "bob" and held["claimed_by_deactivated"] is True
    listed = [c for c in alice.get("/api/cases").json() if c["number"] == number]
    assert listed[0]["assignee_deactivated"] is True
    customer = site.login("carol").get(f"/api/cases/{number}").json()
    assert "assignee_deactivated" not in customer  # customers get no staff names at all
    assert (
        "deactivated"
        not in browser_login(site, "carol", "/portal").get(f"/portal/cases/{number}").text
    )
    assert alice.post(f"/api/cases/{number}/assignee", json={"to": "alice"}).status_code == 200
    again = browser.get(f"/cases/{number}").text
    assert "assigned to alice" in again and 'id="assignee-deactivated"' not in again


def test_no_door_gives_a_case_to_a_deactivated_user(site: Site):
    alice, number = _bobs_case_then_bob_leaves(site)
    assert alice.post(f"/api/cases/{number}/assignee", json={"to": None}).status_code == 200
    api = alice.post(f"/api/cases/{number}/assignee", json={"to": "bob"})
    assert api.status_code == 422
    assert api.json()["errors"]["to"] == "bob is deactivated: choose someone else"
    browser = browser_login(site, "alice")
    token = csrf_of(browser.get(f"/cases/{number}").text)
    form = browser.post(f"/cases/{number}/assign", data={"csrf_token": token, "to": "bob"})
    assert form.status_code == 422 and "bob is deactivated: choose someone else" in form.text
    bulk = alice.post("/api/cases/bulk", json={"act": "assign", "value": "bob", "cases": [number]})
    assert bulk.status_code == 422
    assert bulk.json()["errors"]["value"] == "bob is deactivated: choose someone else"
    inbox = browser.post(
        "/inbox/bulk", data={"csrf_token": token, "act": "assign", "to": "bob", "case": number}
    )
    assert inbox.status_code == 422 and "bob is deactivated" in inbox.text
    assert alice.get(f"/api/cases/{number}").json()["assignee"] is None  # nothing changed
