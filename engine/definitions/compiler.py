"""Turn a BPMN file plus its case-type config into a deployable definition.

All checks a designer needs before a case can hit a problem run from here, and all
problems are collected before anything is refused, each with file, line, column and
the element it concerns: XML and schema errors and the process to run (here); lanes
that map to no group and human tasks nobody could complete (``routing``); expressions,
timers and gateway flows (``expression_checks``); dangling references and endless waits
(``references``); constructs we do not run as drawn (``modeler``).  ``deploy`` and
``validate`` both call :func:`compile_definition`, so they can never disagree.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from functools import cache

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import DefinitionError, Problem

from .call_activities import check_call_activities
from .collector import Collector
from .config import CaseTypeConfig
from .dmn import Decisions, decision_ids, read_decisions
from .expression_checks import check_condition_variables, check_expressions, check_gateways
from .forms import FormField, check_form_fields, parse_form_fields
from .modeler import apply_fallbacks
from .multi_instance import read_camunda_loops
from .parser import BPMN_NS, NS, CaseParser, normalise_dialect
from .references import (
    check_references,
    check_reserved_ids,
)
from .routing import TaskRouting, check_lanes, route_human_tasks
from .sla_timers import find_sla_timers
from .tree import elements
from .unsupported import check_lane_references, check_unsupported

#: Quartz/cron timer cycles as Camunda accepts them: 5 to 7 space-separated fields.
_SCHEMA_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([\w.-]+)'")


@dataclass
class CompiledDefinition:
    """Everything ``deploy`` stores for one version of a case type."""

    config: CaseTypeConfig
    process_id: str
    spec: BpmnProcessSpec | None  # None for a version deployed for viewing only
    subprocess_specs: dict[str, BpmnProcessSpec]
    bpmn_xml: str
    source_name: str
    content_hash: str
    routing: dict[str, TaskRouting]
    start_form: tuple[FormField, ...] = ()
    #: the process variables customers see (``public`` "true" or "open"); all else is internal
    public_fields: tuple[FormField, ...] = ()
    notes: list[Problem] = field(default_factory=list)
    #: The process is not executable: the diagram is stored, no case can run on it.
    view_only: bool = False
    #: BPMN id -> target name of timers marked as SLAs (``sla_timers.py``)
    sla_timers: dict[str, str] = field(default_factory=dict)


def content_hash(
    bpmn_xml: bytes, config: CaseTypeConfig, decisions: Decisions | None = None
) -> str:
    """Version identity: the same BPMN, config and DMN files deploy to the same version."""
    digest = hashlib.sha256(bpmn_xml)
    digest.update(json.dumps(config.to_dict(), sort_keys=True).encode())
    for _, root in decisions or ():
        digest.update(etree.tostring(root))
    return digest.hexdigest()


def compile_definition(
    bpmn_xml: bytes,
    config: CaseTypeConfig,
    *,
    source: str,
    known_groups: Collection[str] | None = None,
    known_users: Collection[str] | None = None,
) -> CompiledDefinition:
    """Check and parse a BPMN file for ``config``; raise DefinitionError listing all problems.

    ``known_groups`` / ``known_users``, when given, are the names that exist in the
    directory: routing to a group that does not exist is refused rather than
    creating an empty one.
    """
    out = Collector(source, bpmn_xml)
    root = _read_xml(bpmn_xml, out)
    if root is None:
        raise DefinitionError(out.problems)
    out.root = root
    _check_schema(root, out)
    chosen = _choose_process(root, config, out)
    if chosen is None:
        raise DefinitionError(_ordered(out.problems, source))
    process, process_id = chosen
    out.view_only = process.get("isExecutable") != "true"
    for node, text in normalise_dialect(root):
        out.add(
            f'timer value {text} is Camunda style, read here as the text "{text}"; '
            f'fix: write "{text}" in quotes (timer values are Python expressions)',
            node=node,
            element_id=_event_id(node),
            severity="warning",
        )
    check_lanes(process, config, known_groups, out)
    check_expressions(process, config, out)
    check_gateways(process, out)
    check_condition_variables(process, out)
    check_call_activities(root, process, out.add)
    dangling = check_references(root, process, out.add)
    dangling += check_reserved_ids(process, out.add)
    check_lane_references(process, out.add)
    check_unsupported(process, out.add)
    sla_timers = find_sla_timers(process, out)
    decisions = read_decisions(config.decisions, config.source, out)
    apply_fallbacks(root, process, config, out.add, decisions=decision_ids(decisions))
    read_camunda_loops(process, out.add)
    spec: BpmnProcessSpec | None = None
    subprocess_specs: dict[str, BpmnProcessSpec] = {}
    if not out.view_only and not dangling:
        spec, subprocess_specs = _parse_spec(root, process_id, source, out, decisions)
    routing = route_human_tasks(
        spec, subprocess_specs, process, config, known_groups, known_users, out
    )
    start_form = _start_form(process, out)
    public = public_fields(start_form, routing, config, out)
    problems = _ordered(out.problems, source)
    if out.errors or (spec is None and not out.view_only):
        raise DefinitionError(problems)
    return CompiledDefinition(
        config=config,
        process_id=process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
        bpmn_xml=bpmn_xml.decode("utf-8", errors="replace"),
        source_name=source,
        content_hash=content_hash(bpmn_xml, config, decisions),
        routing=routing,
        start_form=start_form,
        public_fields=public,
        notes=problems,
        view_only=out.view_only,
        sla_timers=sla_timers,
    )


def _ordered(problems: list[Problem], source: str) -> list[Problem]:
    """The BPMN file's problems top to bottom, then those of its configuration."""
    return sorted(problems, key=lambda p: (p.file != source, p.line or 0, p.column or 0))


def _start_form(process: etree._Element, out: Collector) -> tuple[FormField, ...]:
    """The form of the process's start event: the variables a new case is opened with."""
    starts = process.findall(f"{{{BPMN_NS}}}startEvent")
    fields = tuple(parse_form_fields(starts[0])) if len(starts) == 1 else ()
    for problem in check_form_fields(list(fields)):
        out.add(problem, node=starts[0])
    return fields


def public_fields(
    start_form: tuple[FormField, ...],
    routing: dict[str, TaskRouting],
    config: CaseTypeConfig,
    out: Collector,
) -> tuple[FormField, ...]:
    """The fields customers see: form fields marked ``public`` in the BPMN file and the
    TOML's ``[portal.fields]`` (whose labels win), checked against each other.  ``open``
    (customers may set it when opening a case) only makes sense on the start form."""
    declared: dict[str, FormField] = {f.id: f for f in start_form}
    found: dict[str, FormField] = {f.id: f for f in start_form if f.public in ("true", "open")}
    for route in routing.values():
        for f in route.form:
            declared.setdefault(f.id, f)
            if f.public == "open":
                out.add(
                    f"form field '{f.id}' of task '{route.name}' is public = open, which only "
                    "the start event's form may be (customers set it when they open a case); "
                    "use public = true",
                    element_id=route.element_id,
                )
            if f.public in ("true", "open") and f.id not in found:
                found[f.id] = replace(f, public="true")
    starting = {f.id for f in start_form}
    for name, spec in config.portal_fields.items():
        form = declared.get(name)
        where = f"portal field '{name}'"
        if form is not None and spec.get("type") not in (None, form.type):
            out.add(
                f"{where} has type '{spec['type']}' but the form field '{name}' is "
                f"'{form.type}'; leave the type out or make them agree",
                file=config.source,
            )
        if spec.get("open") and start_form and name not in starting:
            out.add(
                f"{where} is open for customers but the start event's form does not declare "
                f"'{name}', so a new case cannot take it; add it to the start form",
                file=config.source,
            )
        was = found.get(name)
        found[name] = FormField(
            id=name,
            label=spec["label"],
            type=form.type if form else spec.get("type") or "string",
            enum_values=form.enum_values if form else (),
            constraints=dict(form.constraints) if form else {},
            public="open" if spec.get("open") else (was.public if was else "true"),
        )
    return tuple(found.values())


def _read_xml(bpmn_xml: bytes, out: Collector) -> etree._Element | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(bpmn_xml, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        out.add(f"not well-formed XML: {exc.msg}", line=line, column=column)
        return None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        namespace = etree.QName(root).namespace or "no namespace"
        out.add(
            f"not a BPMN 2.0 file: the root element is <{etree.QName(root).localname}> in "
            f"{namespace}; expected <definitions> in {BPMN_NS}",
            at=root,
        )
        return None
    return root


@cache
def _schema() -> etree.XMLSchema:
    """The BPMN 2.0 XSDs shipped with SpiffWorkflow, compiled once per process."""
    validator: etree.XMLSchema = BpmnValidator().validator
    return validator


def _check_schema(root: etree._Element, out: Collector) -> None:
    # bpmn-js writes <formalExpression> where the schema wants <messagePath> in message
    # correlations; every BPMN tool reads it, so check it under the schema's name.
    renamed = elements(
        root, ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", NS
    )
    for node in renamed:
        node.tag = f"{{{BPMN_NS}}}messagePath"
    schema = _schema()
    valid = schema.validate(root)
    for node in renamed:
        node.tag = f"{{{BPMN_NS}}}formalExpression"
    if valid:
        return
    tree = root.getroottree()
    prefixes = {prefix: uri for prefix, uri in root.nsmap.items() if prefix}
    # lxml-stubs declare the error log as an empty class; lxml's iterates its entries.
    for entry in schema.error_log:  # type: ignore[attr-defined]
        message = entry.message.replace(f"{{{BPMN_NS}}}", "bpmn:")
        try:
            found = elements(tree, entry.path, prefixes) if entry.path else []
        except etree.XPathError:
            found = []
        if found:
            line, column = out.positions.position(found[0])
        else:
            named = _SCHEMA_ELEMENT.match(entry.message)
            line = entry.line
            column = out.positions.column_of(line, named.group(1)) if named else None
        out.add(
            f"does not match the BPMN 2.0 schema: {message}",
            line=line,
            column=column,
            structural=True,
        )


def _event_id(timer_value: etree._Element) -> str | None:
    """The id of the event a timer value belongs to (value < timer definition < event).

    A value drawn outside an event (the schema check reports it) has no such event.
    """
    definition = timer_value.getparent()
    event = definition.getparent() if definition is not None else None
    return event.get("id") if event is not None else None


def _choose_process(
    root: etree._Element, config: CaseTypeConfig, out: Collector
) -> tuple[etree._Element, str] | None:
    """The process to run and its id; None (with the problem reported) if there is none."""
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        out.add("the file contains no <bpmn:process>", at=root, structural=True)
        return None
    if config.process:
        chosen = [p for p in processes if p.get("id") == config.process]
        if not chosen:
            ids = ", ".join(p.get("id", "?") for p in processes)
            out.add(
                f"process '{config.process}' named in {config.source} is not in the file; "
                f"processes: {ids}",
                at=root,
                structural=True,
            )
            return None
        process = chosen[0]
    else:
        executable = [p for p in processes if p.get("isExecutable") == "true"]
        if len(executable) > 1:
            ids = ", ".join(p.get("id", "?") for p in executable)
            out.add(
                f"the file has several executable processes ({ids}); name the one to run as "
                f"case_type.process in {config.source}",
                at=root,
                structural=True,
            )
            return None
        # None executable: a documentation diagram, deployed for viewing as a whole.
        process = (executable or processes)[0]
    process_id = process.get("id")
    if not process_id:
        out.add(
            "the process has no id, so no version of it can be stored: set its ID in the "
            "modeler's process properties",
            node=process,
            structural=True,
        )
        return None
    if process.get("isExecutable") != "true":
        out.add(
            'the process is not marked isExecutable="true": it is deployed for viewing only '
            "and no case can be opened on it; tick 'Executable' in the modeler's process "
            "properties to run it",
            node=process,
            severity="warning",
        )
    return process, process_id


def _id_by_name(root: etree._Element, name: str | None) -> str | None:
    if not name:
        return None
    found = elements(root, "//*[@name=$name][@id]", name=name)
    return found[0].get("id") if found else None


def process_node(root: etree._Element, process_id: str) -> etree._Element:
    found = elements(root, "./bpmn:process[@id=$id]", NS, id=process_id)
    return found[0] if found else root


def _parse_spec(
    root: etree._Element, process_id: str, source: str, out: Collector, decisions: Decisions
) -> tuple[BpmnProcessSpec | None, dict[str, BpmnProcessSpec]]:
    parser = CaseParser()
    try:
        for name, dmn in decisions:
            parser.add_dmn_xml(dmn, filename=name)
        parser.add_bpmn_xml(root, filename=source)
        spec = parser.get_spec(process_id)
        return spec, parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        element_id = exc.id or _id_by_name(root, exc.name)
        located = element_id or exc.line_number
        if (element_id and any(p.element == element_id for p in out.errors)) or (
            not located and out.errors
        ):
            return None, {}  # our own checks already explained this
        out.add(
            str(exc.args[0] if exc.args else exc),
            element_id=element_id or None,
            line=exc.line_number or None,
            at=None if located else process_node(root, process_id),
        )
    except SpiffWorkflowException as exc:
        if not out.errors:  # else most likely a consequence of a problem already reported
            message = f"cannot be run: {exc.args[0] if exc.args else exc}"
            out.add(message, at=process_node(root, process_id))
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        # The library crashes (rather than reports) on some modeler constructs.
        out.add(
            f"cannot be parsed ({type(exc).__name__}: {exc}); an element is probably "
            "incomplete in the modeler",
            at=process_node(root, process_id),
        )
    return None, {}
