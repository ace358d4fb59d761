"""What validate says about lanes, scripts, timers and elements Casework would not run.

Files are laid out as Camunda Modeler saves them, so each expected line number is the
line a designer's editor jumps to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions.config import CaseTypeConfig
from tests.cli.test_run import Cli
from tests.engine.definitions.test_definitions import CONFIG, bpmn, task
from tests.engine.definitions.test_designer_validation import report

SCRIPTED = CaseTypeConfig(**{**CONFIG.__dict__, "scripts_enabled": True})


def test_a_lane_listing_a_deleted_element_is_reported_on_the_reference_line():
    lanes = """<bpmn:laneSet id="ls">
      <bpmn:lane id="lane_desk" name="Desk">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>work</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_Deleted</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>"""
    found = [p for p in report(bpmn(task(), lanes)) if ": error: " in p]
    assert found == [
        "t.bpmn:10:9: error: lane_desk: lane 'Desk' lists 'Task_Deleted', which is not an "
        "element of this process (left behind when an element was deleted): remove this "
        "flowNodeRef, or move any element of the lane in the modeler and save again"
    ]


def test_a_script_error_points_at_the_file_line_of_the_script_line():
    body = """<bpmn:scriptTask id="calc" name="Calculate" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>total = 1
doubled = total * 2
import os</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end"/>"""
    found = [p for p in report(bpmn(body), SCRIPTED) if ": error: " in p]
    assert found == [
        "t.bpmn:13:1: error: calc: script: import statements are not allowed at line 3"
    ]


def test_a_syntax_error_on_the_scripts_first_line_gets_its_column_in_the_file():
    body = """<bpmn:scriptTask id="calc" name="Calculate" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>total = (1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end"/>"""
    found = [p for p in report(bpmn(body), SCRIPTED) if ": error: " in p]
    assert len(found) == 1 and found[0].startswith("t.bpmn:10:28: error: calc: script: "), found


def test_an_empty_timer_definition_on_its_own_line_is_reported_on_that_line():
    body = """<bpmn:intermediateCatchEvent id="wait" name="Wait">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_1" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>"""
    found = [p for p in report(bpmn(body)) if ": error: " in p]
    assert len(found) == 1 and found[0].startswith("t.bpmn:11:7: error: wait: the timer has no")


LINK = """<bpmn:intermediateThrowEvent id="jump" name="To review">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:linkEventDefinition id="link_1" name="review" />
    </bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="land" name="Review">
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:linkEventDefinition id="link_2" name="review" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="jump"/>
    <bpmn:sequenceFlow id="f2" sourceRef="land" targetRef="end"/>"""

COMPENSATION = """<bpmn:intermediateThrowEvent id="undo" name="Undo booking">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:compensateEventDefinition id="comp_1" />
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="undo"/>
    <bpmn:sequenceFlow id="f2" sourceRef="undo" targetRef="end"/>"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            LINK,
            [
                "t.bpmn:10:7: error: jump: event 'To review': link events are not run (the "
                "throwing event would end its path): draw a sequence flow to where the link "
                "leads instead",
                "t.bpmn:14:7: error: land: event 'Review': link events are not run (the "
                "throwing event would end its path): draw a sequence flow to where the link "
                "leads instead",
            ],
        ),
        (
            COMPENSATION,
            [
                "t.bpmn:11:7: error: undo: event 'Undo booking': compensation is not run: draw "
                "the undo steps as tasks on an error or escalation path instead"
            ],
        ),
    ],
)
def test_events_casework_would_skip_are_refused_with_what_to_draw(body: str, expected: list[str]):
    assert [p for p in report(bpmn(body)) if ": error: " in p] == expected


def test_camunda_listeners_and_mappings_are_warnings_with_the_alternative():
    extensions = """<bpmn:extensionElements>
        <camunda:taskListener class="org.acme.Notify" event="create" />
        <camunda:inputOutput>
          <camunda:inputParameter name="x">1</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>"""
    drawn = bpmn(task('camunda:candidateGroups="desk"', extensions))
    found = [p for p in report(drawn) if "work:" in p]
    assert found == [
        "t.bpmn:9:9: warning: work: 'Work': Camunda task listeners are not run: put the work in "
        "a service task (a registered connector) or a script task after the user task",
        "t.bpmn:10:9: warning: work: 'Work': Camunda input/output mappings are not applied "
        "(process variables are passed as they are): set the variables in a form or script "
        "instead",
    ]


@pytest.mark.integration
def test_validate_on_the_command_line_prints_the_exact_lines(tmp_path: Path):
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)
    drawn = tmp_path / "links.bpmn"
    drawn.write_bytes(bpmn(LINK))
    result = cli("validate", str(drawn), ok=False)  # no TOML beside it: a warning, then the rest
    assert result.returncode == 1
    assert f"{drawn}:10:7: error: jump: event 'To review': link events are not run" in result.stdout
