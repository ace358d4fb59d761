"""Fixtures of the sandbox tests: an environment with scripts on, a real gateway task."""

from __future__ import annotations

import pytest
from SpiffWorkflow.task import Task

from engine.sandbox.environment import SafeEnvironment, make_script_engine
from tests.engine.sandbox.processes import ROUTE_BPMN, workflow_for


@pytest.fixture
def env() -> SafeEnvironment:
    return SafeEnvironment(scripts_enabled=True)


@pytest.fixture
def gateway_task() -> Task:
    """A real task, for calling the script engine the way SpiffWorkflow does."""
    workflow = workflow_for(
        ROUTE_BPMN.replace("CONDITION", "True"), "route", {}, make_script_engine()
    )
    return workflow.get_tasks(spec_name="gateway")[0]
