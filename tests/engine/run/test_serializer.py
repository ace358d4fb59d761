"""Saved workflow state: the spec is left out, and finished tasks reuse their converted form.

The cached form must never change what is stored: at every step of a case, the state a
long-lived serializer writes equals what a fresh one writes, and it loads back to a workflow
that carries on to the same end.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.run.serializer import CaseSerializer

SUPPORT = Path(__file__).resolve().parents[3] / "processes" / "support.bpmn"
STEPS = [
    ("Triage case", {"category": "hardware", "needs_investigation": False}),
    ("Propose resolution", {"resolution": "Replace the roller"}),
    ("Confirm resolution", {"resolved": True}),
]


def _support() -> tuple[object, dict[str, object]]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(SUPPORT))
    return parser.get_spec("support_case"), parser.get_subprocess_specs("support_case")


def _ready(workflow: BpmnWorkflow, name: str):  # type: ignore[no-untyped-def]
    return next(
        t
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
        if t.task_spec.bpmn_name == name
    )


def test_cached_state_equals_a_fresh_serialization_at_every_step():
    spec, subs = _support()
    kept = CaseSerializer()
    workflow = BpmnWorkflow(spec, subs)
    workflow.task_tree.data.update(subject="Printer jams")
    workflow.do_engine_steps()
    states = []
    for name, data in STEPS:
        for _ in range(2):  # the second save reuses every finished task's converted form
            text = kept.dumps(workflow)
            assert json.loads(text) == json.loads(CaseSerializer().dumps(workflow))
        states.append(text)
        task = _ready(workflow, name)
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()
    assert workflow.completed
    final = kept.dumps(workflow)
    assert json.loads(final) == json.loads(CaseSerializer().dumps(workflow))

    # the state saved before the last step loads and finishes like the original did
    restored = kept.loads(states[-1], spec, subs)
    task = _ready(restored, STEPS[-1][0])
    task.set_data(**STEPS[-1][1])
    task.run()
    restored.do_engine_steps()
    assert restored.completed
    assert restored.last_task.data["resolved"] is True


def test_a_finished_task_that_changes_is_converted_again():
    spec, subs = _support()
    serializer = CaseSerializer()
    workflow = BpmnWorkflow(spec, subs)
    workflow.do_engine_steps()
    serializer.dumps(workflow)
    finished = next(t for t in workflow.tasks.values() if t.has_state(TaskState.FINISHED_MASK))
    finished.internal_data["note"] = "stale"  # a change the cache key cannot see ...
    finished.last_state_change += 1.0  # ... until the task's state changes
    stored = json.loads(serializer.dumps(workflow))
    assert stored["workflow"]["tasks"][str(finished.id)]["internal_data"]["note"] == "stale"


def _with_data(**data: object) -> tuple[BpmnWorkflow, object, dict[str, object]]:
    spec, subs = _support()
    workflow = BpmnWorkflow(spec, subs)
    workflow.task_tree.data.update(subject="Printer jams")
    workflow.do_engine_steps()
    _ready(workflow, "Triage case").data.update(data)
    return workflow, spec, subs


@pytest.mark.parametrize("serial", [7, 2**80], ids=["fast encoder", "wide integer"])
def test_values_json_cannot_hold_load_back_as_themselves(serial: int):
    """Dates, durations, sets and integers wider than 64 bits in task data survive a save,
    written as the library itself writes them."""
    when = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    workflow, spec, subs = _with_data(
        when=when,
        grace=timedelta(hours=4),
        tags={"vip"},
        nested={"at": [when]},
        serial=serial,
        skipped=len,  # callables are dropped, as the library drops them
    )
    serializer = CaseSerializer()
    text = serializer.dumps(workflow)
    expected = json.loads(BpmnWorkflowSerializer(serializer.registry).serialize_json(workflow))
    assert json.loads(text)["workflow"] == expected

    data = _ready(serializer.loads(text, spec, subs), "Triage case").data
    assert data["when"] == when and data["nested"] == {"at": [when]}
    assert data["grace"] == timedelta(hours=4)
    assert data["tags"] == ["vip"] and data["serial"] == serial and data["skipped"] is None


def test_a_value_nobody_can_store_is_refused_by_name():
    workflow, _spec, _subs = _with_data(window=object())
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        CaseSerializer().dumps(workflow)


def test_case_variables_read_from_the_text_equal_the_loaded_workflows_at_every_step():
    spec, subs = _support()
    serializer = CaseSerializer()
    workflow = BpmnWorkflow(spec, subs)
    workflow.task_tree.data.update(subject="Printer jams", seen=datetime(2026, 1, 2, tzinfo=UTC))
    workflow.do_engine_steps()
    texts = [serializer.dumps(workflow)]
    for name, data in STEPS:
        task = _ready(workflow, name)
        task.set_data(**data, grace=timedelta(hours=len(texts)))
        task.run()
        workflow.do_engine_steps()
        texts.append(serializer.dumps(workflow))
    for text in texts:
        loaded = serializer.loads(text, spec, subs)
        expected = dict((loaded.last_task or loaded.task_tree).data)
        assert serializer.case_variables(text) == expected
    final = serializer.case_variables(texts[-1])
    assert final["resolved"] is True and final["grace"] == timedelta(hours=3)
    assert final["seen"] == datetime(2026, 1, 2, tzinfo=UTC)
