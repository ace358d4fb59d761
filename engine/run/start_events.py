"""Cases that open themselves: timer start events, swept by the worker.

Timer start events (a date, a duration after the deploy, an ISO repetition or a cron
expression) are scheduled from each case type's current version: :func:`schedule` keeps
one ``start_timers`` row waiting per start event, its next due time.  :func:`sweep` hands
each due row to exactly one worker -- ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional UPDATE from ``waiting`` to ``fired`` on SQLite -- which opens the case and
schedules the next due time in the same transaction.  The unique (type, element, due
time) makes "one case per due time" a property of the table, however many workers run.
A worker that was down opens one case for the due times it missed, not one per tick.

A due time whose case cannot open (the new case's first steps fail, its start form wants
a value no timer gives) is not tried again on every tick: the row is marked ``failed``
and an incident of the case type (there is no case to hold it) tells the type's managers
what failed; ``run.py incidents retry`` opens the case once the process is fixed.  A start
event whose value names no time gets such an incident too, and no due time, until retried.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.errors import CaseworkError, InvalidInput, ProcessError
from engine.run import cases, incidents
from engine.run.schedules import ScheduleError, TimerStart, next_due, timer_starts
from engine.runtime import Runtime, UnitOfWork
from engine.store.db import changed_rows
from engine.store.events import Incident, StartTimer
from engine.store.models import CaseType, CaseTypeVersion

log = logging.getLogger(__name__)


def _current_versions(work: UnitOfWork) -> list[tuple[int, str, int, Any]]:
    rows = work.session.execute(
        select(CaseType.id, CaseType.key, CaseTypeVersion.id, CaseTypeVersion.deployed_at)
        .join(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
        .order_by(CaseType.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def schedule(work: UnitOfWork) -> int:
    """Keep one waiting row per timer start event of every current version; settle rows of
    start events a newer version no longer has.  Returns how many rows it added."""
    added = 0
    for type_id, key, version_id, deployed_at in _current_versions(work):
        try:
            version = work.runtime.version(work.session, version_id)
        except InvalidInput:  # deployed for viewing only: nothing starts
            continue
        starts = {s.element_id: s for s in timer_starts(version.spec)}
        waiting = work.session.scalars(
            select(StartTimer).where(
                StartTimer.case_type_id == type_id, StartTimer.state == "waiting"
            )
        ).all()
        for row in waiting:
            if row.element_id not in starts:
                row.state = "cancelled"
            elif row.version_id != version_id:
                row.version_id = version_id  # the new version opens it (same element)
        have = {row.element_id for row in waiting if row.element_id in starts}
        for start in starts.values():
            if start.element_id in have:
                continue
            last = work.session.scalar(
                select(func.max(StartTimer.due_at)).where(
                    StartTimer.case_type_id == type_id,
                    StartTimer.element_id == start.element_id,
                )
            )
            after = max(last or deployed_at, deployed_at)
            due = _scheduled(work, type_id, start, key, after, deployed_at)
            if due is not None:
                added += _insert(work, type_id, version_id, start.element_id, due)
    return added


def _scheduled(
    work: UnitOfWork, type_id: int, start: TimerStart, key: str, after: Any, since: Any
) -> Any:
    """The next due time, or None; a value that names no time becomes an incident of the
    case type (once: later sweeps find it open and stay quiet)."""
    try:
        return next_due(start.kind, start.expression, after, since=since)
    except ScheduleError as exc:
        row, new = incidents.record_for_type(
            work,
            type_id,
            element_id=start.element_id,
            element_name=start.name,
            reason=str(exc),
            code=start.expression,
            action={"kind": "schedule"},
        )
        if new:
            log.error(
                "%s: timer start event %s names no due time: %s; incident %s",
                key,
                start.element_id,
                exc,
                row.id,
            )
        return None


def _next(start: TimerStart, key: str, after: Any, since: Any) -> Any:
    try:
        return next_due(start.kind, start.expression, after, since=since)
    except ScheduleError as exc:  # deploy checks the value; an old version may not have
        log.warning("%s: timer start %s: %s", key, start.element_id, exc)
        return None


def _insert(work: UnitOfWork, type_id: int, version_id: int, element_id: str, due: Any) -> int:
    """Add a waiting row unless one exists for this due time (another worker's, or one
    already fired): the unique key decides, never a read before the write."""
    dialect = work.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(StartTimer)
        .values(
            case_type_id=type_id,
            version_id=version_id,
            element_id=element_id,
            due_at=due,
            state="waiting",
        )
        .on_conflict_do_nothing()
    )
    result = work.session.execute(statement)
    return result.rowcount if isinstance(result, CursorResult) else 0


def due_rows(work: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Ids of start timers that are due, earliest first (read only, no locks)."""
    return list(
        work.session.scalars(
            select(StartTimer.id)
            .where(StartTimer.state == "waiting", StartTimer.due_at <= work.now)
            .order_by(StartTimer.due_at)
            .limit(limit)
        )
    )


def _claim(work: UnitOfWork, row_id: int) -> StartTimer | None:
    """The due row for this transaction, marked fired; None when another worker has it."""
    due = (StartTimer.id == row_id, StartTimer.state == "waiting")
    if work.session.get_bind().dialect.name == "postgresql":
        locked = work.session.scalars(
            select(StartTimer.id).where(*due).with_for_update(skip_locked=True)
        ).first()
        if locked is None:
            return None
    taken = changed_rows(
        work.session,
        update(StartTimer)
        .where(*due)
        .values(state="fired")
        .execution_options(synchronize_session=False),
    )
    if taken != 1:
        return None
    row = work.session.get(StartTimer, row_id)
    if row is not None:
        work.session.refresh(row)
    return row


class StartFailed(CaseworkError):
    """A due start timer whose case could not open; what failed, for the incident."""

    def __init__(self, reason: str, *, code: str | None = None, line: int | None = None):
        super().__init__(reason)
        self.reason, self.code, self.line = reason, code, line


def fire(work: UnitOfWork, row_id: int, *, schedule_next: bool = True) -> str | None:
    """Open the case of one due start timer and schedule the next; ``None`` when another
    worker took it.  Raises :class:`StartFailed` when the case cannot open."""
    row = _claim(work, row_id)
    if row is None:
        return None
    kind = work.session.get(CaseType, row.case_type_id)
    assert kind is not None
    version = work.runtime.version(work.session, row.version_id)
    start = next((s for s in timer_starts(version.spec) if s.element_id == row.element_id), None)
    subject = f"{start.name if start else row.element_id} {row.due_at:%Y-%m-%d %H:%M} UTC"
    try:
        opened = cases.open_case(work, case_type=kind.key, subject=subject, raiser=None)
    except ProcessError as exc:
        where = f"step '{exc.element_name or exc.element_id}' failed: " if exc.element_id else ""
        raise StartFailed(f"{where}{exc.reason}", code=exc.code, line=exc.line) from exc
    except CaseworkError as exc:
        raise StartFailed(str(exc)) from exc
    row.case_id = opened.id
    if start is not None and schedule_next:
        deployed = work.session.scalar(
            select(CaseTypeVersion.deployed_at).where(CaseTypeVersion.id == row.version_id)
        )
        after = max(row.due_at, work.now)  # missed due times open no case of their own
        due = _next(start, kind.key, after, deployed)
        if due is not None:
            _insert(work, row.case_type_id, row.version_id, row.element_id, due)
    return opened.number


def sweep(runtime: Runtime, *, limit: int = 100) -> list[str]:
    """Schedule, then open the cases of due start timers, each in its own transaction."""
    with runtime.unit() as work:
        schedule(work)
        row_ids = due_rows(work, limit=limit)
    opened = []
    for row_id in row_ids:
        try:
            with runtime.unit() as work:
                number = fire(work, row_id)
        except StartFailed as exc:
            _failed(runtime, row_id, exc)
            continue
        if number:
            opened.append(number)
    return opened


def _failed(runtime: Runtime, row_id: int, exc: StartFailed) -> None:
    """Settle the due time as failed (no retry on every tick) and tell the type's managers
    with an incident; one line in the worker's log."""
    with runtime.unit() as work:
        row = work.session.get(StartTimer, row_id)
        if row is None or row.state != "waiting":
            return  # another worker settled it meanwhile
        row.state = "failed"
        key = work.session.scalar(select(CaseType.key).where(CaseType.id == row.case_type_id))
        version = work.runtime.version(work.session, row.version_id)
        start = next(
            (s for s in timer_starts(version.spec) if s.element_id == row.element_id), None
        )
        incident, _ = incidents.record_for_type(
            work,
            row.case_type_id,
            element_id=row.element_id,
            element_name=start.name if start else None,
            reason=exc.reason,
            code=exc.code,
            line=exc.line,
            action={"kind": "start_timer", "row": row_id},
        )
        log.error(
            "%s: timer start event %s due %s could not open its case: %s; incident %s "
            "(fix the process, then: run.py incidents retry %s)",
            key,
            row.element_id,
            f"{row.due_at:%Y-%m-%d %H:%M} UTC",
            exc.reason,
            incident.id,
            incident.id,
        )


def retry(work: UnitOfWork, incident: Incident) -> str:
    """Replay a case type's start incident: open the due time's case (its next due time
    was scheduled meanwhile), or compute the start event's value again.  Raises
    :class:`ProcessError` when it fails again."""
    assert incident.case_type_id is not None
    kind = work.session.get(CaseType, incident.case_type_id)
    assert kind is not None and kind.current_version_id is not None
    if incident.action.get("kind") == "start_timer":  # on the current (fixed) version
        row_id = int(incident.action["row"])
        work.session.execute(
            update(StartTimer)
            .where(StartTimer.id == row_id, StartTimer.state == "failed")
            .values(state="waiting", version_id=kind.current_version_id)
            .execution_options(synchronize_session=False)
        )
        try:
            number = fire(work, row_id, schedule_next=False)
        except StartFailed as exc:
            raise _again(incident, exc.reason, exc.code, exc.line) from exc
        return number or ""
    version = work.runtime.version(work.session, kind.current_version_id)
    for start in timer_starts(version.spec):
        if start.element_id == incident.element_id:
            try:
                next_due(start.kind, start.expression, work.now, since=work.now)
            except ScheduleError as exc:
                raise _again(incident, str(exc), start.expression, None) from exc
    return ""  # the next sweep schedules it (or the event is gone from the process)


def _again(incident: Incident, reason: str, code: str | None, line: int | None) -> ProcessError:
    return ProcessError(
        reason,
        element_id=incident.element_id,
        element_name=incident.element_name,
        code=code,
        line=line,
    )
