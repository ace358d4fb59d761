"""The audit log for administrators: who changed what and when, filtered by case, acting
user, action and dates, newest first, one page at a time (cut in SQL, never all loaded).

Filters that name nothing (an unknown case or user, a date that is not one) come back with
the problem next to the field and no entries, rather than an unfiltered log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from engine import audit
from engine.store.models import Case, User
from rules.user_admin import require_admin

from ..auth import Actor, acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context

router = APIRouter(route_class=UnitRoute, prefix="/admin/audit", include_in_schema=False)
FILTERS = ("case", "user", "action", "since", "until")


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _query(me: Actor, values: dict[str, str], page: int) -> tuple[audit.AuditQuery, dict[str, str]]:
    """The filters as a query, and what is wrong with each that names nothing."""
    errors: dict[str, str] = {}
    session = me.work.session
    case_id = actor_id = None
    since = before = None
    if values["case"]:
        case_id = session.scalar(select(Case.id).where(Case.number == values["case"]))
        if case_id is None:
            errors["case"] = f"no case {values['case']}"
    if values["user"]:
        actor_id = session.scalar(select(User.id).where(User.username == values["user"]))
        if actor_id is None:
            errors["user"] = f"no user {values['user']}"
    for field in ("since", "until"):
        if values[field]:
            try:
                day = _day(values[field])
            except ValueError:
                errors[field] = "must be a date like 2026-03-31"
                continue
            if field == "since":
                since = datetime.combine(day, time.min, UTC)
            else:
                before = datetime.combine(day + timedelta(days=1), time.min, UTC)
    if since and before and since >= before:
        errors["until"] = "must not be before the start date"
    query = audit.AuditQuery(
        case_id=case_id,
        actor_id=actor_id,
        action=values["action"] or None,
        since=since,
        before=before,
        page=page,
    )
    return query, errors


@router.get("")
def audit_log(request: Request, page: int = 1) -> Response:
    values = {name: request.query_params.get(name, "").strip()[:150] for name in FILTERS}
    page = max(1, min(page, 100_000))
    with acting(request) as me:
        require_admin(me.subject)
        query, errors = _query(me, values, page)
        found = audit.AuditPage([], False) if errors else audit.entries(me.work, query)
        kept = {k: v for k, v in values.items() if v}
        context: dict[str, Any] = {
            **base_context(me, False),
            "values": values,
            "errors": errors,
            "rows": found.rows,
            "page": page,
            "previous": f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
            "next": f"?{urlencode({**kept, 'page': page + 1})}" if found.more else None,
            "actions": audit.actions(me.work),
        }
        return render(request, "admin_audit.html", context, status=422 if errors else 200)
