"""What the case page's editing forms need (``case_edit.py`` handles them): only the forms
of the actions the one decision allows are shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.run import case_edits, case_links, cases
from engine.runtime import UnitOfWork
from engine.store.access import PortalMembership
from engine.store.models import User
from rules import case_acts

from ..auth import Actor


def agent_names(work: UnitOfWork) -> list[str]:
    """Active users who are not portal customers: whom a case may be assigned to."""
    portal_users = select(PortalMembership.user_id)
    return list(
        work.session.scalars(
            select(User.username)
            .where(User.is_active.is_(True), User.id.not_in(portal_users))
            .order_by(User.username)
            .limit(500)
        )
    )


def edit_context(me: Actor, detail: dict[str, Any]) -> dict[str, Any]:
    """What the editing forms need, shown only for actions the decision allows."""
    allowed = set(detail["allowed"])
    context: dict[str, Any] = {
        "can": {a: a in allowed for a in _ACTIONS},
        "priorities": cases.PRIORITIES,
    }
    if allowed & {*_ACTIONS, "reassign"}:  # the names offered to assign and hand over to
        context["agents"] = agent_names(me.work)
    if not allowed & set(_ACTIONS):
        return context
    case = cases.case_by_number(me.work, detail["number"])
    context["move_types"] = [
        t.key for t in case_acts.openable_types(me.work, me.subject) if t.key != detail["type"]
    ]
    rules = case_edits.policy(me.work, case)
    context["outcomes"] = list(rules.outcomes)
    context["reopenable"] = rules.reopenable(case.closed_at, me.work.now)
    context["final_reason"] = rules.why_final()
    merged = case_links.merged_into(me.work, case.id)
    if merged is not None:  # a merge stays: its stream and mail are the other case's
        context["reopenable"] = False
        context["final_reason"] = detail.get("outcome") or "it was merged into another case"
    context["link_kinds"] = list(case_links.KINDS)
    return context


_ACTIONS = (
    "edit", "assign", "delegate_case", "move", "cancel", "reopen", "collaborators", "merge", "link",
)  # fmt: skip
