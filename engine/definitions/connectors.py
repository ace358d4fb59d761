"""Service tasks as registered Python connectors.

A connector is Python code an installation registers under the entry-point group
``casework.connectors``; its name is the topic a designer types in Camunda Modeler
(*Implementation*: External, *Topic*: ``casework.check_iban``).  It declares its inputs
as a dataclass, so deploy can check the task's input parameters against the fields and a
case can check the values before the call; what it returns becomes process variables.
``engine.run.connectors`` runs it outside the user's transaction, retrying with back-off.

At deploy a service task naming an unregistered connector, an input parameter the
connector does not take, or an input expression the sandbox refuses is an error with its
line, like every other problem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser, SpiffTaskParser
from SpiffWorkflow.spiff.specs.defaults import ManualTask

from engine.sandbox import camunda
from engine.sandbox.policy import check_expression

from .forms import CAMUNDA_NS

GROUP = "casework.connectors"
EXTENSION = "connector"
Report = Callable[..., None]


@dataclass(frozen=True)
class Connector:
    """What an entry point of ``casework.connectors`` names.

    ``inputs`` is a dataclass: its fields are the inputs and their types; ``call`` takes
    an instance and returns the process variables to set.  A failing call is retried
    ``retries`` times, waiting ``backoff`` and twice as long each time after.  Raise
    :class:`PermanentFailure` for what no retry can fix (a refused request, say).
    """

    inputs: type
    call: Callable[[Any], Mapping[str, Any]]
    retries: int = 5
    backoff: timedelta = timedelta(seconds=30)


class PermanentFailure(Exception):
    """A connector's failure that retrying cannot fix."""


@cache
def registered() -> dict[str, Connector]:
    """The installed connectors by name, read once per process."""
    found: dict[str, Connector] = {}
    for point in entry_points(group=GROUP):
        value = point.load()
        if isinstance(value, Connector) and dataclasses.is_dataclass(value.inputs):
            found[point.name] = value
    return found


def register(name: str, connector: Connector) -> None:
    """Add a connector in this process only (an application embedding Casework, or a test
    that needs a connector no package installs); entry points are the usual way."""
    registered()[name] = connector


def topic(node: etree._Element) -> str | None:
    """The connector a service task names (Camunda's external-task topic)."""
    if node.get(f"{{{CAMUNDA_NS}}}type") != "external":
        return None
    return (node.get(f"{{{CAMUNDA_NS}}}topic") or "").strip() or None


def input_parameters(node: etree._Element) -> dict[str, str]:
    """``camunda:inputParameter`` name -> expression text (``${x}`` read as Python)."""
    found = {}
    for param in node.iterfind(f"./{{*}}extensionElements//{{{CAMUNDA_NS}}}inputParameter"):
        text = (param.text or "").strip()
        if camunda.is_juel(text):
            with contextlib.suppress(camunda.JuelError):  # the sandbox check reports it
                text = camunda.to_python(text)
        found[param.get("name") or ""] = text
    return found


def check_connector(node: etree._Element, report: Report, fix: str) -> bool:
    """Report what is wrong with a connector task; True when it names a connector.

    ``fix`` is the other way out for a connector nobody installed: a manual step."""
    name = topic(node)
    if name is None:
        return False
    known = registered()
    connector = known.get(name)
    label = f"'{node.get('name') or node.get('id')}'"
    if connector is None:
        installed = ", ".join(sorted(known)) or "none installed"
        report(
            f"service task {label} names connector '{name}', which is not registered "
            f"(entry-point group {GROUP}; registered: {installed}); fix the topic, install "
            f"the package that provides it, or {fix}",
            node=node,
        )
        return True
    fields = {f.name for f in dataclasses.fields(connector.inputs)}
    for param, text in input_parameters(node).items():
        if param not in fields:
            report(
                f"service task {label}: connector '{name}' takes no input '{param}'; its "
                f"inputs: {', '.join(sorted(fields))}",
                node=node,
            )
        elif (problem := check_expression(text)) is not None:
            report(f"service task {label}: input '{param}' {text!r}: {problem}", node=node)
    return True


class ConnectorTaskParser(ServiceTaskParser):
    """A service task naming a connector waits, like a manual task, until the worker has
    run the connector (``engine.run.connectors``); other service tasks parse as before."""

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        node = self.node if node is None else node
        extensions: dict[str, Any] = SpiffTaskParser._parse_extensions(node)
        name = topic(node)
        if name is not None:
            extensions[EXTENSION] = {"name": name, "inputs": input_parameters(node)}
        return extensions

    def create_task(self) -> Any:
        if topic(self.node) is None:
            return super().create_task()
        return ManualTask(self.spec, self.bpmn_id, **self.bpmn_attributes)


def check_inputs(connector: Connector, values: dict[str, Any]) -> Any:
    """The connector's input object from ``values``; ValueError naming every bad field."""
    hints = typing.get_type_hints(connector.inputs)
    problems = []
    for field in dataclasses.fields(connector.inputs):
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        if field.name not in values:
            if required:
                problems.append(f"{field.name}: missing")
            continue
        if not _is_a(values[field.name], hints.get(field.name, Any)):
            hint = hints[field.name]
            what = hint.__name__ if isinstance(hint, type) else str(hint)
            problems.append(f"{field.name}: {values[field.name]!r} is not {what}")
    if problems:
        raise ValueError("; ".join(problems))
    known = {f.name for f in dataclasses.fields(connector.inputs)}
    return connector.inputs(**{k: v for k, v in values.items() if k in known})


def _is_a(value: Any, hint: Any) -> bool:
    """A shallow check of a value against a field's type (plain types, unions, generics)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_a(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is not None:
        return isinstance(value, origin)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)
