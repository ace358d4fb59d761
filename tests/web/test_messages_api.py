"""Messages and signals over HTTP: delivered to waiting cases, refused with 404 / 409 /
422 otherwise -- never dropped -- on both databases."""

from __future__ import annotations

from designer import deploy
from rules.admin import permit_case_type
from tests.conftest import PROCESSES
from tests.web.conftest import Site


def deploy_examples(site: Site) -> None:
    with site.runtime.unit() as work:
        for name in ("order", "question"):
            path = PROCESSES / "examples" / f"{name}.bpmn"
            deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
    with site.runtime.unit() as work:
        for key in ("ORDER", "QUESTION"):
            permit_case_type(work, group="service-desk", case_type=key, write=True)


def open_case(client, case_type: str, data: dict | None = None) -> str:
    answer = client.post(
        "/api/cases", json={"case_type": case_type, "subject": "Ten chairs", "data": data or {}}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


def complete_first(client, number: str) -> None:
    task = next(t for t in client.get("/api/tasks").json() if t["case"] == number)
    assert client.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 200


def test_a_message_reaches_the_case_that_waits_for_it_and_only_then(site: Site):
    deploy_examples(site)
    alice, sam = site.login("alice"), site.login("sam")
    number = open_case(alice, "ORDER", {"order_id": "4711"})
    early = alice.post(f"/api/cases/{number}/messages/payment_received", json={"data": {}})
    assert early.status_code == 409
    assert early.json()["detail"] == (
        f"case {number} does not wait for message 'payment_received'; it waits for message "
        "'customer_update' at 'Customer update'"
    )
    complete_first(alice, number)
    paid = alice.post(
        "/api/case-types/ORDER/messages/payment_received",
        json={"key": "4711", "data": {"amount": 120}},
    )
    assert paid.status_code == 200, paid.text
    assert paid.json() == {
        "case": number,
        "kind": "message",
        "name": "payment_received",
        "caught": ["Wait for payment"],
        "case_status": "open",
        "new_task_ids": [],
    }
    unknown = alice.post(
        "/api/case-types/ORDER/messages/goods_shipped", json={"key": "0000", "data": {}}
    )
    assert unknown.status_code == 404
    assert sam.post(f"/api/cases/{number}/messages/goods_shipped", json={}).status_code == 404
    assert alice.post("/api/cases/O-999999/messages/goods_shipped", json={}).status_code == 404
    assert alice.post(f"/api/cases/{number}/messages/bad%0Aname", json={}).status_code == 422
    assert alice.post(f"/api/cases/{number}/messages/{'x' * 201}", json={}).status_code == 422
    bad = alice.post(
        f"/api/cases/{number}/messages/goods_shipped", json={"data": {"case_number": "X"}}
    )
    assert bad.status_code == 422
    shipped = alice.post(f"/api/cases/{number}/messages/goods_shipped", json={})
    assert shipped.status_code == 200, shipped.text
    assert [t["name"] for t in alice.get("/api/tasks").json()] == ["Confirm delivery"]


def test_a_signal_reaches_every_waiting_case_of_its_type(site: Site):
    deploy_examples(site)
    alice = site.login("alice")
    waiting = [open_case(alice, "QUESTION") for _ in range(2)]
    for number in waiting:
        complete_first(alice, number)
    idle = open_case(alice, "QUESTION")
    answer = alice.post("/api/case-types/QUESTION/signals/outage_over", json={})
    assert answer.status_code == 200, answer.text
    assert [(r["case"], r["case_status"], r["error"]) for r in answer.json()] == [
        (waiting[0], "closed", None),
        (waiting[1], "closed", None),
    ]
    assert alice.get(f"/api/cases/{idle}").json()["status"] == "open"
    again = alice.post("/api/case-types/QUESTION/signals/outage_over", json={})
    assert again.status_code == 409
