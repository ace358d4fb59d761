"""Named views: case types x scopes plus field filters, offered to groups.

A view never widens what a user sees: its conditions are added to the visibility
filter, so two users with the same view see the same cases only if their
permissions agree (ConSol's rule).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from engine.errors import InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.access import View, ViewGroup
from engine.store.models import Case, CaseType, Group

from .checks import cases_query
from .subject import Subject

SCOPES = ("open", "closed")
FILTERS = {"priority": Case.priority, "status": Case.status}


def add_view(
    work: UnitOfWork,
    *,
    name: str,
    case_types: list[str],
    scopes: list[str],
    filters: dict[str, Any],
    groups: list[str],
) -> View:
    errors = {}
    bad_scopes = [s for s in scopes if s not in SCOPES]
    if bad_scopes:
        errors["scopes"] = f"unknown {bad_scopes}; scopes: {', '.join(SCOPES)}"
    unknown = [f for f in filters if f not in (*FILTERS, "assignee")]
    if unknown:
        errors["filters"] = f"unknown {unknown}; filters: {', '.join((*FILTERS, 'assignee'))}"
    known_types = set(
        work.session.scalars(select(CaseType.key).where(CaseType.key.in_(case_types)))
    )
    if set(case_types) - known_types:
        errors["case_types"] = f"no case type {sorted(set(case_types) - known_types)}"
    group_ids = dict(
        work.session.execute(select(Group.name, Group.id).where(Group.name.in_(groups)))
        .tuples()
        .all()
    )
    if set(groups) - set(group_ids):
        errors["groups"] = f"no group {sorted(set(groups) - set(group_ids))}"
    if errors:
        raise InvalidInput("invalid view", errors)
    view = View(name=name, case_types=case_types, scopes=scopes, filters=filters)
    work.session.add(view)
    work.session.flush()
    work.session.add_all([ViewGroup(view_id=view.id, group_id=g) for g in group_ids.values()])
    return view


def views_for(work: UnitOfWork, subject: Subject) -> list[View]:
    """The views offered to the subject's groups (administrators get every view)."""
    query = select(View).order_by(View.name)
    if not subject.is_admin:
        query = query.where(
            View.id.in_(
                select(ViewGroup.view_id).where(ViewGroup.group_id.in_(sorted(subject.group_ids)))
            )
        )
    return list(work.session.scalars(query))


def view_query(work: UnitOfWork, subject: Subject, name: str) -> Select[tuple[Case]]:
    """The view's cases, always intersected with what the subject may see."""
    view = next((v for v in views_for(work, subject) if v.name == name), None)
    if view is None:
        raise NotFound(f"no view '{name}' for {subject.username}")
    query = cases_query(subject)
    if view.case_types:
        query = query.where(
            Case.case_type_id.in_(select(CaseType.id).where(CaseType.key.in_(view.case_types)))
        )
    if view.scopes:
        query = query.where(Case.status.in_(view.scopes))
    for field, value in view.filters.items():
        if field == "assignee":
            query = query.where(
                Case.assignee_id == subject.user_id if value == "me" else Case.assignee_id.is_(None)
            )
        else:
            query = query.where(FILTERS[field] == value)
    return query
