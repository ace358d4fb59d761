"""Workflow state without the spec.

SpiffWorkflow embeds the whole parsed spec in every serialized workflow (more than
half of a case's state) and re-parses it on every load.  A case's spec never
changes, since it belongs to the case's version, so we store the spec once per
version and serialize workflows without it.  Loading hands the cached, already
deserialized spec back in.

A finished task (completed, cancelled, errored) no longer changes, yet the library
converts every task of the workflow on every save, comparing each task's data with its
parent's.  Its converted form is kept on the task and reused while the task's state,
state-change time, spec and children are the same; open tasks are always converted
afresh.  Everything else is the library's own converters.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

#: Bumped whenever the layout of what we store changes; see ``engine/serializer.py``.
STATE_FORMAT = "casework-1"


_CONVERTED = "_casework_converted"  # attribute on a finished task: (key, converted dict)


class _FinishedTaskCachingConverter(TaskConverter):
    """The library's task converter, computed once for a task that has finished."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        if not task.has_state(TaskState.FINISHED_MASK):
            return super().to_dict(task)  # type: ignore[no-any-return]
        key = (
            task.state,
            task.last_state_change,
            task.task_spec.name,
            tuple(task._children),
            self.registry._encoder_mode,  # the two modes convert nested values differently
        )
        kept = getattr(task, _CONVERTED, None)
        if kept is not None and kept[0] == key:
            return kept[1]  # type: ignore[no-any-return]
        converted = super().to_dict(task)
        setattr(task, _CONVERTED, (key, converted))
        return converted  # type: ignore[no-any-return]


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """BpmnWorkflow converter that leaves the spec out and takes it back in on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(  # type: ignore[override]
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec | None = None,
        subprocess_specs: dict[str, BpmnProcessSpec] | None = None,
    ) -> BpmnWorkflow:
        from uuid import UUID

        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class CaseSerializer:
    """Serializes specs once per version and workflows without their spec."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpecFreeWorkflowConverter
        config[Task] = _FinishedTaskCachingConverter
        self._registry = BpmnWorkflowSerializer.configure(config)
        self._serializer = BpmnWorkflowSerializer(self._registry)

    @property
    def registry(self) -> Any:
        """The converter registry: SpiffWorkflow's spec diff compares specs through it."""
        return self._registry

    def spec_to_json(
        self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> str:
        return json.dumps(
            {
                "format": STATE_FORMAT,
                "spec": self._registry.convert(spec),
                "subprocess_specs": {
                    k: self._registry.convert(v) for k, v in subprocess_specs.items()
                },
            }
        )

    def spec_from_json(self, text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        data = json.loads(text)
        spec = self._registry.restore(data["spec"])
        subs = {k: self._registry.restore(v) for k, v in data["subprocess_specs"].items()}
        return spec, subs

    def dumps(self, workflow: BpmnWorkflow) -> str:
        # Wrapped rather than re-parsed: the library already produced the JSON text.
        return (
            f'{{"format":"{STATE_FORMAT}","workflow":{self._serializer.serialize_json(workflow)}}}'
        )

    def loads(
        self, text: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        envelope = json.loads(text)
        if envelope.get("format") != STATE_FORMAT:
            raise ValueError(f"unknown workflow state format {envelope.get('format')!r}")
        data = envelope["workflow"]
        self._serializer.migrate(data)
        return self._registry.restore(data, spec=spec, subprocess_specs=subprocess_specs)
