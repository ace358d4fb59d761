"""Two small BPMN processes and the helpers that run them with a chosen script engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.sandbox.environment import make_script_engine

ROUTE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="urn:test">
  <bpmn:process id="route" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_gateway</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="start" targetRef="gateway"/>
    <bpmn:exclusiveGateway id="gateway" default="to_normal">
      <bpmn:incoming>to_gateway</bpmn:incoming>
      <bpmn:outgoing>to_urgent</bpmn:outgoing>
      <bpmn:outgoing>to_normal</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_urgent" sourceRef="gateway" targetRef="urgent_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_normal" sourceRef="gateway" targetRef="normal_end"/>
    <bpmn:endEvent id="urgent_end"><bpmn:incoming>to_urgent</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="normal_end"><bpmn:incoming>to_normal</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SCRIPT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="urn:test">
  <bpmn:process id="add" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_script</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_script" sourceRef="start" targetRef="script"/>
    <bpmn:scriptTask id="script">
      <bpmn:incoming>to_script</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:script>total = a + b</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="script" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def workflow_for(
    bpmn: str, process_id: str, data: dict[str, Any], engine: PythonScriptEngine
) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn.encode(), filename=f"{process_id}.bpmn")
    workflow = BpmnWorkflow(parser.get_spec(process_id), script_engine=engine)
    workflow.task_tree.data.update(data)
    return workflow


def route(
    condition: str, data: dict[str, Any], engine: PythonScriptEngine | None = None
) -> BpmnWorkflow:
    """Run the gateway process with ``condition`` on its urgent branch."""
    bpmn = ROUTE_BPMN.replace("CONDITION", escape(condition))
    workflow = workflow_for(bpmn, "route", data, engine or make_script_engine())
    workflow.do_engine_steps()
    return workflow


def ends_reached(workflow: BpmnWorkflow) -> set[str]:
    completed = workflow.get_tasks(state=TaskState.COMPLETED)
    return {task.task_spec.name for task in completed} & {"urgent_end", "normal_end"}


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
