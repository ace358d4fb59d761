"""Designer scenarios: the shipped ones pass, and a broken expectation names its step."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework.compose import scenario_runtimes
from casework.config import AppConfig
from designer.scenarios import ScenarioFailed, load_scenario, run_scenario, scenario_files
from engine.errors import DefinitionError
from tests.conftest import PROCESSES

#: Scenario runtimes wired as ``run.py test-process`` wires them.
WIRED = scenario_runtimes(AppConfig())


@pytest.mark.parametrize("path", scenario_files(PROCESSES), ids=lambda p: p.name)
def test_shipped_scenario(path: Path):
    lines: list[str] = []
    run_scenario(load_scenario(path), open_runtime=WIRED, report=lines.append)
    assert lines[0].startswith("start: case C-000001") and all(
        line.endswith(": ok") for line in lines[1:]
    ), lines


@pytest.mark.parametrize("path", scenario_files(PROCESSES / "examples"), ids=lambda p: p.name)
def test_example_scenario(path: Path):
    """Each message, signal, event-gateway and start-event example walked through."""
    lines: list[str] = []
    run_scenario(load_scenario(path), open_runtime=WIRED, report=lines.append)
    assert lines[0].startswith("start: case ") and all(
        line.endswith(": ok") for line in lines[1:]
    ), lines


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "support.try.scenario.toml"
    path.write_text(text)
    return path


def test_a_broken_expectation_names_the_step_and_expected_against_actual(tmp_path: Path):
    path = _write(
        tmp_path,
        """
[[step]]
complete = "Triage case"
group = "service-desk"
data = { needs_investigation = true }
[step.expect]
tasks = ["Propose resolution"]
""",
    )
    with pytest.raises(ScenarioFailed) as failed:
        run_scenario(load_scenario(path, PROCESSES / "support.bpmn"), open_runtime=WIRED)
    assert str(failed.value) == (
        "step 1 (complete Triage case): expected tasks ['Propose resolution'], got ['Investigate']"
    )


def test_an_action_nobody_may_take_fails_the_step(tmp_path: Path):
    path = _write(
        tmp_path,
        """
[[step]]
complete = "Triage case"
group = "specialists"
""",
    )
    with pytest.raises(ScenarioFailed) as failed:
        run_scenario(load_scenario(path, PROCESSES / "support.bpmn"), open_runtime=WIRED)
    assert failed.value.step == "step 1 (complete Triage case)"
    assert "refused: " in str(failed.value) and "may not act on task" in str(failed.value)


def test_a_malformed_scenario_is_refused_with_every_problem(tmp_path: Path):
    path = _write(
        tmp_path,
        """
[[step]]
complete = "Triage case"
advance = "PT1H"

[[step]]
advance = "soon"
[step.expect]
inbox = []
""",
    )
    with pytest.raises(DefinitionError) as refused:
        load_scenario(path)
    messages = [p.message for p in refused.value.problems]
    assert (
        "step 1: a step does one of complete, advance, message, signal (and may expect)" in messages
    )
    assert "step 2: advance 'soon' is not an ISO duration" in messages
    assert any(m.startswith("step 2: unknown expectation inbox") for m in messages), messages


DESK_WITH_SLA = """
[case_type]
key = "DESK"
prefix = "D"
[lanes]
"Customer" = "owner"
"Service desk" = "manager"
"Specialists" = "task_user"
"Escalation" = "escalation"
[roles]
manager = ["service-desk"]
task_user = ["specialists"]
escalation = ["support-leads"]

[sla.calendar]
timezone = "Europe/Berlin"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
warn_at = [0.75]
"""


def test_queued_mails_are_expected_by_group_or_address(tmp_path: Path):
    (tmp_path / "desk.bpmn").write_bytes((PROCESSES / "support.bpmn").read_bytes())
    (tmp_path / "desk.toml").write_text(DESK_WITH_SLA)
    path = tmp_path / "desk.sla.scenario.toml"
    path.write_text(
        """
[[step]]
advance = "PT1H1M"
[step.expect]
emails = [
    { to = "support-leads", subject = "SLA warning: 75 %" },
    { to = "support-leads-member@scenario.test", subject = "SLA breached: first response" },
]

[[step]]
[step.expect]
emails = 3
"""
    )
    scenario = load_scenario(path)
    assert scenario.process == tmp_path / "desk.bpmn"
    with pytest.raises(ScenarioFailed) as failed:
        run_scenario(scenario, open_runtime=WIRED)
    assert failed.value.step == "step 2"
    assert "expected emails '3 mail(s)', got ['to support-leads-member@scenario.test: " in str(
        failed.value
    )


def test_start_data_the_start_form_refuses_fails_the_start(tmp_path: Path):
    path = _write(tmp_path, '[start]\nsubject = ""\n')
    with pytest.raises(ScenarioFailed) as failed:
        run_scenario(load_scenario(path, PROCESSES / "support.bpmn"), open_runtime=WIRED)
    assert failed.value.step == "start"
    assert "the case cannot be opened: cannot open the case: subject: is required" in str(
        failed.value
    )
