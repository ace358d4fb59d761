"""The SLA report's facts: one narrow row per case, kept as the case moves.

A case's row is written when it opens (its slice: case type, handling group, priority),
gets its first agent answer (wall-clock seconds to it) and closes (seconds to the close,
its slice again with the priority it ended on, and how many targets were met or
breached, from :func:`engine.sla.outcomes.outcomes`).  Opening and closing also count
the case into the monthly rollup (``engine.sla.rollup``), which the report reads
(``engine.sla.report``): it never scans the facts nor replays a clock.

Percentiles come from log-scale buckets: :func:`bucket` maps seconds to an integer
whose width is 5% of the value, and :func:`seconds_of` answers the bucket's middle, so a
reported median or p90 is within 2.5% of the exact one.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.runtime import LoadedVersion, UnitOfWork
from engine.store.fast import Prepared, prepared_insert
from engine.store.models import Case, Group
from engine.store.sla import CaseSla, SlaCaseFact, SlaEvent, SlaSlice

from . import rollup
from .events import ClockEvent
from .outcomes import outcomes, tally

#: buckets per e-fold of seconds: 20 makes a bucket 5% wide
PER_E = 20

_SLICE = Prepared(
    select(SlaSlice.id).where(
        SlaSlice.case_type_id == bindparam("case_type_id"),
        SlaSlice.group_id == bindparam("group_id"),
        SlaSlice.priority == bindparam("priority"),
    )
)
_GROUP = Prepared(select(Group.id).where(Group.name == bindparam("name")))
_INSERT_FACT = prepared_insert(
    SlaCaseFact.__table__,
    ["case_id", "slice_id", "opened_at", "opened_month", "targets_met", "targets_breached"],
)
_OPENED = Prepared(
    select(SlaCaseFact.opened_at, SlaCaseFact.first_response_s).where(
        SlaCaseFact.case_id == bindparam("case_id")
    )
)
_RESPONDED = Prepared(
    update(SlaCaseFact.__table__)
    .where(
        SlaCaseFact.__table__.c.case_id == bindparam("b_case_id"),
        SlaCaseFact.__table__.c.first_response_s.is_(None),
    )
    .values(first_response_s=bindparam("seconds"), response_bucket=bindparam("bucket"))
)


def bucket(seconds: float) -> int:
    """The log-scale bucket of a non-negative duration in seconds."""
    return int(math.log1p(max(seconds, 0.0)) * PER_E)


def seconds_of(number: int) -> float:
    """The middle of a bucket, in seconds."""
    return math.expm1((number + 0.5) / PER_E)


def month_of(at: datetime) -> int:
    """``yyyymm`` of an instant, in UTC (the engine's datetimes are UTC)."""
    return at.year * 100 + at.month


def handling_group(version: LoadedVersion) -> str | None:
    """The group a case type's cases are reported under: the group new cases are assigned
    from (``[assignment] cases``), else the first group of the ``manager`` role."""
    rule = version.config.assignment.get("cases")
    if isinstance(rule, dict) and rule.get("group"):
        return str(rule["group"])
    groups = version.config.groups_for_role("manager")
    return groups[0] if groups else None


def slice_id(work: UnitOfWork, version: LoadedVersion, priority: str) -> int:
    """The slice of (case type, handling group, priority), created on first use.

    Every open and close asks, so the answer is kept per process once its transaction
    has committed (a slice row is never deleted, and a version's handling group is fixed).
    """
    key = (version.id, priority)
    known = work.runtime.sla_slices.get(key)
    if known is not None:
        return known
    found = _find_or_add_slice(work, version, priority)
    work.after_commit.append(lambda: work.runtime.sla_slices.put(key, found))
    return found


def _find_or_add_slice(work: UnitOfWork, version: LoadedVersion, priority: str) -> int:
    name = handling_group(version)
    row = _GROUP.first(work.session, {"name": name}) if name else None
    params = {
        "case_type_id": version.case_type_id,
        "group_id": row[0] if row else 0,
        "priority": priority,
    }
    found = _SLICE.first(work.session, params)
    if found is not None:
        return int(found[0])
    # two first cases of a new slice at once: the loser's insert does nothing
    dialect = work.session.get_bind().dialect.name
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    work.session.execute(build(SlaSlice).values(**params).on_conflict_do_nothing())
    found = _SLICE.first(work.session, params)
    assert found is not None
    return int(found[0])


def opened(work: UnitOfWork, case_id: int, version: LoadedVersion, priority: str) -> None:
    """A case opened now."""
    where = slice_id(work, version, priority)
    month = month_of(work.now)
    _INSERT_FACT.execute(
        work.session,
        {
            "case_id": case_id,
            "slice_id": where,
            "opened_at": work.now,
            "opened_month": month,
            "targets_met": 0,
            "targets_breached": 0,
        },
    )
    rollup.add(
        work, month=month, slice_id=where, measure=rollup.OPENED, bucket=rollup.spread(case_id)
    )


def responded(work: UnitOfWork, case_id: int) -> None:
    """An agent answered the customer now; only the first answer counts."""
    row = _OPENED.first(work.session, {"case_id": case_id})
    if row is None or row[1] is not None:
        return
    seconds = max(int((work.now - row[0]).total_seconds()), 0)
    _RESPONDED.execute(
        work.session, {"b_case_id": case_id, "seconds": seconds, "bucket": bucket(seconds)}
    )


_CLOSING = Prepared(
    select(Case.priority, SlaCaseFact.opened_at, SlaCaseFact.response_bucket, CaseSla.policy_id)
    .join(SlaCaseFact, SlaCaseFact.case_id == Case.id)
    .outerjoin(CaseSla, CaseSla.case_id == Case.id)
    .where(Case.id == bindparam("case_id"))
)
_EVENTS = Prepared(
    select(SlaEvent.kind, SlaEvent.at, SlaEvent.target)
    .where(SlaEvent.case_id == bindparam("case_id"))
    .order_by(SlaEvent.id)
)
_CLOSED = Prepared(
    update(SlaCaseFact.__table__)
    .where(SlaCaseFact.__table__.c.case_id == bindparam("b_case_id"))
    .values(
        slice_id=bindparam("slice_id"),
        closed_month=bindparam("month"),
        resolution_s=bindparam("seconds"),
        resolution_bucket=bindparam("bucket"),
        targets_met=bindparam("met"),
        targets_breached=bindparam("breached"),
    )
)


def closed(work: UnitOfWork, case_id: int, version: LoadedVersion) -> None:
    """The case closed now: seconds to resolution, final slice, targets met and breached."""
    row = _CLOSING.first(work.session, {"case_id": case_id})
    if row is None:  # opened before facts were kept
        return
    priority, opened_at, response_bucket, policy_id = row
    met = breached = 0
    if policy_id is not None:
        policy = work.runtime.sla_policy(work.session, policy_id).policy
        events = [
            ClockEvent(kind, at, target)
            for kind, at, target in _EVENTS.rows(work.session, {"case_id": case_id})
        ]
        met, breached = tally(outcomes(policy, events, closed_at=work.now, now=work.now))
    seconds = max(int((work.now - opened_at).total_seconds()), 0)
    where, month = slice_id(work, version, priority), month_of(work.now)
    _CLOSED.execute(
        work.session,
        {
            "b_case_id": case_id,
            "slice_id": where,
            "month": month,
            "seconds": seconds,
            "bucket": bucket(seconds),
            "met": met,
            "breached": breached,
        },
    ).close()
    rollup.add(
        work,
        month=month,
        slice_id=where,
        measure=rollup.CLOSED,
        bucket=bucket(seconds),
        met=met,
        breached=breached,
    )
    if response_bucket is not None:
        rollup.add(
            work, month=month, slice_id=where, measure=rollup.ANSWERED, bucket=response_bucket
        )
