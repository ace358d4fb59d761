"""SLA policies and their business-hours calendars, for administrators.

The overview shows each case type's newest policy version: its targets and its calendar
(zone, opening hours per weekday, public holidays).  Editing goes through the same engine
calls as ``run.py sla policy`` / ``sla calendar`` / ``sla migrate`` (``engine/sla/versions``):

* a new calendar moves every open clock at once (a holiday added today moves due times);
* new target durations become a new policy version for new cases; open cases keep theirs
  unless "move open cases" is ticked.

Each problem is named next to its field in the engine's words (``17:00-09:00`` "ends before
it starts"), and nothing is stored while any remains.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput, NotFound
from engine.sla import versions
from engine.sla.hours import WEEKDAYS, parse_hours
from engine.sla.options import read_section
from engine.store.models import CaseType
from engine.store.sla import SlaPolicyVersion
from rules.user_admin import require_admin

from ..auth import Actor, acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin/sla", include_in_schema=False)


def _newest(me: Actor, case_type_id: int) -> SlaPolicyVersion | None:
    return me.work.session.scalar(
        select(SlaPolicyVersion)
        .where(SlaPolicyVersion.case_type_id == case_type_id)
        .order_by(SlaPolicyVersion.number.desc())
        .limit(1)
    )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _shown(definition: dict[str, Any]) -> dict[str, Any]:
    """A stored definition as the form shows it: one line of hours per weekday."""
    calendar = definition.get("calendar") or {}
    weekly = parse_hours(calendar.get("hours", "24/7"))
    holidays = calendar.get("holidays") or {}
    values: dict[str, Any] = {
        day: ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in spans)
        for day, spans in zip(WEEKDAYS, weekly, strict=True)
    }
    values["timezone"] = calendar.get("timezone", "UTC")
    values["country"] = holidays.get("country", "")
    values["subdivision"] = holidays.get("subdivision", "")
    values["extra_holidays"] = ", ".join(str(d) for d in calendar.get("extra_holidays", []))
    for name, target in (definition.get("targets") or {}).items():
        values[f"within_{name}"] = target.get("within", "")
    return values


def _types(me: Actor) -> list[dict[str, Any]]:
    rows = []
    for kind in me.work.session.scalars(select(CaseType).order_by(CaseType.key)):
        newest = _newest(me, kind.id)
        definition = newest.definition if newest else {}
        rows.append(
            {
                "kind": kind,
                "version": newest.number if newest and definition else None,
                "targets": definition.get("targets") or {},
                "values": _shown(definition) if definition else {},
            }
        )
    return rows


def _calendar(form: dict[str, str], old: dict[str, Any]) -> dict[str, Any]:
    """The calendar fields as a calendar table; each bad field named (:class:`InvalidInput`)."""
    errors: dict[str, str] = {}
    hours: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        spans = [s.strip() for s in form.get(day, "").split(",") if s.strip()]
        if spans:
            try:
                parse_hours({day: spans})
            except ValueError as exc:
                errors[day] = str(exc).split(": ", 1)[-1]
        hours[day] = spans
    if not errors and not any(hours.values()):
        errors["hours"] = "the calendar is never open; give at least one interval"
    calendar: dict[str, Any] = {**old, "timezone": form.get("timezone", "").strip(), "hours": hours}
    holidays = {k: form.get(k, "").strip() for k in ("country", "subdivision")}
    source = {**(old.get("holidays") or {}), **{k: v for k, v in holidays.items() if v}}
    for key in ("country", "subdivision"):
        if not holidays[key]:
            source.pop(key, None)
    calendar["holidays"] = source
    if not source:
        calendar.pop("holidays")
    extra = [d.strip() for d in form.get("extra_holidays", "").split(",") if d.strip()]
    calendar["extra_holidays"] = extra
    if not extra:
        calendar.pop("extra_holidays")
    if errors:
        raise InvalidInput("the calendar was not saved", errors)
    return calendar


def _same(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two calendars are the same (hours compared as opened, not as written)."""

    def plain(calendar: dict[str, Any]) -> dict[str, Any]:
        return {**calendar, "hours": parse_hours(calendar.get("hours", "24/7"))}

    return plain(one) == plain(other)


def _checked(definition: dict[str, Any]) -> None:
    """The engine's own check; its message goes to the field it names."""
    try:
        read_section(definition)
    except ValueError as exc:
        where, _, why = str(exc).partition(": ")
        parts = where.split("[")[0].split(".")
        field = f"within_{parts[1]}" if parts[0] == "targets" and len(parts) > 1 else parts[0]
        field = {"holidays": "country"}.get(field, field)
        raise InvalidInput("the SLA policy was not saved", {field: why or str(exc)}) from None


def _page(request: Request, me: Actor, **extra: Any) -> Response:
    errors = extra.get("errors") or {}
    context = {**base_context(me, False), "types": _types(me), "weekdays": WEEKDAYS, **extra}
    return render(request, "admin_sla.html", context, status=422 if errors else 200)


@router.get("")
def overview(request: Request, saved: str = "") -> Response:
    with acting(request) as me:
        require_admin(me.subject)
        return _page(request, me, notice=f"{saved}: saved." if saved else None)


@router.post("/{key}")
async def save(request: Request, key: str) -> Response:
    """Save a type's calendar (open clocks move) and target durations (a new version)."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            require_admin(me.subject)
            kind = me.work.session.scalar(select(CaseType).where(CaseType.key == key))
            newest = _newest(me, kind.id) if kind else None
            if kind is None or newest is None or not newest.definition:
                raise NotFound(f"case type {key} has no SLA policy")
            old = newest.definition
            try:
                calendar = _calendar(form, old.get("calendar") or {})
                targets = {
                    name: {**target, "within": form.get(f"within_{name}", "").strip()}
                    for name, target in (old.get("targets") or {}).items()
                }
                definition = {**old, "calendar": calendar, "targets": targets}
                _checked(definition)
            except InvalidInput as exc:
                errors = {str(k): str(v) for k, v in exc.errors.items()}
                return _page(request, me, editing=key, typed=form, errors=errors)
            who = me.user.id
            if not _same(calendar, old.get("calendar") or {}):
                versions.change_calendar(me.work, kind.id, calendar, dry_run=False, actor_id=who)
            versions.store(me.work, kind.id, definition, actor_id=who)
            if form.get("migrate") == "on":
                versions.migrate(me.work, kind.id, dry_run=False, actor_id=who)
        return RedirectResponse(f"/admin/sla?saved={key}#sla-{key}", status_code=303)

    return await run_in_threadpool(work)
