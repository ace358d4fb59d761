"""BPMN constructs over the JSON API on SQLite and PostgreSQL: SLA timers, owner groups."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from designer import deploy
from engine.run import timers
from engine.store.outbox import OutboxMessage
from people import directory
from rules.admin import permit_case_type
from tests.conftest import PROCESSES, support_toml
from tests.web.conftest import Site
from tests.web.test_api import my_task, open_case

EXAMPLES = PROCESSES / "examples"


def test_an_sla_timer_breach_reaches_the_escalation_group_and_the_case(site: Site):
    with site.runtime.unit() as work:
        directory.add_group(work, name="desk")
        directory.add_group(work, name="desk-leads")
        directory.add_member(work, username="alice", group="desk")
        directory.user_by_name(work, "lee").email = "lee@example.test"
        directory.add_member(work, username="lee", group="desk-leads")
        path = EXAMPLES / "sla-timer.bpmn"
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
        permit_case_type(work, group="desk", case_type="EXAMPLE_SLA_TIMER", write=True)
    alice = site.login("alice")
    answer = alice.post("/api/cases", json={"case_type": "EXAMPLE_SLA_TIMER", "subject": "Jam"})
    assert answer.status_code == 201, answer.text
    number = answer.json()["number"]
    site.clock.advance(timedelta(hours=2, minutes=1))
    assert timers.sweep(site.runtime) == [number]
    shown = alice.get(f"/api/cases/{number}").json()
    assert sorted(t["name"] for t in shown["tasks"]) == ["Answer request", "Review overdue answer"]
    with site.runtime.unit() as work:
        sent = work.session.execute(select(OutboxMessage.kind, OutboxMessage.recipients)).all()
    assert [tuple(row) for row in sent] == [("breach", ["lee@example.test"])]


def test_a_member_of_an_owner_group_confirms_the_resolution(site: Site, tmp_path: Path):
    config = tmp_path / "support.toml"
    config.write_text(support_toml().replace("[roles]", '[roles]\nowner = ["support-monitors"]'))
    with site.runtime.unit() as work:
        path = PROCESSES / "support.bpmn"
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, config, "SUPPORT"))
    carol, alice, mona = site.login("carol"), site.login("alice"), site.login("mona")
    number = open_case(carol, "Screen flickers")["number"]
    triage = my_task(alice, number, "Triage case")
    alice.post(
        f"/api/tasks/{triage['id']}/complete",
        json={"data": {"category": "hardware", "needs_investigation": False}},
    )
    propose = my_task(alice, number, "Propose resolution")
    alice.post(f"/api/tasks/{propose['id']}/complete", json={"data": {"resolution": "Cable"}})
    confirm = my_task(mona, number, "Confirm resolution")  # mona is not the raiser
    assert set(confirm["candidates"]) == {"support-monitors", "owner"}
    assert my_task(carol, number, "Confirm resolution")["id"] == confirm["id"]
    outsider = site.login("sam").post(
        f"/api/tasks/{confirm['id']}/complete", json={"data": {"resolved": True}}
    )
    assert outsider.status_code == 404
    done = mona.post(f"/api/tasks/{confirm['id']}/complete", json={"data": {"resolved": True}})
    assert done.status_code == 200, done.text
    assert done.json()["case_status"] == "closed"


def test_each_approver_sees_and_completes_only_their_own_instance(site: Site):
    with site.runtime.unit() as work:
        for group, members in (("board", ["alice"]), ("finance", ["bob"])):
            directory.add_group(work, name=group)
            for name in members:
                directory.add_member(work, username=name, group=group)
        path = EXAMPLES / "approvals.bpmn"
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
        permit_case_type(work, group="board", case_type="EXAMPLE_APPROVALS", write=True)
    alice, bob = site.login("alice"), site.login("bob")
    answer = alice.post(
        "/api/cases",
        json={"case_type": "EXAMPLE_APPROVALS", "subject": "Desks",
              "data": {"approvers": ["alice", "bob"]}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    number = answer.json()["number"]
    mine, theirs = (
        my_task(alice, number, "Approve purchase"),
        my_task(bob, number, "Approve purchase"),
    )
    assert mine["id"] != theirs["id"]
    taken = alice.post(f"/api/tasks/{theirs['id']}/complete", json={"data": {"approved": True}})
    assert taken.status_code in (403, 404)
    for client, task in ((alice, mine), (bob, theirs)):
        done = client.post(f"/api/tasks/{task['id']}/complete", json={"data": {"approved": True}})
        assert done.status_code == 200, done.text
    assert [t["name"] for t in done.json()["open_tasks"]] == ["Sign order"]


def test_a_connector_service_task_decides_the_next_task(site: Site):
    with site.runtime.unit() as work:
        directory.add_group(work, name="desk")
        directory.add_member(work, username="alice", group="desk")
        path = EXAMPLES / "connector.bpmn"
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
        permit_case_type(work, group="desk", case_type="EXAMPLE_CONNECTOR", write=True)
    alice = site.login("alice")
    answer = alice.post(
        "/api/cases",
        json={"case_type": "EXAMPLE_CONNECTOR", "subject": "Refund",
              "data": {"account": "DE89370400440532013001"}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    number = answer.json()["number"]
    assert alice.get(f"/api/cases/{number}").json()["tasks"] == []
    timers.sweep(site.runtime)
    shown = alice.get(f"/api/cases/{number}").json()
    assert [t["name"] for t in shown["tasks"]] == ["Ask for a valid IBAN"]


def test_a_dmn_decision_sets_the_variable_the_gateway_reads(site: Site):
    with site.runtime.unit() as work:
        for group in ("accounting", "management"):
            directory.add_group(work, name=group)
        directory.add_member(work, username="alice", group="accounting")
        path = EXAMPLES / "decision.bpmn"
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
        permit_case_type(work, group="accounting", case_type="EXAMPLE_DECISION", write=True)
    alice = site.login("alice")
    answer = alice.post(
        "/api/cases",
        json={"case_type": "EXAMPLE_DECISION", "subject": "Ticket",
              "data": {"amount": 300, "category": "travel"}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    shown = alice.get(f"/api/cases/{answer.json()['number']}").json()
    assert [t["name"] for t in shown["tasks"]] == ["Approve in accounting"]
    assert shown["data"]["approver_group"] == "accounting"


def test_a_call_activity_child_case_is_linked_both_ways_and_feeds_the_parent(site: Site):
    with site.runtime.unit() as work:
        for group, member in (("hr", "alice"), ("it-desk", "bob")):
            directory.add_group(work, name=group)
            directory.add_member(work, username=member, group=group)
        for name in ("call-activity-child.bpmn", "call-activity.bpmn"):
            path = EXAMPLES / name
            deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
        permit_case_type(work, group="hr", case_type="EXAMPLE_ONBOARDING", write=True)
        permit_case_type(work, group="hr", case_type="EXAMPLE_EQUIPMENT")
        permit_case_type(work, group="it-desk", case_type="EXAMPLE_EQUIPMENT", write=True)
    alice, bob = site.login("alice"), site.login("bob")
    answer = alice.post(
        "/api/cases",
        json={"case_type": "EXAMPLE_ONBOARDING", "subject": "Jo", "data": {"employee": "Jo"}},
    )
    assert answer.status_code == 201, answer.text
    parent = answer.json()["number"]
    (child,) = [c["number"] for c in alice.get(f"/api/cases/{parent}").json()["related"]]
    assert parent in [c["number"] for c in alice.get(f"/api/cases/{child}").json()["related"]]
    handout = my_task(bob, child, "Hand out laptop")
    done = bob.post(f"/api/tasks/{handout['id']}/complete", json={"data": {"serial": "SN-9"}})
    assert done.status_code == 200, done.text
    shown = alice.get(f"/api/cases/{parent}").json()
    assert [t["name"] for t in shown["tasks"] if t["state"] == "open"] == ["Welcome the employee"]
    assert shown["data"]["laptop_serial"] == "SN-9"


def test_closing_a_called_child_case_over_the_api_resumes_its_parent(site: Site):
    modeler = PROCESSES.parent / "tests" / "processes" / "modeler"
    with site.runtime.unit() as work:
        for group, member in (("sales", "alice"), ("legal", "bob")):
            directory.add_group(work, name=group)
            directory.add_member(work, username=member, group=group)
        for name in ("contract-signature.bpmn", "contract-review.bpmn"):
            path = modeler / name
            deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))
        permit_case_type(work, group="sales", case_type="MODELER_CONTRACT", write=True)
        permit_case_type(work, group="legal", case_type="MODELER_CONTRACT", write=True)
        permit_case_type(work, group="legal", case_type="MODELER_SIGNATURE", write=True)
    alice, bob = site.login("alice"), site.login("bob")
    answer = alice.post(
        "/api/cases",
        json={"case_type": "MODELER_CONTRACT", "subject": "NDA",
              "data": {"contract_title": "NDA Acme"}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    parent = answer.json()["number"]
    review = my_task(bob, parent, "Review terms")
    bob.post(f"/api/tasks/{review['id']}/complete", json={"data": {"terms_ok": True}})
    (child,) = [c["number"] for c in bob.get(f"/api/cases/{parent}").json()["related"]]
    refused = bob.post(f"/api/cases/{child}/close", json={"reason": "paper"})
    assert refused.status_code == 409  # its task is open: close refuses, as always
    send = my_task(bob, child, "Send for signature")
    bob.post(f"/api/tasks/{send['id']}/complete", json={"data": {"envelope_id": "ENV-7"}})
    closed = bob.post(f"/api/cases/{child}/close", json={"reason": "signed on paper"})
    assert closed.status_code == 200, closed.text
    shown = bob.get(f"/api/cases/{parent}").json()
    assert shown["status"] == "closed"
    assert shown["data"]["envelope_id"] == "ENV-7" and shown["data"]["terms_ok"] is True
