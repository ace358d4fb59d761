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
from engine.store.access import PersonalView, View, ViewGroup
from engine.store.models import Case, CaseType, Group

from .checks import cases_query
from .subject import Subject

SCOPES = ("open", "closed")
#: what a personal view keeps of the inbox link: filter, sort, direction, role view
PERSONAL_KEYS = ("show", "sort", "dir", "view")
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


def personal_views(work: UnitOfWork, subject: Subject) -> list[PersonalView]:
    """The inbox views the subject saved for themselves, by name."""
    query = select(PersonalView).where(PersonalView.user_id == subject.user_id)
    return list(work.session.scalars(query.order_by(PersonalView.name)))


def save_personal_view(
    work: UnitOfWork, subject: Subject, name: str, params: dict[str, str]
) -> PersonalView:
    """Save the inbox's current filter and sort under ``name`` (saving a name again
    replaces it).  A role view in it must be one offered to the subject ("not found"
    otherwise), so a saved link never reaches further than the subject may."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise InvalidInput("cannot save the view", {"name": "give a name of 1 to 80 characters"})
    kept = {k: str(v)[:200] for k, v in params.items() if k in PERSONAL_KEYS and v}
    if kept.get("view") and all(v.name != kept["view"] for v in views_for(work, subject)):
        raise NotFound(f"no view '{kept['view']}' for {subject.username}")
    found = work.session.scalar(
        select(PersonalView).where(
            PersonalView.user_id == subject.user_id, PersonalView.name == name
        )
    )
    if found is None:
        found = PersonalView(user_id=subject.user_id, name=name)
        work.session.add(found)
    found.params = kept
    work.session.flush()
    return found


def delete_personal_view(work: UnitOfWork, subject: Subject, view_id: int) -> None:
    """Delete one of the subject's own views; anyone else's id is "not found"."""
    found = work.session.get(PersonalView, view_id)
    if found is None or found.user_id != subject.user_id:
        raise NotFound(f"no personal view {view_id}")
    work.session.delete(found)
