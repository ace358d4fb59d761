"""The inbox's doors over JSON: personal saved views (each user's own) and bulk actions
(each case on its own, refusals named; a case the caller may not see is "not found" and
stays as it was), through the same rules as the inbox page."""

from __future__ import annotations

from people import directory
from tests.web.conftest import PASSWORD, Site


def _open(site: Site, subject: str) -> str:
    carol = site.login("carol")
    answer = carol.post("/api/cases", json={"case_type": "SUPPORT", "subject": subject})
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


def test_personal_views_belong_to_their_owner(site: Site):
    alice, bob = site.login("alice"), site.login("bob")
    saved = alice.post("/api/views", json={"name": "Mine by priority", "show": "mine",
                                           "sort": "priority", "dir": "desc"})  # fmt: skip
    assert saved.status_code == 201, saved.text
    view = saved.json()
    assert view["params"] == {"show": "mine", "sort": "priority", "dir": "desc"}
    again = alice.post("/api/views", json={"name": "Mine by priority", "show": "all"})
    assert again.json()["id"] == view["id"] and again.json()["params"] == {"show": "all"}
    assert [v["name"] for v in alice.get("/api/views").json()] == ["Mine by priority"]
    assert bob.get("/api/views").json() == []
    assert bob.delete(f"/api/views/{view['id']}").status_code == 404
    assert alice.post("/api/views", json={"name": "x", "show": "everything"}).status_code == 422
    assert alice.post("/api/views", json={"name": "x", "view": "nope"}).status_code == 404
    assert site.login("carol").get("/api/views").status_code == 403  # customers: the portal
    assert alice.delete(f"/api/views/{view['id']}").json() == {"id": view["id"], "removed": True}
    assert alice.get("/api/views").json() == []


def test_bulk_names_each_refusal_and_changes_nothing_the_caller_may_not_see(site: Site):
    first, second = _open(site, "Printer jams"), _open(site, "Toner empty")
    with site.runtime.unit() as work:
        directory.add_user(work, username="outsider", password=PASSWORD)
    outsider = site.login("outsider")
    hidden = outsider.post(
        "/api/cases/bulk", json={"act": "priority", "value": "urgent", "cases": [first, second]}
    )
    assert hidden.status_code == 200
    assert hidden.json() == [
        {"case": first, "done": False, "reason": "not found", "kind": "not_found"},
        {"case": second, "done": False, "reason": "not found", "kind": "not_found"},
    ]
    alice = site.login("alice")
    assert {alice.get(f"/api/cases/{n}").json()["priority"] for n in (first, second)} == {"normal"}
    mixed = alice.post(
        "/api/cases/bulk",
        json={"act": "assign", "value": "bob", "cases": [first, "C-999999", second]},
    )
    assert [(r["case"], r["done"], r["reason"]) for r in mixed.json()] == [
        (first, True, None),
        ("C-999999", False, "not found"),
        (second, True, None),
    ]
    assert alice.get(f"/api/cases/{first}").json()["assignee"] == "bob"
    closing = alice.post("/api/cases/bulk", json={"act": "close", "cases": [first]})
    assert closing.json()[0]["kind"] == "conflict" and "open task" in closing.json()[0]["reason"]
    bad = alice.post("/api/cases/bulk", json={"act": "assign", "value": "ghost", "cases": [first]})
    assert bad.status_code == 422 and "ghost" in bad.json()["errors"]["value"]
    too_many = alice.post("/api/cases/bulk", json={"act": "close", "cases": ["C-1"] * 101})
    assert too_many.status_code == 422
    carol = site.login("carol")
    refused = carol.post("/api/cases/bulk", json={"act": "close", "cases": [first]})
    assert refused.status_code == 403
