"""Creation rules, the workflow-rule channel: "when a case of type A closes with outcome X,
open a case of type B".

The rules are the ``[[on_close]]`` tables of type A's TOML (``events_config.py``).  The
outcome is the end event the process finished at (its id or name; ``"*"`` for any); a
case closed by hand has no outcome and opens nothing.  The new case opens in the same
transaction as the close -- both happen or neither -- with the closed case's variables
(only those its start form declares, when it has one), a variable ``opened_from`` naming
the closed case, and a link between the two.  A chain of rules stops after
:data:`MAX_CHAIN` cases opened by one close, so two rules pointing at each other cannot
loop.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState

from engine.run import cases
from engine.run.workflows import LiveCase
from engine.runtime import UnitOfWork

MAX_CHAIN = 5
_DEPTH: ContextVar[int] = ContextVar("creation_rule_depth", default=0)
_SET_BY_CASEWORK = frozenset({"case_number", "raiser", "subject", "priority", "opened_from"})


def outcomes(live: LiveCase) -> set[str]:
    """The ids and names of the end events the finished process reached."""
    found: set[str] = set()
    for task in live.workflow.get_tasks(state=TaskState.COMPLETED):
        spec = task.task_spec
        if isinstance(spec, EndEvent):
            found.update(x for x in (spec.bpmn_id, spec.bpmn_name) if x)
    return found


def on_close(work: UnitOfWork, live: LiveCase) -> list[str]:
    """Open the cases the closed case's rules ask for; their numbers."""
    rules = live.version.config.events.get("on_close") or []
    if not rules or _DEPTH.get() >= MAX_CHAIN:
        return []
    reached = outcomes(live)
    last = live.workflow.last_task or live.workflow.task_tree
    variables = {k: v for k, v in last.data.items() if k not in _SET_BY_CASEWORK}
    subject = str(last.data.get("subject") or live.ref.number)
    opened = []
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        for rule in rules:
            if rule["outcome"] != "*" and rule["outcome"] not in reached:
                continue
            title = (rule.get("subject") or "{subject}").format_map(
                _Defaulting(subject=subject, case_number=live.ref.number)
            )[:500]
            new = cases.open_case(
                work,
                case_type=rule["open"],
                subject=title,
                raiser=None,
                data=_data_for(work, rule["open"], variables, live.ref.number),
            )
            cases.link_cases(
                work,
                new.id,
                live.ref.id,
                actor_id=None,
                reason=f"opened when {live.ref.number} closed ({rule['outcome']})",
            )
            opened.append(new.number)
    finally:
        _DEPTH.reset(token)
    return opened


def _data_for(work: UnitOfWork, key: str, variables: dict[str, Any], source: str) -> dict[str, Any]:
    from engine.run.case_types import current_version_id

    _, version_id = current_version_id(work, key)
    version = work.runtime.version(work.session, version_id)
    if version.start_form:
        known = {f.id for f in version.start_form}
        return {k: v for k, v in variables.items() if k in known}
    return {**variables, "opened_from": source}


class _Defaulting(dict[str, str]):
    """``{name}`` placeholders the subject template may use; unknown ones stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
