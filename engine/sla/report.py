"""The SLA report: per case type, handling group, priority and month, how many cases
opened and closed, how long first answers and resolutions took (median, p90), how many
targets were met or breached, and which open cases are at risk now.

The figures are read from the monthly rollup (``engine.sla.rollup``), kept with the
per-case facts (``engine.sla.facts``): one row per (month, slice, measure, bucket), so
the report reads a number of rows that grows with months and slices, not with cases.
Percentiles come from the log-scale buckets.
Cases opened count in the month they opened; the closing figures in the month they
closed.  Which case types a user may see is the rules' business: the caller passes the
case-type ids (``None``: all).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, select

from engine.numbers import whole_number
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import TIMER_IS_WAITING, CaseType, Group, Timer
from engine.store.sla import SlaCaseFact, SlaRollup, SlaSlice

from . import rollup
from .facts import seconds_of

R = SlaRollup.__table__.c


@dataclass(frozen=True)
class Slice:
    case_type: str
    group: str
    priority: str


@dataclass(frozen=True)
class ReportRow:
    """One (month, slice) of the report; times in seconds, ``None`` without cases."""

    month: str
    case_type: str
    group: str
    priority: str
    opened: int
    closed: int
    first_response_median: float | None
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    targets_met: int
    targets_breached: int


@dataclass(frozen=True)
class AtRisk:
    """Open cases of one slice whose breach is due within the horizon (or overdue)."""

    case_type: str
    group: str
    priority: str
    cases: int


@dataclass(frozen=True)
class SlaReport:
    rows: list[ReportRow]
    at_risk: list[AtRisk]
    at_risk_hours: float
    generated_at: datetime


def month_number(text: str) -> int:
    """``"2026-03"`` -> 202603; ``ValueError`` for anything else."""
    year, _, month = text.partition("-")
    year_no = whole_number(year, low=0, high=9999) if len(year) == 4 else None
    month_no = whole_number(month, high=12) if len(month) == 2 else None
    if year_no is None or month_no is None:
        raise ValueError(f"{text!r} is not a month like 2026-03")
    return year_no * 100 + month_no


def slices(work: UnitOfWork, case_type_ids: frozenset[int] | None) -> dict[int, Slice]:
    """The slices of these case types (``None``: every type), by id."""
    query = (
        select(SlaSlice.id, CaseType.key, Group.name, SlaSlice.priority)
        .join(CaseType, CaseType.id == SlaSlice.case_type_id)
        .outerjoin(Group, Group.id == SlaSlice.group_id)
    )
    if case_type_ids is not None:
        query = query.where(SlaSlice.case_type_id.in_(sorted(case_type_ids)))
    return {
        row_id: Slice(key, group or "", priority)
        for row_id, key, group, priority in work.session.execute(query)
    }


# Compiled once and run on the driver's cursor: the answer is up to tens of thousands
# of small integer rows, and the slices a user may see are picked from them here.
_ROLLUP = Prepared(
    select(R.month, R.slice_id, R.measure, R.bucket, R.cases, R.met, R.breached).where(
        and_(R.month >= bindparam("first"), R.month <= bindparam("last"))
    )
)


def _percentile(histogram: list[tuple[int, int]], total: int, q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of a bucket histogram, as its bucket's middle."""
    if total == 0:
        return None
    rank, seen = math.ceil(q * total), 0
    for number, count in sorted(histogram):
        seen += count
        if seen >= rank:
            return round(seconds_of(number), 1)
    return None  # pragma: no cover - the counts add up to total


def build(
    work: UnitOfWork,
    *,
    case_type_ids: frozenset[int] | None,
    first_month: int | None = None,
    last_month: int | None = None,
    at_risk_hours: float = 4.0,
) -> SlaReport:
    """The report over the months ``first_month``..``last_month`` (``yyyymm``; open ends
    when ``None``) for the given case types."""
    known = slices(work, case_type_ids)
    if not known:
        return SlaReport([], [], at_risk_hours, work.now)
    months = {"first": first_month or 0, "last": last_month or 999912}
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    resolution: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    response: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for month, slice_id, measure, number, n, met, breached in _ROLLUP.rows(work.session, months):
        if slice_id not in known:
            continue
        key = (month, slice_id)
        if measure == rollup.OPENED:
            counts[key][0] += n
        elif measure == rollup.CLOSED:
            entry = counts[key]
            entry[1] += n
            entry[2] += met
            entry[3] += breached
            resolution[key].append((number, n))
        else:
            response[key].append((number, n))
    rows = []
    for (month, slice_id), (n_opened, n_closed, met, breached) in counts.items():
        where = known[slice_id]
        answers = sum(n for _, n in response[(month, slice_id)])
        rows.append(
            ReportRow(
                month=f"{month // 100:04d}-{month % 100:02d}",
                case_type=where.case_type,
                group=where.group,
                priority=where.priority,
                opened=n_opened,
                closed=n_closed,
                first_response_median=_percentile(response[(month, slice_id)], answers, 0.5),
                first_response_p90=_percentile(response[(month, slice_id)], answers, 0.9),
                resolution_median=_percentile(resolution[(month, slice_id)], n_closed, 0.5),
                resolution_p90=_percentile(resolution[(month, slice_id)], n_closed, 0.9),
                targets_met=met,
                targets_breached=breached,
            )
        )
    rows.sort(key=lambda r: (r.month, r.case_type, r.group, r.priority))
    return SlaReport(rows, at_risk(work, known, at_risk_hours), at_risk_hours, work.now)


def at_risk(work: UnitOfWork, known: dict[int, Slice], hours: float) -> list[AtRisk]:
    """Open cases, per slice, with a breach due within ``hours`` (or due and not yet fired).

    Reads the waiting SLA timer rows (their own index) and the facts' slice of each case."""
    horizon = work.now + timedelta(hours=hours)
    found = work.session.execute(
        select(SlaCaseFact.slice_id, func.count(func.distinct(Timer.case_id)))
        .join(SlaCaseFact, SlaCaseFact.case_id == Timer.case_id)
        .where(
            TIMER_IS_WAITING,
            Timer.source == "sla",
            Timer.threshold >= 1.0,
            Timer.due_at <= horizon,
            SlaCaseFact.slice_id.in_(sorted(known)),
        )
        .group_by(SlaCaseFact.slice_id)
    ).all()
    result = [
        AtRisk(known[s].case_type, known[s].group, known[s].priority, n) for s, n in found if n
    ]
    result.sort(key=lambda r: (r.case_type, r.group, r.priority))
    return result


def as_dicts(report: SlaReport) -> dict[str, Any]:
    """The report as plain data (for ``--json``, the API and the page)."""
    return {
        "generated_at": report.generated_at,
        "at_risk_hours": report.at_risk_hours,
        "rows": [vars(row) for row in report.rows],
        "at_risk": [vars(row) for row in report.at_risk],
    }
