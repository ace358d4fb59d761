"""Case-type configuration: the TOML file a designer keeps beside the BPMN file.

``processes/support.toml`` names the case type, its case-number prefix, which BPMN
process to run, which role each lane plays and which groups hold each role.  The
BPMN file says *what happens*; this file says *who does it*.  Both are reviewed and
versioned together, and ``deploy`` hashes both into the version id.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.errors import DefinitionError, Problem
from engine.sla import read_section

from .children import read_children
from .closing import read_closing
from .events_config import read_events
from .forms import FIELD_TYPES
from .mail_templates import read_templates
from .retention import read_retention

ROLES = ("owner", "manager", "task_user", "monitor", "escalation")
DEFAULT_STAFF_NAME = "Support team"
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,19}$")


@dataclass(frozen=True)
class CaseTypeConfig:
    """Who does what in a case type, as read from its TOML file."""

    key: str
    name: str
    prefix: str
    process: str | None = None
    bpmn: str | None = None
    scripts_enabled: bool = False
    lanes: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    #: ``{"cases": {"rule": "round_robin", "group": "service-desk"}, "tasks": "least_busy"}``
    assignment: dict[str, Any] = field(default_factory=dict)
    #: SLA policy: ``{"calendar": {...}, "targets": {...}}`` (see ``engine.sla``)
    sla: dict[str, Any] = field(default_factory=dict)
    #: ``{"Task_Id": "role"}``: tasks the modeler cannot run that people do by hand
    manual_steps: dict[str, str] = field(default_factory=dict)
    #: the case type's own notice templates by file name (see ``mail_templates.py``)
    mail_templates: dict[str, str] = field(default_factory=dict)
    #: ``[portal.fields]``: process variables customers see, ``{name: {label, type, open}}``
    #: (every other variable is internal); ``open`` ones they may set when opening a case
    portal_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: how the people who work the case are named to customers (``[portal] staff_name``)
    staff_name: str = DEFAULT_STAFF_NAME
    #: DMN files beside the TOML whose decisions business rule tasks call (``dmn.py``)
    decisions: tuple[str, ...] = ()
    #: ``[messages]`` and ``[[on_close]]`` (see ``events_config.py``)
    events: dict[str, Any] = field(default_factory=dict)
    #: ``[closing]``: replies to closed cases, the grace period, outcomes (``closing.py``)
    closing: dict[str, Any] = field(default_factory=dict)
    #: ``[children]``: the case's assignee and teams put on its child records (``children.py``)
    children: dict[str, Any] = field(default_factory=dict)
    #: ``[retention]``: how long closed cases are kept before they are purged
    retention: dict[str, Any] = field(default_factory=dict)
    source: str = "<config>"

    def to_dict(self) -> dict[str, Any]:
        optional: dict[str, Any] = {}
        if self.manual_steps:
            optional["manual_steps"] = dict(self.manual_steps)
        if self.mail_templates:
            optional["mail_templates"] = dict(self.mail_templates)
        if self.portal_fields:
            optional["portal_fields"] = {k: dict(v) for k, v in self.portal_fields.items()}
        if self.staff_name != DEFAULT_STAFF_NAME:
            optional["staff_name"] = self.staff_name
        if self.decisions:
            optional["decisions"] = list(self.decisions)
        if self.events:
            optional["events"] = dict(self.events)
        if self.closing:
            optional["closing"] = dict(self.closing)
        if self.children:
            optional["children"] = dict(self.children)
        if self.retention:
            optional["retention"] = dict(self.retention)
        return {
            **optional,
            "key": self.key,
            "name": self.name,
            "prefix": self.prefix,
            "process": self.process,
            "scripts_enabled": self.scripts_enabled,
            "lanes": dict(self.lanes),
            "roles": {role: list(groups) for role, groups in self.roles.items()},
            "assignment": dict(self.assignment),
            "sla": dict(self.sla),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<stored>") -> CaseTypeConfig:
        return cls(
            key=data["key"],
            name=data["name"],
            prefix=data["prefix"],
            process=data.get("process"),
            scripts_enabled=bool(data.get("scripts_enabled")),
            lanes=dict(data.get("lanes") or {}),
            roles={r: list(g) for r, g in (data.get("roles") or {}).items()},
            assignment=dict(data.get("assignment") or {}),
            sla=dict(data.get("sla") or {}),
            manual_steps=dict(data.get("manual_steps") or {}),
            mail_templates=dict(data.get("mail_templates") or {}),
            portal_fields={k: dict(v) for k, v in (data.get("portal_fields") or {}).items()},
            staff_name=str(data.get("staff_name") or DEFAULT_STAFF_NAME),
            decisions=tuple(data.get("decisions", ())),
            events=dict(data.get("events") or {}),
            closing=dict(data.get("closing") or {}),
            children=dict(data.get("children") or {}),
            retention=dict(data.get("retention") or {}),
            source=source,
        )

    def groups_for_role(self, role: str) -> list[str]:
        return list(self.roles.get(role, []))


def draft_config(lanes: Iterable[str], *, source: str) -> CaseTypeConfig:
    """The TOML a designer would write first: every lane a manager lane, any group.

    Used to check a BPMN file that has no TOML yet: everything but the lane mapping
    can still be checked.
    """
    return CaseTypeConfig(
        key="DRAFT",
        name="Draft",
        prefix="X",
        lanes=dict.fromkeys(lanes, "manager"),
        roles={"manager": ["(any group)"]},
        source=source,
    )


def load_config(path: str | Path) -> CaseTypeConfig:
    """Read and check a case-type TOML file; every problem is reported at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except OSError as exc:
        raise DefinitionError([Problem(str(path), f"cannot read: {exc.strerror}")]) from None
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        line, column = (int(at.group(1)), int(at.group(2))) if at else (None, None)
        raise DefinitionError(
            [Problem(str(path), f"not valid TOML: {exc}", line=line, column=column)]
        ) from None
    try:
        config = parse_config(raw, source=str(path))
    except DefinitionError as exc:
        raise DefinitionError([locate_in_toml(p, text) for p in exc.problems]) from None
    folder = (raw.get("case_type") or {}).get("mail_templates")
    if not folder:
        return config
    templates, problems = read_templates(path.parent / str(folder), str(path))
    if problems:
        raise DefinitionError(problems)
    return replace(config, mail_templates=templates)


_TOML_AT = re.compile(r"at line (\d+), column (\d+)")
_QUOTED = re.compile(r"'([^']+)'")


def locate_in_toml(problem: Problem, text: str) -> Problem:
    """Point a problem at the first line of the TOML that names what it quotes."""
    if problem.line:
        return problem
    for token in _QUOTED.findall(problem.message):
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            column = code.find(f'"{token}"') + 1 or code.find(token) + 1
            if column:
                problem.line, problem.column = number, column
                return problem
    return problem


def parse_config(raw: dict[str, Any], *, source: str) -> CaseTypeConfig:
    """Check the structure of a parsed TOML document and build the config."""
    problems: list[str] = []
    head = raw.get("case_type")
    if not isinstance(head, dict):
        raise DefinitionError([Problem(source, "missing [case_type] table")])
    key = str(head.get("key", ""))
    if not _KEY.match(key):
        problems.append(
            f"case_type.key {key!r} must be upper case letters, digits or _ (e.g. SUPPORT)"
        )
    prefix = str(head.get("prefix", key[:1] or "C"))
    if not _PREFIX.match(prefix):
        problems.append(
            f"case_type.prefix {prefix!r} must be upper case letters or digits (e.g. C)"
        )
    lanes = raw.get("lanes", {})
    roles = raw.get("roles", {})
    if not isinstance(lanes, dict) or not all(isinstance(v, str) for v in lanes.values()):
        problems.append("[lanes] must map lane names to role names")
        lanes = {}
    if not isinstance(roles, dict) or not all(
        isinstance(v, list) and all(isinstance(g, str) for g in v) for v in roles.values()
    ):
        problems.append("[roles] must map role names to lists of group names")
        roles = {}
    for lane, role in lanes.items():
        if role not in ROLES:
            problems.append(
                f"lane {lane!r} maps to unknown role {role!r}; roles: {', '.join(ROLES)}"
            )
    for role in roles:
        if role not in ROLES:
            problems.append(f"[roles] names unknown role {role!r}; roles: {', '.join(ROLES)}")
    manual_steps = raw.get("manual_steps", {})
    problems += _check_manual_steps(manual_steps)
    assignment = raw.get("assignment", {})
    problems += _check_assignment(assignment)
    portal_fields, staff_name, portal_problems = read_portal(raw.get("portal", {}))
    problems += portal_problems
    events, event_problems = read_events(raw)
    problems += event_problems
    closing, closing_problems = read_closing(raw.get("closing"))
    problems += closing_problems
    children, children_problems = read_children(raw.get("children"))
    problems += children_problems
    retention, retention_problems = read_retention(raw.get("retention"))
    problems += retention_problems
    sla = json.loads(json.dumps(raw.get("sla", {}), default=str))  # TOML dates -> ISO text
    if sla:
        try:
            read_section(sla)
        except ValueError as exc:
            problems.append(f"[sla] {exc}")
    decisions = head.get("decisions", [])
    if not isinstance(decisions, list) or not all(isinstance(d, str) for d in decisions):
        problems.append('case_type.decisions must list DMN files: ["approver.dmn"]')
        decisions = []
    if problems:
        raise DefinitionError([Problem(source, p) for p in problems])
    return CaseTypeConfig(
        key=key,
        name=str(head.get("name") or key.title()),
        prefix=prefix,
        process=head.get("process"),
        bpmn=head.get("bpmn"),
        scripts_enabled=bool(head.get("scripts_enabled", False)),
        lanes=dict(lanes),
        roles={role: list(groups) for role, groups in roles.items()},
        assignment=dict(assignment) if isinstance(assignment, dict) else {},
        sla=sla,
        manual_steps=dict(manual_steps),
        portal_fields=portal_fields,
        staff_name=staff_name,
        decisions=tuple(decisions),
        events=events,
        closing=closing,
        children=children,
        retention=retention,
        source=source,
    )


def _check_manual_steps(steps: Any) -> list[str]:
    """``[manual_steps]``: BPMN task id -> the role whose groups do it by hand."""
    if not isinstance(steps, dict) or not all(isinstance(v, str) for v in steps.values()):
        return ['[manual_steps] must map task ids to role names ("Task_1" = "manager")']
    return [
        f"manual step {task!r} names unknown role {role!r}; roles: {', '.join(ROLES)}"
        for task, role in steps.items()
        if role not in ROLES
    ]


ASSIGNMENT_RULES = ("round_robin", "least_busy")


def _check_assignment(assignment: Any) -> list[str]:
    """``[assignment]``: ``cases = {rule, group}`` assigns new cases; ``tasks = RULE`` claims
    ready tasks for one of their candidates."""
    if not isinstance(assignment, dict):
        return ["[assignment] must be a table"]
    problems = []
    for key, value in assignment.items():
        if key == "tasks":
            if value not in ASSIGNMENT_RULES:
                problems.append(f"assignment.tasks must be one of {', '.join(ASSIGNMENT_RULES)}")
        elif key == "cases":
            if not isinstance(value, dict) or value.get("rule") not in ASSIGNMENT_RULES:
                problems.append(
                    'assignment.cases must be {rule = "round_robin" or '
                    '"least_busy", group = "<group>"}'
                )
            elif not isinstance(value.get("group"), str):
                problems.append("assignment.cases.group must name a group")
        else:
            problems.append(f"[assignment] has unknown key {key!r}; keys: cases, tasks")
    return problems


_FIELD_KEYS = ("label", "type", "open")


def read_portal(portal: Any) -> tuple[dict[str, dict[str, Any]], str, list[str]]:
    """``[portal]``: ``staff_name`` and ``[portal.fields]``, the process variables customers
    see (every other one stays internal), each ``{label = "...", type = "...", open = bool}``."""
    if not isinstance(portal, dict):
        return {}, DEFAULT_STAFF_NAME, ["[portal] must be a table"]
    problems = [
        f"[portal] has unknown key '{key}'; keys: staff_name, fields"
        for key in portal
        if key not in ("staff_name", "fields")
    ]
    staff_name = portal.get("staff_name", DEFAULT_STAFF_NAME)
    if not isinstance(staff_name, str) or not staff_name.strip() or len(staff_name) > 100:
        problems.append("portal.staff_name must be a name of 1 to 100 characters")
        staff_name = DEFAULT_STAFF_NAME
    fields = portal.get("fields", {})
    if not isinstance(fields, dict):
        return {}, staff_name, [*problems, "[portal.fields] must be a table of fields"]
    found: dict[str, dict[str, Any]] = {}
    for name, spec in fields.items():
        where = f"portal field '{name}'"
        if not _VARIABLE.match(name):
            problems.append(f"{where}: a name is a letter, then letters, digits or _")
            continue
        if not isinstance(spec, dict):
            problems.append(f'{where} must be a table: {name} = {{label = "...", type = "string"}}')
            continue
        problems += [
            f"{where} has unknown key '{key}'; keys: {', '.join(_FIELD_KEYS)}"
            for key in spec
            if key not in _FIELD_KEYS
        ]
        label, kind, is_open = spec.get("label"), spec.get("type"), spec.get("open", False)
        if not isinstance(label, str) or not label.strip():
            problems.append(f'{where} needs a label customers read (label = "...")')
        if kind is not None and kind not in FIELD_TYPES:
            problems.append(f"{where} has type '{kind}'; types: {', '.join(FIELD_TYPES)}")
        if not isinstance(is_open, bool):
            problems.append(f"{where}: open must be true or false")
        # the type may be left to the BPMN form field of the same name (None until compiled)
        found[name] = {"label": str(label or name), "type": kind, "open": is_open is True}
    return found, staff_name.strip(), problems
