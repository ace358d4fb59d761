"""BPMN constructs through ``run.py`` on SQLite and PostgreSQL: SLA timers, owner groups,
and the rehearsal clock that lets a test run a command "two hours later"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_run import Cli
from tests.conftest import PROCESSES

pytestmark = pytest.mark.integration
EXAMPLES = PROCESSES / "examples"


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    cli = Cli(db_url, tmp_path)
    cli.env["CASEWORK_MAILDIR"] = str(tmp_path / "maildir")
    cli("init")
    return cli


def people(cli: Cli, groups: dict[str, list[str]]) -> None:
    for group, members in groups.items():
        cli("group", "add", group)
        for member in members:
            cli("user", "add", member, "--email", f"{member}@example.test")
            cli("member", "add", member, group)


def test_an_sla_timer_mails_the_breach_when_the_worker_runs_two_hours_later(cli: Cli):
    people(cli, {"desk": ["ann"], "desk-leads": ["lee"]})
    cli("deploy", str(EXAMPLES / "sla-timer.bpmn"))
    cli("access", "permit", "desk", "--type", "EXAMPLE_SLA_TIMER", "--write")
    monday = ("--clock", "2026-03-02T09:00:00Z")
    opened = cli.json(*monday, "case", "open", "--type", "EXAMPLE_SLA_TIMER", "--subject", "Jam",
                      "--as", "ann")  # fmt: skip
    cli("--clock", "2026-03-02T10:59:00Z", "worker", "--once")
    assert cli.json("outbox", "list") == []
    cli("--clock", "2026-03-02T11:01:00Z", "worker", "--once")
    sent = cli.json("outbox", "list")
    assert [(m["kind"], m["to"], m["subject"]) for m in sent] == [
        ("breach", ["lee@example.test"], f"[{opened['number']}] SLA breached: answer target – Jam")
    ]
    shown = cli.json("case", "show", opened["number"], "--as", "ann")
    assert sorted(t["name"] for t in shown["tasks"]) == ["Answer request", "Review overdue answer"]
    cli("--clock", "2026-03-02T15:00:00Z", "worker", "--once")
    assert len(cli.json("outbox", "list")) == 1  # once, however often the worker runs


def test_the_clock_option_is_refused_in_production_and_without_a_zone(cli: Cli):
    cli.env["CASEWORK_PRODUCTION"] = "1"
    refused = cli("--clock", "2026-03-02T09:00:00Z", "worker", "--once", ok=False)
    assert refused.returncode == 6
    assert refused.stderr.startswith("error: --clock is refused in production")
    cli.env["CASEWORK_CLOCK"] = "2026-03-02T09:00:00Z"
    assert cli("worker", "--once", ok=False).stderr.startswith(
        "error: CASEWORK_CLOCK is refused in production"
    )
    del cli.env["CASEWORK_PRODUCTION"], cli.env["CASEWORK_CLOCK"]
    naive = cli("--clock", "2026-03-02 09:00", "worker", "--once", ok=False)
    assert naive.returncode == 6 and "with its zone" in naive.stderr


def test_a_member_of_an_owner_group_confirms_for_the_raiser(cli: Cli):
    people(cli, {"purchasing": ["pia"], "requesters": ["rita", "rob"], "others": ["otto"]})
    cli("deploy", str(EXAMPLES / "owner-groups.bpmn"))
    cli("access", "permit", "requesters", "--type", "EXAMPLE_OWNER_GROUPS", "--write")
    cli("access", "permit", "purchasing", "--type", "EXAMPLE_OWNER_GROUPS", "--write")
    opened = cli.json("case", "open", "--type", "EXAMPLE_OWNER_GROUPS", "--subject", "Monitors",
                      "--as", "rita")  # fmt: skip
    (order,) = cli.json("task", "list", "--as", "pia")
    cli("task", "complete", str(order["id"]), "--as", "pia", "--data", '{"supplier": "Acme"}')
    (confirm,) = cli.json("task", "list", "--as", "rob")  # not the raiser: his team's task
    assert (confirm["name"], confirm["candidates"]) == ("Confirm delivery", ["requesters", "owner"])
    assert cli.json("task", "list", "--as", "otto") == []
    assert cli("task", "complete", str(confirm["id"]), "--as", "otto", ok=False).returncode == 3
    cli("task", "complete", str(confirm["id"]), "--as", "rob", "--data", '{"received": true}')
    assert cli.json("case", "show", opened["number"], "--as", "rita")["status"] == "closed"


def test_each_approver_completes_their_own_instance_on_the_command_line(cli: Cli):
    people(cli, {"board": ["bea", "ben"], "finance": ["fay"]})
    cli("deploy", str(EXAMPLES / "approvals.bpmn"))
    cli("access", "permit", "board", "--type", "EXAMPLE_APPROVALS", "--write")
    cli("case", "open", "--type", "EXAMPLE_APPROVALS", "--subject", "Laptops", "--as", "ben",
        "--data", '{"approvers": ["bea", "fay"]}')  # fmt: skip
    assert cli.json("task", "list", "--as", "ben") == []
    (bea_task,) = cli.json("task", "list", "--as", "bea")
    (fay_task,) = cli.json("task", "list", "--as", "fay")
    assert bea_task["id"] != fay_task["id"]
    stolen = cli("task", "complete", str(fay_task["id"]), "--as", "bea", "--data",
                 '{"approved": true}', ok=False)  # fmt: skip
    assert stolen.returncode in (3, 4)
    for name, task in (("bea", bea_task), ("fay", fay_task)):
        cli("task", "complete", str(task["id"]), "--as", name, "--data", '{"approved": true}')
    assert [t["name"] for t in cli.json("task", "list", "--as", "bea")] == ["Sign order"]


def test_the_worker_runs_a_connector_service_task(cli: Cli):
    people(cli, {"desk": ["dee"]})
    cli("deploy", str(EXAMPLES / "connector.bpmn"))
    cli("access", "permit", "desk", "--type", "EXAMPLE_CONNECTOR", "--write")
    opened = cli.json("case", "open", "--type", "EXAMPLE_CONNECTOR", "--subject", "Refund",
                      "--as", "dee", "--data", '{"account": "DE89370400440532013000"}')  # fmt: skip
    assert cli.json("task", "list", "--as", "dee") == []  # the check runs on the worker
    cli("worker", "--once")
    shown = cli.json("case", "show", opened["number"], "--as", "dee")
    assert [t["name"] for t in shown["tasks"]] == ["Pay out"]
    assert shown["data"]["iban"] == "DE89 3704 0044 0532 0130 00"


def test_a_dmn_table_deployed_beside_the_process_routes_the_case(cli: Cli):
    people(cli, {"accounting": ["ada"], "management": ["max"]})
    deployed = cli.json("deploy", str(EXAMPLES / "decision.bpmn"))
    assert deployed["version"] == 1
    cli("access", "permit", "accounting", "--type", "EXAMPLE_DECISION", "--write")
    cli("case", "open", "--type", "EXAMPLE_DECISION", "--subject", "Chairs", "--as", "ada",
        "--data", '{"amount": 5000, "category": "misc"}')  # fmt: skip
    assert [t["name"] for t in cli.json("task", "list", "--as", "max")] == ["Approve as management"]
    assert cli.json("task", "list", "--as", "ada") == []


def test_a_call_activity_opens_a_linked_child_case_and_the_parent_waits(cli: Cli):
    people(cli, {"hr": ["hana"], "it-desk": ["ivan"]})
    cli("deploy", str(EXAMPLES / "call-activity-child.bpmn"))
    cli("deploy", str(EXAMPLES / "call-activity.bpmn"))
    cli("access", "permit", "hr", "--type", "EXAMPLE_ONBOARDING", "--write")
    cli("access", "permit", "it-desk", "--type", "EXAMPLE_EQUIPMENT", "--write")
    parent = cli.json("case", "open", "--type", "EXAMPLE_ONBOARDING", "--subject", "Jo",
                      "--as", "hana", "--data", '{"employee": "Jo"}')["number"]  # fmt: skip
    (handout,) = cli.json("task", "list", "--as", "ivan")
    child = handout["case"]
    assert [c["number"] for c in cli.json("case", "show", child, "--as", "ivan")["related"]] == []
    assert parent in {
        c["number"] for c in cli.json("case", "show", child, "--as", "hana")["related"]
    }
    cli("task", "complete", str(handout["id"]), "--as", "ivan", "--data", '{"serial": "SN-7"}')
    shown = cli.json("case", "show", parent, "--as", "hana")
    assert [t["name"] for t in shown["tasks"] if t["state"] == "open"] == ["Welcome the employee"]
    assert shown["data"]["laptop_serial"] == "SN-7"
    assert child in {c["number"] for c in shown["related"]}


@pytest.mark.parametrize(
    "process",
    sorted(p for p in EXAMPLES.glob("*.bpmn") if not p.stem.endswith("-child")),
    ids=lambda p: p.stem,
)
def test_every_example_process_plays_its_scenarios_through_the_command_line(
    process: Path, tmp_path: Path
):
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)  # each run is a scratch database
    named = [*EXAMPLES.glob(f"{process.stem}.scenario.toml")]
    named += EXAMPLES.glob(f"{process.stem}.*.scenario.toml")
    scenarios = sorted(str(p) for p in named)
    assert scenarios, f"{process.name} has no scenario"
    result = cli("test-process", str(process), *scenarios)
    assert result.stdout.count("  passed") == len(scenarios), result.stdout
