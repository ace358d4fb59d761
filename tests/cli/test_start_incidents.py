"""A timer start event whose case cannot open becomes an incident of the case type, seen
by its managers, retried once the process is fixed, with one line in the worker's log;
through ``run.py`` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime import Runtime
from people import directory
from tests.cli.test_run import Cli
from tests.conftest import PROCESSES

pytestmark = pytest.mark.integration
WEEKLY = PROCESSES / "examples" / "weekly_check.bpmn"
#: a gateway right after the start event reads a variable no timer-opened case has
GATEWAY = """<bpmn:exclusiveGateway id="Gateway_Due" name="Check due?" default="Flow_Skip">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_Check</bpmn:outgoing>
      <bpmn:outgoing>Flow_Skip</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_Weekly" targetRef="Gateway_Due" />
    <bpmn:sequenceFlow id="Flow_Check" sourceRef="Gateway_Due" targetRef="Task_Check">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">backups_enabled
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Skip" sourceRef="Gateway_Due" targetRef="End_Checked" />"""


def _weekly(folder: Path, *, broken: bool) -> Path:
    """The weekly check, due once on 2 March 2026 at 09:00; ``broken``: its first step
    fails."""
    folder.mkdir(exist_ok=True)
    text = WEEKLY.read_text().replace("timeCycle", "timeDate")
    text = text.replace("0 9 * * MON", "2026-03-02T09:00:00Z")
    if broken:
        text = text.replace(
            '<bpmn:sequenceFlow id="Flow_1" sourceRef="Start_Weekly" targetRef="Task_Check" />',
            GATEWAY,
        ).replace("<bpmn:incoming>Flow_2</bpmn:incoming>", "<bpmn:incoming>Flow_2</bpmn:incoming>"
                  "\n      <bpmn:incoming>Flow_Skip</bpmn:incoming>")  # fmt: skip
        text = text.replace(
            "<bpmn:incoming>Flow_1</bpmn:incoming>\n      <bpmn:outgoing>Flow_2",
            "<bpmn:incoming>Flow_Check</bpmn:incoming>\n      <bpmn:outgoing>Flow_2",
        )
    path = folder / "weekly_check.bpmn"
    path.write_text(text)
    (folder / "weekly_check.toml").write_text(WEEKLY.with_suffix(".toml").read_text())
    return path


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    cli = Cli(db_url, tmp_path)
    cli("init")
    rt = Runtime(db_url)
    try:
        with rt.unit() as work:
            for group, user in (("service-desk", "alice"), ("specialists", "sam")):
                directory.add_group(work, name=group)
                directory.add_user(work, username=user)
                directory.add_member(work, username=user, group=group)
    finally:
        rt.close()
    cli.env["CASEWORK_CLOCK"] = "2026-03-02T08:00:00Z"  # deployed before it is due
    return cli


def test_a_start_event_whose_case_cannot_open_is_an_incident_retried_after_the_fix(
    cli: Cli, tmp_path: Path
):
    cli("deploy", str(_weekly(tmp_path / "v1", broken=True)))
    cli.env["CASEWORK_CLOCK"] = "2026-03-02T09:01:00Z"
    first = cli("--json", "worker", "--once")
    log = [line for line in first.stderr.splitlines() if "timer start event" in line]
    assert len(log) == 1, first.stderr
    assert "WEEKLY: timer start event Start_Weekly due 2026-03-02 09:00 UTC" in log[0]
    assert "could not open its case: step 'Check due?' failed: NameError" in log[0]
    assert "incident 1 (fix the process, then: run.py incidents retry 1)" in log[0]
    again = cli("--json", "worker", "--once")  # not tried again on every tick
    assert "timer start event" not in again.stderr
    [incident] = cli.json("incidents", "list", "--as", "alice")
    assert (incident["case"], incident["case_type"], incident["element_id"]) == (
        None,
        "WEEKLY",
        "Start_Weekly",
    )
    assert incident["attempts"] == 1 and incident["action"] == "start_timer"
    assert "backups_enabled" in incident["reason"]
    assert cli.json("incidents", "list", "--as", "sam") == []  # not a manager of WEEKLY
    assert cli("incidents", "show", "1", "--as", "sam", ok=False).returncode == 3
    assert cli.json("case", "list", "--type", "WEEKLY", "--as", "alice") == []

    failed = cli("incidents", "retry", "1", "--as", "alice", ok=False)  # not fixed yet
    assert failed.returncode == 8
    first_line = failed.stderr.splitlines()[0]
    assert first_line.startswith("error: the process step 'Every Monday 09:00' failed: ")
    assert "NameError" in first_line and first_line.endswith("recorded as incident 1")
    assert cli.json("incidents", "show", "1", "--as", "alice")["attempts"] == 2

    cli.env["CASEWORK_CLOCK"] = "2026-03-02T10:00:00Z"
    cli("deploy", str(_weekly(tmp_path / "v2", broken=False)))
    retried = cli("incidents", "retry", "1", "--as", "alice")
    [case] = cli.json("case", "list", "--type", "WEEKLY", "--as", "alice")
    assert retried.stdout.strip() == f"incident 1 resolved: {case['number']} opened"
    assert case["subject"] == "Every Monday 09:00 2026-03-02 09:00 UTC"
    assert [t["name"] for t in cli.json("task", "list", "--as", "alice")] == ["Check the backups"]
    assert cli.json("incidents", "list", "--as", "alice") == []
    cli("--json", "worker", "--once")  # the due time is settled: no second case
    assert len(cli.json("case", "list", "--type", "WEEKLY", "--as", "alice")) == 1
