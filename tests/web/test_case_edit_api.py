"""Editing a case over JSON: the status codes of the one decision (404 for a case one may not
see, 403 for a change one may not make), collaborators' access, cancel and reopen."""

from __future__ import annotations

from people import directory
from tests.web.conftest import PASSWORD, Site
from tests.web.test_api import open_case


def test_managers_edit_and_assign_others_get_403_or_404(site: Site):
    carol, dave, alice = site.login("carol"), site.login("dave"), site.login("alice")
    number = open_case(carol, "Printer jams")["number"]
    url = f"/api/cases/{number}"

    answer = alice.patch(url, json={"subject": "Printer on fire", "priority": "high"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["subject"], answer.json()["priority"]) == ("Printer on fire", "high")
    assert carol.patch(url, json={"priority": "urgent"}).status_code == 403  # the owner
    assert dave.patch(url, json={"priority": "urgent"}).status_code == 404  # not his case
    assert alice.patch(url, json={"priority": "asap"}).status_code == 422
    assert alice.patch(url, json={}).json()["errors"] == {
        "subject": "give a subject or a priority to change"
    }

    answer = alice.post(f"{url}/assignee", json={"to": "bob"})
    assert answer.status_code == 200 and answer.json()["assignee"] == "bob"
    assert carol.post(f"{url}/assignee", json={"to": "alice"}).status_code == 403
    assert dave.post(f"{url}/assignee", json={"to": "alice"}).status_code == 404
    assert alice.post(f"{url}/assignee", json={"to": "sam", "delegate": True}).status_code == 403
    bob = site.login("bob")
    answer = bob.post(f"{url}/assignee", json={"to": "sam", "delegate": True})
    assert answer.status_code == 200 and answer.json()["assignee"] == "sam"
    assert alice.post(f"{url}/assignee", json={"to": "ghost"}).status_code == 404
    history = [h for h in alice.get(url).json()["history"] if h["entity"] == "case"]
    assert [(h["action"], h["before"], h["after"]) for h in history][1:] == [
        ("edited", {"subject": "Printer jams", "priority": "normal"},
         {"subject": "Printer on fire", "priority": "high"}),
        ("reassigned", {"assignee": None}, {"assignee": "bob"}),
        ("delegated", {"assignee": "bob"}, {"assignee": "sam"}),
    ]  # fmt: skip


def test_collaborators_read_and_post_through_the_api_unless_their_level_is_no(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    with site.runtime.unit() as work:
        directory.add_user(work, username="nobody", password=PASSWORD)
    nobody = site.login("nobody")
    number = open_case(carol, "Printer jams")["number"]
    url = f"/api/cases/{number}"
    assert nobody.get(url).status_code == 404
    assert nobody.get("/api/cases").json() == []

    answer = alice.put(f"{url}/collaborators/nobody")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "number": number,
        "collaborators": ["carol", "nobody"],
        "changed": True,
    }
    assert alice.put(f"{url}/collaborators/nobody").json()["changed"] is False
    page = nobody.get(url).json()
    assert "post" in page["allowed"] and "edit" not in page["allowed"]
    assert [c["number"] for c in nobody.get("/api/cases").json()] == [number]
    assert nobody.post(f"{url}/posts", json={"body": "I can help"}).status_code == 201
    assert nobody.get(f"{url}/access").json()["decided_by"] == "collaborator"
    assert nobody.put(f"{url}/collaborators/bob").status_code == 403  # managers manage them
    assert alice.put(f"{url}/collaborators/dave").status_code == 422  # a portal customer

    alice.post("/api/cases/" + number + "/assignee", json={"to": "bob"})
    assert alice.delete(f"{url}/collaborators/bob").status_code == 409  # the assignee
    assert alice.delete(f"{url}/collaborators/nobody").json()["collaborators"] == ["bob", "carol"]
    assert nobody.get(url).status_code == 404


def test_cancel_and_reopen_and_close_with_an_outcome(site: Site):
    carol, alice = site.login("carol"), site.login("alice")
    number = open_case(carol, "Printer jams")["number"]
    url = f"/api/cases/{number}"
    assert alice.post(f"{url}/close", json={"outcome": "solved"}).status_code == 409  # tasks
    assert carol.post(f"{url}/cancel", json={}).status_code == 403
    answer = alice.post(f"{url}/cancel", json={"reason": "sent twice"})
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["outcome"]) == ("closed", "cancelled")
    assert all(t["case"] != number for t in alice.get("/api/tasks").json())  # withdrawn
    assert carol.post(f"{url}/reopen").status_code == 403
    answer = alice.post(f"{url}/reopen")
    assert answer.status_code == 200 and answer.json()["status"] == "open"
    assert alice.post(f"{url}/reopen").status_code == 409
    answer = alice.post(f"{url}/close", json={"outcome": "workaround"})
    assert answer.status_code == 200 and answer.json()["outcome"] == "workaround"
    actions = [h["action"] for h in alice.get(url).json()["history"] if h["entity"] == "case"]
    assert actions[-3:] == ["cancelled", "reopened", "closed"]


def test_a_case_one_may_not_see_answers_404_on_every_edit_route(site: Site):
    carol, dave = site.login("carol"), site.login("dave")
    number = open_case(carol, "Printer jams")["number"]
    url = f"/api/cases/{number}"
    calls = [
        ("patch", url, {"priority": "high"}),
        ("post", f"{url}/assignee", {"to": "dave"}),
        ("post", f"{url}/move", {"case_type": "SUPPORT"}),
        ("post", f"{url}/cancel", {}),
        ("post", f"{url}/reopen", None),
        ("get", f"{url}/collaborators", None),
        ("put", f"{url}/collaborators/dave", None),
        ("delete", f"{url}/collaborators/carol", None),
    ]
    for method, path, body in calls:
        seen = getattr(dave, method)(path, **({"json": body} if body is not None else {}))
        missing = getattr(dave, method)(
            path.replace(number, "C-999999"), **({"json": body} if body is not None else {})
        )
        assert seen.status_code == missing.status_code == 404, (method, path, seen.text)
        assert seen.json()["detail"].replace(number, "N") == missing.json()["detail"].replace(
            "C-999999", "N"
        )
