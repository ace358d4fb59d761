"""An independent set of Camunda Modeler 5 files (``tests/processes/modeler``: lanes,
forms, candidate groups, JUEL conditions, timer and message events, exclusive, parallel,
inclusive and event-based gateways, a call activity) runs end to end through ``run.py``
on SQLite and PostgreSQL: validate, deploy, open a case, complete every task, deliver
messages, let time pass with ``--clock``, and find the case closed with the variables
its path set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.runtime import Runtime
from people import directory
from rules.admin import permit_case_type
from tests.cli.test_run import Cli
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
MODELER = ROOT / "tests" / "processes" / "modeler"
PEOPLE = {
    "staff": ["emma"],
    "team-leads": ["tom"],
    "hr": ["hanna"],
    "purchasing": ["paul"],
    "finance": ["fiona"],
    "support": ["sue"],
    "support-leads": ["lars"],
    "warehouse": ["walt"],
    "accounts": ["amy"],
    "controlling": ["carl"],
    "sales": ["sam"],
    "legal": ["lea"],
}
T0 = "2026-03-02T09:00:00Z"  # a Monday


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    """A scratch database made by ``run.py init``, its people added directly (the
    directory's own commands have tests of their own; here they would only cost time)."""
    cli = Cli(db_url, tmp_path)
    cli("init")
    rt = Runtime(db_url)
    try:
        with rt.unit() as work:
            for group, members in PEOPLE.items():
                directory.add_group(work, name=group)
                for member in members:
                    directory.add_user(work, username=member)
                    directory.add_member(work, username=member, group=group)
    finally:
        rt.close()
    return cli


def permit(cli: Cli, key: str, *groups: str) -> None:
    """What ``run.py access permit GROUP --type KEY --write`` does, for each group."""
    rt = Runtime(cli.env["CASEWORK_DB"])
    try:
        with rt.unit() as work:
            for group in groups:
                permit_case_type(work, group=group, case_type=key, write=True)
    finally:
        rt.close()


def deploy(cli: Cli, name: str, key: str, *groups: str) -> None:
    path = MODELER / f"{name}.bpmn"
    checked = cli("validate", str(path))
    assert " error:" not in checked.stdout, checked.stdout
    cli("deploy", str(path))
    permit(cli, key, *groups)


def open_case(cli: Cli, key: str, user: str, data: dict[str, Any], *clock: str) -> str:
    opened = cli.json(*clock, "case", "open", "--type", key, "--subject", f"{key} case",
                      "--as", user, "--data", json.dumps(data))  # fmt: skip
    return str(opened["number"])


def complete(cli: Cli, user: str, name: str, data: dict[str, Any], *clock: str) -> None:
    """Complete the open task of that name in the user's list (exactly one)."""
    [task] = [t for t in cli.json(*clock, "task", "list", "--as", user) if t["name"] == name]
    cli(*clock, "task", "complete", str(task["id"]), "--as", user, "--data", json.dumps(data))


def names(cli: Cli, user: str) -> list[str]:
    return sorted(t["name"] for t in cli.json("task", "list", "--as", user))


def closed_with(cli: Cli, number: str, user: str, expected: dict[str, Any]) -> dict[str, Any]:
    shown = cli.json("case", "show", number, "--as", user)
    assert shown["status"] == "closed", shown["tasks"]
    assert {k: shown["data"].get(k) for k in expected} == expected
    assert [t["name"] for t in shown["tasks"] if t["state"] == "open"] == []
    return dict(shown)


def test_leave_request_lanes_enum_form_and_juel_gateway(cli: Cli):
    deploy(cli, "leave-request", "MODELER_LEAVE", "staff", "team-leads", "hr")
    asked = {"leave_type": "vacation", "days": 5, "first_day": "2026-04-01"}
    number = open_case(cli, "MODELER_LEAVE", "emma", asked)
    too_long = json.dumps({"approved": True, "comment": "x" * 201})
    refused = cli("task", "complete", "1", "--as", "tom", "--data", too_long, ok=False)
    assert refused.returncode != 0 and "comment" in refused.stderr
    complete(cli, "tom", "Approve leave", {"approved": True, "comment": "enjoy"})
    assert names(cli, "hanna") == ["Record the leave"]
    complete(cli, "hanna", "Record the leave", {"hr_reference": "HR-2026-17"})
    closed_with(cli, number, "tom", {"days": 5, "approved": True, "hr_reference": "HR-2026-17"})
    refused_case = open_case(cli, "MODELER_LEAVE", "emma", {"days": 2})
    complete(cli, "tom", "Approve leave", {"approved": False})
    closed_with(cli, refused_case, "tom", {"leave_type": "vacation", "approved": False})
    assert names(cli, "hanna") == []


def test_purchase_order_default_flow_and_parallel_branches(cli: Cli):
    deploy(cli, "purchase-order", "MODELER_PURCHASE", "purchasing", "finance")
    big = open_case(cli, "MODELER_PURCHASE", "paul", {"item": "Forklift", "amount": 24000})
    assert names(cli, "fiona") == ["Approve purchase"]
    complete(cli, "fiona", "Approve purchase", {"finance_ok": True})
    assert names(cli, "paul") == ["Place the order"] and names(cli, "fiona") == ["Reserve budget"]
    complete(cli, "fiona", "Reserve budget", {"budget_line": "CAPEX-7"})
    assert cli.json("case", "show", big, "--as", "paul")["status"] == "open"  # joins both
    complete(cli, "paul", "Place the order", {"supplier_ref": "SUP-1"})
    closed_with(cli, big, "paul", {"finance_ok": True, "budget_line": "CAPEX-7",
                                   "supplier_ref": "SUP-1"})  # fmt: skip
    small = open_case(cli, "MODELER_PURCHASE", "paul", {"item": "Pens", "amount": 12})
    assert names(cli, "fiona") == ["Reserve budget"]  # the default flow skips approval
    complete(cli, "fiona", "Reserve budget", {"budget_line": "OPEX-1"})
    complete(cli, "paul", "Place the order", {"supplier_ref": "SUP-2"})
    shown = closed_with(cli, small, "paul", {"amount": 12, "supplier_ref": "SUP-2"})
    assert "finance_ok" not in shown["data"]


def test_complaint_timer_boundaries_remind_then_escalate(cli: Cli):
    deploy(cli, "complaint", "MODELER_COMPLAINT", "support", "support-leads")
    number = open_case(cli, "MODELER_COMPLAINT", "sue", {"customer": "ACME"}, "--clock", T0)
    cli("--clock", "2026-03-03T08:59:00Z", "worker", "--once")
    assert names(cli, "lars") == []
    cli("--clock", "2026-03-03T09:01:00Z", "worker", "--once")  # 24 h: a reminder beside
    assert names(cli, "lars") == ["Remind the agent"]
    assert names(cli, "sue") == ["Answer the complaint"]
    complete(cli, "lars", "Remind the agent", {}, "--clock", "2026-03-03T10:00:00Z")
    cli("--clock", "2026-03-04T09:01:00Z", "worker", "--once")  # 48 h: taken away
    assert names(cli, "sue") == []
    complete(cli, "lars", "Handle escalated complaint", {"answer": "Refund", "goodwill": 50},
             "--clock", "2026-03-04T10:00:00Z")  # fmt: skip
    closed_with(cli, number, "sue", {"customer": "ACME", "answer": "Refund", "goodwill": 50})


def test_shipment_receive_task_then_event_gateway_by_message_or_timer(cli: Cli):
    deploy(cli, "shipment", "MODELER_SHIPMENT", "warehouse")
    delivered = open_case(cli, "MODELER_SHIPMENT", "walt", {"tracking_ref": "TR-1"}, "--clock", T0)
    early = cli("case", "message", delivered, "parcel_picked_up", "--as", "walt", ok=False)
    assert early.returncode == 5  # still packing: the case does not wait for it yet
    complete(cli, "walt", "Pack the parcel", {"weight_kg": 3}, "--clock", T0)
    cli("--clock", T0, "message", "parcel_picked_up", "--type", "MODELER_SHIPMENT",
        "--key", "TR-1", "--data", '{"carrier": "DHL"}', "--as", "walt")  # fmt: skip
    cli("--clock", "2026-03-03T09:00:00Z", "case", "message", delivered, "parcel_delivered",
        "--data", '{"signed_by": "J. Doe"}', "--as", "walt")  # fmt: skip
    closed_with(cli, delivered, "walt", {"weight_kg": 3, "carrier": "DHL", "signed_by": "J. Doe"})

    lost = open_case(cli, "MODELER_SHIPMENT", "walt", {"tracking_ref": "TR-2"}, "--clock", T0)
    complete(cli, "walt", "Pack the parcel", {"weight_kg": 9}, "--clock", T0)
    cli("--clock", T0, "case", "message", lost, "parcel_picked_up", "--as", "walt")
    cli("--clock", "2026-03-07T09:01:00Z", "worker", "--once")  # five days, no delivery
    late = cli("case", "message", lost, "parcel_delivered", "--as", "walt", ok=False)
    assert late.returncode == 5
    complete(cli, "walt", "Chase the carrier", {"carrier_answer": "lost"},
             "--clock", "2026-03-07T10:00:00Z")  # fmt: skip
    shown = closed_with(cli, lost, "walt", {"weight_kg": 9, "carrier_answer": "lost"})
    assert "signed_by" not in shown["data"]


def test_invoice_inclusive_gateway_initiator_and_message_boundary(cli: Cli):
    deploy(cli, "invoice-check", "MODELER_INVOICE", "accounts", "controlling")
    number = open_case(cli, "MODELER_INVOICE", "amy",
                       {"vendor": "Globex", "total": 25000, "new_vendor": True})  # fmt: skip
    complete(cli, "amy", "Check the invoice", {"invoice_ok": True})
    assert names(cli, "carl") == ["Approve large invoice", "Vet the new vendor"]
    complete(cli, "carl", "Approve large invoice", {"controller_ok": True})
    assert names(cli, "amy") == []  # the join waits for the vendor check
    complete(cli, "carl", "Vet the new vendor", {"vendor_vetted": True})
    complete(cli, "amy", "Pay the invoice", {"paid_on": "2026-03-10"})
    closed_with(cli, number, "amy", {"controller_ok": True, "vendor_vetted": True,
                                     "paid_on": "2026-03-10"})  # fmt: skip
    small = open_case(cli, "MODELER_INVOICE", "amy", {"vendor": "Initech", "total": 80})
    complete(cli, "amy", "Check the invoice", {"invoice_ok": True})
    assert names(cli, "carl") == []  # neither condition: the default flow
    complete(cli, "amy", "Pay the invoice", {"paid_on": "2026-03-11"})
    closed_with(cli, small, "amy", {"new_vendor": False, "paid_on": "2026-03-11"})
    withdrawn = open_case(cli, "MODELER_INVOICE", "amy", {"vendor": "Umbrella", "total": 5})
    cli("case", "message", withdrawn, "invoice_withdrawn", "--data", '{"why": "duplicate"}',
        "--as", "amy")  # fmt: skip
    shown = closed_with(cli, withdrawn, "amy", {"why": "duplicate"})
    assert "invoice_ok" not in shown["data"]


def sign_up_for_a_contract(cli: Cli) -> tuple[str, str]:
    """A contract whose terms legal accepts on the second review; its signature child."""
    cli("deploy", str(MODELER / "contract-signature.bpmn"))
    deploy(cli, "contract-review", "MODELER_CONTRACT", "sales", "legal")
    permit(cli, "MODELER_SIGNATURE", "legal")
    number = open_case(cli, "MODELER_CONTRACT", "sam",
                       {"contract_title": "NDA Acme", "contract_value": 1000})  # fmt: skip
    complete(cli, "lea", "Review terms", {"terms_ok": False, "review_note": "clause 4"})
    complete(cli, "sam", "Revise draft", {"contract_title": "NDA Acme v2"})
    complete(cli, "lea", "Review terms", {"terms_ok": True})
    [send] = cli.json("task", "list", "--as", "lea")
    assert send["name"] == "Send for signature"
    return number, str(send["case"])


def test_contract_call_activity_waits_for_the_signature_case(cli: Cli):
    number, child = sign_up_for_a_contract(cli)
    assert cli.json("case", "show", child, "--as", "lea")["data"]["contract_title"] == "NDA Acme v2"
    complete(cli, "lea", "Send for signature", {"envelope_id": "ENV-1"})
    assert cli.json("case", "show", number, "--as", "lea")["status"] == "open"
    cli("case", "message", child, "contract_signed", "--as", "lea")
    assert cli.json("case", "show", child, "--as", "lea")["status"] == "closed"
    closed_with(cli, number, "lea", {"terms_ok": True, "envelope_id": "ENV-1",
                                     "contract_title": "NDA Acme v2"})  # fmt: skip


def test_closing_the_called_case_by_hand_resumes_the_waiting_parent(cli: Cli):
    number, child = sign_up_for_a_contract(cli)
    complete(cli, "lea", "Send for signature", {"envelope_id": "ENV-2"})
    cli("case", "close", child, "--as", "lea", "--reason", "signed on paper")
    closed_with(cli, number, "lea", {"envelope_id": "ENV-2", "contract_title": "NDA Acme v2"})
