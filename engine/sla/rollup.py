"""The SLA report's monthly rollup: counts per (month, slice, measure, bucket), kept in the
same transaction as the facts they sum (``engine.sla.facts``).

The report reads this table, never the million fact rows: its size grows with months,
slices and the log-scale buckets of the times (a few hundred per slice and month at
most), not with cases.  Three measures: cases opened, cases closed (by the bucket of
their resolution time, with the targets met and breached) and first answers of closed
cases (by the bucket of the first-answer time).  Each write is one upsert that adds to a
row and holds that row until its transaction commits; so that cases opened at the same
moment in the same slice do not wait on each other, an opened case counts in one of
:data:`SPREAD` rows chosen by its id (its "bucket"; the report adds them up), while
closes spread over the time buckets by themselves.  :func:`rebuild` recomputes the
table from the facts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.sla import SlaCaseFact, SlaRollup

OPENED, CLOSED, ANSWERED = 0, 1, 2
SPREAD = 16


def spread(case_id: int) -> int:
    """The row among :data:`SPREAD` that an opened case counts in."""
    return case_id % SPREAD


R = SlaRollup.__table__
_KEY = ["month", "slice_id", "measure", "bucket"]


def _upsert(build: Any) -> Prepared:
    statement = build(R).values(
        {name: bindparam(name) for name in (*_KEY, "cases", "met", "breached")}
    )
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=_KEY,
            set_={
                "cases": R.c.cases + statement.excluded.cases,
                "met": R.c.met + statement.excluded.met,
                "breached": R.c.breached + statement.excluded.breached,
            },
        )
    )


# Built once per dialect: every case opened and closed counts here.
_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def add(
    work: UnitOfWork,
    *,
    month: int,
    slice_id: int,
    measure: int,
    bucket: int,
    met: int = 0,
    breached: int = 0,
) -> None:
    """Count one case into its row (created on first use)."""
    dialect = work.session.get_bind().dialect.name
    _UPSERT["postgresql" if dialect == "postgresql" else "sqlite"].execute(
        work.session,
        {
            "month": month,
            "slice_id": slice_id,
            "measure": measure,
            "bucket": bucket,
            "cases": 1,
            "met": met,
            "breached": breached,
        },
    ).close()


def rebuild(work: UnitOfWork) -> None:
    """Recompute every row from the facts (after a bulk load, or to check the counts)."""
    f = SlaCaseFact.__table__.c
    work.session.execute(delete(R))
    shard = f.case_id % literal_column(str(SPREAD))  # one SQL text in SELECT and GROUP BY
    columns = ["month", "slice_id", "measure", "bucket", "cases", "met", "breached"]
    parts: list[Any] = [
        select(f.opened_month, f.slice_id, literal(OPENED), shard, func.count(),
               literal(0), literal(0))
        .group_by(f.opened_month, f.slice_id, shard),
        select(f.closed_month, f.slice_id, literal(CLOSED), f.resolution_bucket, func.count(),
               func.sum(f.targets_met), func.sum(f.targets_breached))
        .where(f.closed_month.is_not(None))
        .group_by(f.closed_month, f.slice_id, f.resolution_bucket),
        select(f.closed_month, f.slice_id, literal(ANSWERED), f.response_bucket, func.count(),
               literal(0), literal(0))
        .where(f.closed_month.is_not(None), f.response_bucket.is_not(None))
        .group_by(f.closed_month, f.slice_id, f.response_bucket),
    ]  # fmt: skip
    for part in parts:
        work.session.execute(insert(R).from_select(columns, part))
