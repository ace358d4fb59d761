"""Checks of what a case evaluates: conditions, timer values, scripts and gateway flows.

Every expression is compiled by the restricted evaluator at deploy time, so a case
never meets one it cannot run.  Camunda's idioms are translated where the meaning is
unambiguous (and reported with the fix); cron cycles and FEEL, which have no
faithful translation, are refused with what to write instead.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.run.schedules import ScheduleError, next_due, sub_minute
from engine.sandbox import camunda
from engine.sandbox.guards import BUILTINS
from engine.sandbox.policy import check_expression, check_script

from .collector import Collector
from .config import CaseTypeConfig
from .forms import parse_form_fields
from .parser import BPMN_NS
from .tree import parent

_CRON = re.compile(r"^[\w*?/,#-]+(\s+[\w*?/,#-]+){4,6}$")


def check_expressions(process: etree._Element, config: CaseTypeConfig, out: Collector) -> None:
    for node in process.iter(f"{{{BPMN_NS}}}conditionExpression"):
        text = (node.text or "").strip()
        if not text:
            out.add(
                "the condition is empty: write one, or remove it (an exclusive gateway's "
                "default flow needs none)",
                node=node,
                element_id=parent(node).get("id"),
            )
            continue
        _check_one_expression(node, text, "condition", out)
    for definition in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        values = [child for child in definition if isinstance(child.tag, str)]
        event = parent(definition)
        if not values or not any((v.text or "").strip() for v in values):
            out.add(
                'the timer has no time value: set a duration ("PT4H"), a date or a cycle '
                "in the modeler's Timer section",
                node=definition,
                element_id=event.get("id"),
            )
            continue
        for value in values:
            text = (value.text or "").strip()
            if _check_one_expression(value, text, "timer value", out):
                _check_timer_literal(value, event, out)
    for condition in process.iter(f"{{{BPMN_NS}}}condition"):  # conditional events
        _check_one_expression(condition, (condition.text or "").strip(), "condition", out)
    for script_task in process.iter(f"{{{BPMN_NS}}}scriptTask"):
        language = (script_task.get("scriptFormat") or "python").strip().lower()
        if language not in ("python", "python3", "py"):
            out.add(
                f"script format '{language}': Casework runs Python scripts only; rewrite the "
                "script in Python, or replace the task with a user task",
                node=script_task,
            )
            continue
        if not config.scripts_enabled:
            out.add(
                "script tasks are disabled for this case type; set scripts_enabled = true "
                f"in {config.source} to allow them",
                node=script_task,
            )
            continue
        script = script_task.find(f"{{{BPMN_NS}}}script")
        message = check_script(script.text or "") if script is not None else "has no script"
        if message:
            line, column = _script_position(out, script, message)
            out.add(f"script: {message}", node=script_task, line=line, column=column)


_SCRIPT_AT = re.compile(r"at (?:the end of )?line (\d+)(?:, column (\d+))?")


def _script_position(
    out: Collector, script: etree._Element | None, message: str
) -> tuple[int | None, int | None]:
    """The file line of the script line a message names (the task's own line otherwise)."""
    at = _SCRIPT_AT.search(message)
    if script is None or at is None:
        return None, None
    column = int(at.group(2)) if at.group(2) else None
    return out.positions.text_position(script, int(at.group(1)), column)


def check_gateways(process: etree._Element, out: Collector) -> None:
    """Every flow out of a deciding gateway needs a condition, except its default."""
    flows: dict[str, list[etree._Element]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        flows.setdefault(flow.get("sourceRef") or "", []).append(flow)
    for kind in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in process.iter(f"{{{BPMN_NS}}}{kind}"):
            outgoing = flows.get(gateway.get("id") or "", [])
            if len(outgoing) < 2:
                continue
            for flow in outgoing:
                if flow.get("id") == gateway.get("default"):
                    continue
                if flow.find(f"{{{BPMN_NS}}}conditionExpression") is None:
                    name = gateway.get("name") or gateway.get("id")
                    out.add(
                        f"this flow leaves gateway '{name}' without a condition and is not "
                        "its default: add a condition, or make it the gateway's default flow",
                        node=flow,
                    )


_TIMER_FORMS = {
    "timeDuration": ("an ISO 8601 duration", '"PT4H"', TimerEventDefinition.parse_iso_duration),
    "timeDate": (
        "an ISO 8601 date and time",
        '"2026-12-24T09:00:00Z"',
        TimerEventDefinition.get_datetime,
    ),
    "timeCycle": (
        "an ISO 8601 repetition",
        '"R3/PT1H"',
        TimerEventDefinition.parse_iso_recurring_interval,
    ),
}
_ISO_LOOKALIKE = re.compile(r"^(R\d*/)?P[0-9A-Z.]*$")


def _check_timer_literal(node: etree._Element, event: etree._Element, out: Collector) -> None:
    """A quoted timer value must parse as what its kind needs; a bare P... is a typo."""
    kind = etree.QName(node).localname
    if kind not in _TIMER_FORMS:
        return
    what, example, parse = _TIMER_FORMS[kind]
    text = (node.text or "").strip()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if _ISO_LOOKALIKE.match(text):
            out.add(
                f"timer value {text} is not {what}; write it like {example}",
                node=node,
                element_id=event.get("id"),
            )
        return  # an expression over the process variables: known when the timer starts
    if not isinstance(value, str):
        return
    try:
        parse(value)
    except Exception:
        out.add(
            f"timer value {value!r} is not {what}; write it like {example}",
            node=node,
            element_id=event.get("id"),
        )


def _check_one_expression(node: etree._Element, text: str, what: str, out: Collector) -> bool:
    """Check (and translate, for Camunda's language) one expression; True when it is usable."""
    owner = node.getparent()
    while owner is not None and (
        owner.get("id") is None or str(owner.tag).endswith("EventDefinition")
    ):
        owner = owner.getparent()
    element_id = owner.get("id") if owner is not None else None
    if what == "timer value" and owner is not None and etree.QName(owner).localname == "startEvent":
        return _check_start_timer(node, text, element_id, out)
    if what == "timer value" and _CRON.match(text):
        out.add(
            f"timer value {text!r} is a cron expression, which Casework does not read; "
            'write an ISO 8601 repetition in quotes instead, e.g. "R/PT5M" (every 5 minutes)',
            node=node,
            element_id=element_id,
        )
        return False
    if text.startswith("="):
        out.add(
            f"{what} {text!r} is a FEEL expression (Camunda 8); write it as a Python "
            f"expression over the process variables, e.g. {text.lstrip('= ')!r}",
            node=node,
            element_id=element_id,
        )
        return False
    if camunda.is_juel(text):
        try:
            python = camunda.to_python(text)
        except camunda.JuelError as exc:
            out.add(
                f"{what} {text!r} uses Camunda expression language we do not translate "
                f"({exc}); write it as a Python expression over the process variables",
                node=node,
                element_id=element_id,
            )
            return False
        node.text = python
        out.add(
            f"{what} {text!r} is Camunda expression language, run here as the Python "
            f"expression {python!r}; fix: write {python!r}",
            node=node,
            element_id=element_id,
            severity="warning",
        )
        text = python
    message = check_expression(text)
    if message:
        out.add(f"{what} {text!r}: {message}", node=node, element_id=element_id)
    return not message


def _check_start_timer(
    node: etree._Element, text: str, element_id: str | None, out: Collector
) -> bool:
    """A timer start event's value is read by the start-event scheduler, never evaluated
    in a case: an ISO date, duration or repetition, or a cron expression on a cycle."""
    kind = etree.QName(node).localname
    try:
        next_due(kind, text, datetime.now(UTC), since=datetime.now(UTC))
    except ScheduleError as exc:
        out.add(f"timer start {exc}", node=node, element_id=element_id)
        return False
    seconds = sub_minute(text) if kind == "timeCycle" else None
    if seconds is not None:
        out.add(
            f"timer start cron seconds field {seconds!r} asks for several cases a minute; "
            "Casework's clock ticks in minutes, so it opens at most one case in each matching "
            "minute; fix: write 0 for the seconds",
            node=node,
            element_id=element_id,
            severity="warning",
        )
    return True


#: Variables every case starts with (see ``engine.run.cases.open_case``).
CASE_VARIABLES = frozenset({"subject", "priority", "case_number", "raiser"})


def _names_read(expression: str) -> set[str]:
    """Variable names an expression reads (not the functions it calls, nor its own loops)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    bound = {
        n.id
        for comp in ast.walk(tree)
        if isinstance(comp, ast.comprehension)
        for n in ast.walk(comp.target)
        if isinstance(n, ast.Name)
    }
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in called and n.id not in bound
    }


def check_condition_variables(process: etree._Element, out: Collector) -> None:
    """Warn when a condition reads a variable no form sets and no case starts with.

    Only when every human task declares its form: a task without one accepts any
    variables, and a script may set anything, so nothing can be said then.
    """
    tasks = list(process.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask"))
    if process.find(f".//{{{BPMN_NS}}}scriptTask") is not None:
        return
    forms = [parse_form_fields(node) for node in tasks]
    if not all(forms):
        return
    starts = process.iter(f"{{{BPMN_NS}}}startEvent")
    known = set(CASE_VARIABLES) | {f.id for form in forms for f in form}
    known |= {f.id for node in starts for f in parse_form_fields(node)}
    known |= set(BUILTINS) | {"True", "False", "None"}
    for node in process.iter(f"{{{BPMN_NS}}}conditionExpression"):
        text = (node.text or "").strip()
        unknown = sorted(_names_read(text) - known)
        if unknown:
            out.add(
                f"condition {text!r} reads {', '.join(unknown)}, which no form of this process "
                "sets and no case starts with: check the spelling against the form field ids",
                node=node,
                element_id=parent(node).get("id"),
                severity="warning",
            )
