"""Service tasks as registered Python connectors.

A connector is Python code an installation registers under the entry-point group
``casework.connectors``; its name is the topic a designer types in Camunda Modeler
(*Implementation*: External, *Topic*: ``casework.check_iban``).  It declares its inputs
as a dataclass, so deploy can check the task's input parameters against the fields and a
case can check the values before the call; what it returns becomes process variables.
``engine.run.connectors`` runs it outside the user's transaction, retrying with back-off.

At deploy an input parameter the connector does not take, or an input expression the
sandbox refuses, is an error with its line, like every other problem.  A connector that
is not registered is a warning, as in Camunda, where a process naming an external-task
topic deploys whether or not a worker serves it: a case that reaches the task stops there
with an incident, retried once the connector is installed.  Java implementations (a
``camunda:class``, an expression, a delegate expression, a Camunda connector) are read the
same way -- a connector no installation can register: the file deploys with a warning and
a case that reaches the task gets an incident that says to declare it a manual step.
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


def java_implementation(node: etree._Element) -> str | None:
    """A Camunda 7 Java implementation of a service task, in the modeler's words (``the
    Java class org.acme.Notify``); None for an external task or none at all."""
    for attribute, what in (
        ("class", "the Java class"),
        ("delegateExpression", "the delegate expression"),
        ("expression", "the expression"),
    ):
        value = node.get(f"{{{CAMUNDA_NS}}}{attribute}")
        if value:
            return f"{what} {value}"
    if node.find(f".//{{{CAMUNDA_NS}}}connector") is not None:
        return "a Camunda connector"
    return None


#: What the run-time says of a task whose implementation is Java (see the module's text).
CANNOT_RUN = "which Casework cannot run"


def check_connector(node: etree._Element, report: Report, fix: str) -> bool:
    """Report what is wrong with a connector task; True when it names a connector (an
    external topic, or a Java implementation read as a connector nobody can register).

    ``fix`` is the other way out for a connector nobody installed: a manual step."""
    name = topic(node)
    label = f"'{node.get('name') or node.get('id')}'"
    if name is None:
        java = java_implementation(node)
        if java is None:
            return False
        report(
            f"service task {label} calls {java}, {CANNOT_RUN}: a case that reaches it stops "
            f"there with an incident; {fix}",
            node=node,
            severity="warning",
        )
        return True
    known = registered()
    connector = known.get(name)
    if connector is None:
        installed = ", ".join(sorted(known)) or "none installed"
        report(
            f"service task {label} names connector '{name}', which is not registered "
            f"(entry-point group {GROUP}; registered: {installed}): a case that reaches it "
            f"stops there with an incident until it is; fix the topic, install the package "
            f"that provides it, or {fix}",
            node=node,
            severity="warning",
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
        elif (java := java_implementation(node)) is not None:
            extensions[EXTENSION] = {"name": java, "inputs": {}, "java": True}
        return extensions

    def create_task(self) -> Any:
        if topic(self.node) is None and java_implementation(self.node) is None:
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
