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
from types import ModuleType
from typing import Any

import orjson
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

#: Bumped whenever the layout of what we store changes; see ``engine/run/serializer.py``.
STATE_FORMAT = "casework-1"


#: datetimes go to the registry (which tags their type, so they load back as datetimes);
#: dictionary keys that are not strings are written as strings, as ``json`` does.
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

_CONVERTED = "_casework_converted"  # attribute on a finished task: (key, converted dict)


class _FinishedTaskCachingConverter(TaskConverter):
    """The library's task converter, computed once for a task that has finished."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        # SpiffWorkflow has no type hints: the dicts it returns are declared here.
        if not task.has_state(TaskState.FINISHED_MASK):
            plain: dict[str, Any] = super().to_dict(task)
            return plain
        key = (
            task.state,
            task.last_state_change,
            task.task_spec.name,
            tuple(task._children),
            self.registry._encoder_mode,  # the two modes convert nested values differently
        )
        kept = getattr(task, _CONVERTED, None)
        if kept is not None and kept[0] == key:
            cached: dict[str, Any] = kept[1]
            return cached
        converted: dict[str, Any] = super().to_dict(task)
        setattr(task, _CONVERTED, (key, converted))
        return converted


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """BpmnWorkflow converter that leaves the spec out and takes it back in on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
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
        """The workflow as JSON text, encoded by orjson.

        The library's own ``serialize_json`` leaves values it knows (datetime, timedelta,
        UUID) to a ``json`` encoder hook; here orjson calls the same conversions through
        :meth:`_encode_value`.  The text is several times faster to produce, which
        matters because every transition of a case writes it.  A value orjson cannot
        encode (an integer wider than 64 bits, an object nobody can store) goes to the
        library's encoder, which stores it or refuses it exactly as before.
        """
        serializer = self._serializer
        registry = self._registry
        registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
            dct[serializer.VERSION_KEY] = serializer.VERSION
            try:
                text = orjson.dumps(dct, default=self._encode_value, option=_ORJSON).decode()
            except orjson.JSONEncodeError:  # the library's encoder stores it or says why not
                text = json.dumps(dct, cls=serializer._encoder_cls)
        finally:
            registry._encoder_mode = False
        return f'{{"format":"{STATE_FORMAT}","workflow":{text}}}'

    def _encode_value(self, value: Any) -> Any:
        """What the library's JSON encoder hook does for a value JSON cannot hold."""
        typename = self._registry.typenames.get(type(value))
        if typename is not None:
            return self._registry.convert_to_dict[typename](value)
        if callable(value) or isinstance(value, ModuleType):
            return None
        if isinstance(value, set):
            return list(value)
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    def case_variables(self, text: str) -> dict[str, Any]:
        """The data of the workflow's last completed task (else its root) -- the process
        variables a case page shows -- read straight from the stored text.

        Equal to ``loads(text).last_task.data``, without building the workflow: the stored
        tasks keep their data as changes against their parent's, so the variables are the
        root's data with each change on the path down to that task applied in turn.
        """
        workflow = self._workflow_of(orjson.loads(text))
        tasks = workflow["tasks"]
        task = tasks.get(workflow.get("last_task") or "") or tasks[workflow["root"]]
        path = []
        while task is not None:
            path.append(task)
            task = tasks.get(task["parent"]) if task.get("parent") else None
        values: dict[str, Any] = {}
        for task in reversed(path):
            delta = task.get("delta")
            if delta and task.get("parent") is not None:
                values = {**values, **delta.get("updates", {})}
                for key in delta.get("deletions", ()):
                    values.pop(key, None)
            else:
                values = dict(task["data"])
        restored: dict[str, Any] = self._registry.restore(values)
        return restored

    def _workflow_of(self, envelope: dict[str, Any]) -> dict[str, Any]:
        if envelope.get("format") != STATE_FORMAT:
            raise ValueError(f"unknown workflow state format {envelope.get('format')!r}")
        data: dict[str, Any] = envelope["workflow"]
        self._serializer.migrate(data)
        return data

    def loads(
        self, text: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        data = self._workflow_of(json.loads(text))
        return self._registry.restore(data, spec=spec, subprocess_specs=subprocess_specs)
