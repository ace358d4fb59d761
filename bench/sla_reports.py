"""SLA report time over a million closed cases, and what-if throughput, on SQLite and
PostgreSQL.

The cases and their report facts are bulk-loaded straight into the tables (executemany
on SQLite, COPY on PostgreSQL) -- running a million cases through their processes would
measure the engine, not the report.  They spread over 12 months, 3 case types, 2
handling groups and 4 priorities (24 slices); 2% are still open.  The monthly rollup is
built from the facts (``engine.sla.rollup.rebuild``: the counts opening and closing the
cases would have added, one by one).  The report (``engine.sla.report.build``, every
case type, every month) then runs three times and the median counts.  Target: <= 1 s
at 1M cases.

What-if: the first of them (100k; --quick 20k) are support cases with a clock history
under the shipped support policy (business hours, German holidays): started, the first
answer, for a third a wait on the customer.  ``engine.sla.whatif.replay`` compares them
with a proposal (a longer resolution target, one more holiday).  Target: >= 100k cases
a minute.

Usage: python bench/sla_reports.py [--quick] [--cases N] [--pg URL]
  --quick: 100k cases, 20k replayed (the figures name the sizes they were measured at).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from designer import deploy  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.sla import report, rollup, whatif  # noqa: E402
from engine.sla.facts import bucket, month_of  # noqa: E402
from engine.store.models import CaseType, Group  # noqa: E402
from engine.store.sla import SlaPolicyVersion, SlaSlice  # noqa: E402
from tests.conftest import seed_directory  # noqa: E402
from tests.scratch_db import PG_URL, ScratchSchemas, unreachable  # noqa: E402

BPMN = ROOT / "processes" / "support.bpmn"
START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
PRIORITIES = ("low", "normal", "high", "urgent")
CASE_COLUMNS = [
    "id", "number", "subject", "status", "case_type_id", "version_id", "priority",
    "created_at", "updated_at", "closed_at", "workflow_state", "row_version",
]  # fmt: skip
FACT_COLUMNS = [
    "case_id", "slice_id", "opened_at", "opened_month", "closed_month", "first_response_s",
    "response_bucket", "resolution_s", "resolution_bucket", "targets_met", "targets_breached",
]  # fmt: skip


def setup(url: str) -> tuple[Runtime, int, list[int]]:
    """A database with the support case type, two more types and 24 slices."""
    rt = build_app(AppConfig(database_url=url, clock=ManualClock(NOW))).runtime
    rt.init_schema()
    seed_directory(rt)
    config = deploy.resolve_config(BPMN, None, "SUPPORT")
    with rt.unit() as work:
        version_id = deploy.deploy(work, bpmn_path=BPMN, config=config).version
    with rt.unit() as work:
        types = [work.session.scalar(select(CaseType.id).where(CaseType.key == "SUPPORT"))]
        for key in ("BILLING", "ONBOARD"):
            types.append(
                work.session.execute(
                    insert(CaseType)
                    .values(key=key, name=key.title(), prefix=key[0], created_at=NOW)
                    .returning(CaseType.id)
                ).scalar_one()
            )
        groups = list(work.session.scalars(select(Group.id).order_by(Group.id).limit(2)))
        slices = [
            work.session.execute(
                insert(SlaSlice)
                .values(case_type_id=t, group_id=g, priority=p)
                .returning(SlaSlice.id)
            ).scalar_one()
            for t in types
            for g in groups
            for p in PRIORITIES
        ]
    return rt, int(version_id), slices


def rows(
    n: int, version_id: int, slices: list[int], replayed: int
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """``n`` cases and their facts: first answers around 2 h, resolutions around 2 days;
    the clock histories of the first ``replayed`` (support cases; the rest are billing)."""
    rnd = random.Random(18)
    span = (NOW - START).total_seconds() - 40 * 86400
    cases: list[tuple[Any, ...]] = []
    facts: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for i in range(1, n + 1):
        opened = START + timedelta(seconds=rnd.random() * span)
        slice_id = slices[i % len(slices)]
        answer = int(rnd.expovariate(1 / 7200))
        is_open = rnd.random() < 0.02
        resolution = None if is_open else int(rnd.lognormvariate(math.log(150_000), 1.0))
        closed = None if resolution is None else opened + timedelta(seconds=resolution)
        met = 0 if is_open else rnd.choice((1, 2, 2, 2))
        if i <= replayed:
            events.append((i, "started", None, opened))
            events.append((i, "met", "first_response", opened + timedelta(seconds=answer)))
            if i % 3 == 0:
                events.append((i, "paused", None, opened + timedelta(seconds=answer + 60)))
                events.append((i, "resumed", None, opened + timedelta(seconds=answer + 7200)))
        cases.append(
            (i, f"C-{i:06d}", "bench", "open" if is_open else "closed",
             1 if i <= replayed else 2, version_id,
             PRIORITIES[i % 4], opened, closed or opened, closed, "", 1)
        )  # fmt: skip
        facts.append(
            (i, slice_id, opened, month_of(opened), month_of(closed) if closed else None,
             answer, bucket(answer), resolution,
             bucket(resolution) if resolution is not None else None, met, 2 - met if met else 0)
        )  # fmt: skip
    return cases, facts, events


def load(rt: Runtime, cases: list[tuple], facts: list[tuple], events: list[tuple]) -> None:
    """Bulk-load through the driver: COPY on PostgreSQL, executemany on SQLite."""
    with rt.unit() as work:
        policy_id = work.session.scalar(select(SlaPolicyVersion.id))
    states = [(e[0], policy_id, False, False) for e in events if e[1] == "started"]
    tables = (
        ("cases", CASE_COLUMNS, cases),
        ("sla_case_facts", FACT_COLUMNS, facts),
        ("case_sla", ["case_id", "policy_id", "waiting_on_customer", "paused"], states),
        ("sla_events", ["case_id", "kind", "target", "at"], events),
    )
    raw = rt.db.raw_connection()
    try:
        cursor = raw.cursor()
        if rt.db.dialect.name == "postgresql":
            for table, columns, data in tables:
                naive = [tuple(_naive(v) for v in row) for row in data]
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in naive:
                        copy.write_row(row)
        else:
            for table, columns, data in tables:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(_sqlite(v) for v in row) for row in data],
                )
        raw.commit()
    finally:
        raw.close()
    with rt.unit() as work:  # what opening and closing them would have counted
        rollup.rebuild(work)
    with rt.db.connect() as connection:
        if rt.db.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE sla_case_facts")
            )
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _sqlite(value: Any) -> Any:
    """SQLAlchemy's SQLite DATETIME storage format."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def report_seconds(rt: Runtime) -> tuple[float, float, int]:
    """Median wall and CPU seconds (this process) of three full reports (every type,
    every month), and the rows it had.  The CPU time tells a busy machine from a slow
    report; the target is on the wall time."""
    times, cpu, size = [], [], 0
    for _ in range(3):
        with rt.unit() as work:
            started, used = time.perf_counter(), time.process_time()
            built = report.build(work, case_type_ids=None, at_risk_hours=4)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            size = len(built.rows)
    return statistics.median(times), statistics.median(cpu), size


def whatif_rate(rt: Runtime, replayed: int) -> tuple[float, float, int]:
    """Cases replayed a minute under a proposal, and how many would end differently."""
    definition = deploy.resolve_config(BPMN, None, "SUPPORT").sla
    proposal = {
        **definition,
        "targets": {**definition["targets"], "resolution": {"within": "PT40H"}},
        "calendar": {**definition["calendar"], "extra_holidays": ["2025-06-02"]},
    }
    with rt.unit() as work:
        started, used = time.perf_counter(), time.process_time()
        found = whatif.replay(
            work,
            case_type_id=1,
            policy=whatif.proposal(proposal),
            opened_from=START,
            opened_to=NOW,
        )
        seconds, cpu = time.perf_counter() - started, time.process_time() - used
    assert found.cases == replayed, found.cases
    return replayed / seconds * 60, replayed / cpu * 60, found.changed_cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int, help="cases to load (default 1M; --quick 200k)")
    parser.add_argument("--pg", default=PG_URL)
    args = parser.parse_args()
    n = args.cases or (100_000 if args.quick else 1_000_000)
    replayed = min(n, 20_000 if args.quick else 100_000)
    reason = unreachable(args.pg)
    if reason:
        print(f"PostgreSQL not reachable ({reason}); its lines are skipped")
    pg = None if reason else ScratchSchemas(args.pg, "cw_bench")
    results: list[tuple[str, float, str, float]] = []
    label = f"{n // 1000}k" if n < 1_000_000 else f"{n / 1_000_000:g}M"
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", lambda: f"sqlite:///{Path(tmp) / uuid.uuid4().hex}.db")]
        if pg:
            backends.append(("postgresql", pg.new_url))
        try:
            for name, make_url in backends:
                rt, version_id, slices = setup(make_url())
                cases, facts, events = rows(n, version_id, slices, replayed)
                started = time.perf_counter()
                load(rt, cases, facts, events)
                loaded = time.perf_counter() - started
                seconds, cpu, size = report_seconds(rt)
                print(
                    f"{name}: {n:,} cases loaded in {loaded:.1f} s; report of {size} rows "
                    f"(3 types x 2 groups x 4 priorities x 13 months) in {seconds * 1000:.0f} ms "
                    f"({cpu * 1000:.0f} ms CPU in this process; load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
                )
                results.append((f"{name}_report_s_at_{label}_cases", seconds, "<=", 1.0))
                rate, cpu_rate, changed = whatif_rate(rt, replayed)
                print(
                    f"{name}: what-if over {replayed:,} cases: {rate:,.0f} cases a minute "
                    f"({cpu_rate:,.0f} a minute of this process's CPU); "
                    f"{changed:,} would end differently"
                )
                results.append((f"{name}_whatif_cases_per_min", rate, ">=", 100_000))
                rt.close()
        finally:
            if pg:
                pg.drop_all()
    for figure, value, op, target in results:
        ok = value <= target if op == "<=" else value >= target
        print(
            f"BENCH sla_reports {figure}={value:.3f} target{op}{target} {'PASS' if ok else 'FAIL'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
