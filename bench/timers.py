"""Timer sweep cost and due-to-outbox latency, on SQLite and PostgreSQL, in one run.

(1) Sweep cost: the same work -- one sweep firing 30 due SLA breaches, each queueing a
    notice -- with 10k and with 1M other timers waiting (not due); also an empty sweep.
    Target: the 1M sweep costs at most 2x the 10k sweep (the sweep reads only what is due).
    The two databases are built first and then swept alternately, so noise hits both.
(2) Latency: a real ``run.py worker`` process (default 1 s tick) while cases are opened
    whose first-response breach falls due 2 s after opening; latency is the
    outbox row's creation minus the timer's due time, at ten new cases a second.
    Target: p99 <= 1 s.

Usage: python bench/timers.py [--quick] [--pg URL]
  --quick: 1k vs 50k waiting timers and a shorter latency run (well under a minute).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text, update  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from cli.output import ProgressBar  # noqa: E402
from designer import deploy  # noqa: E402
from engine.clock import ManualClock, SystemClock  # noqa: E402
from engine.run import cases, timers  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.store.models import Case, Timer  # noqa: E402
from engine.store.outbox import OutboxMessage  # noqa: E402
from people import directory  # noqa: E402
from tests.conftest import seed_directory, support_toml  # noqa: E402
from tests.scratch_db import ScratchSchemas, unreachable  # noqa: E402

BPMN = ROOT / "processes" / "support.bpmn"
DUE_PER_SWEEP = 30
SLA = """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.first_response]
within = "{within}"
"""


def setup(url: str, clock, within: str, workdir: Path) -> Runtime:
    rt = build_app(AppConfig(database_url=url, clock=clock)).runtime
    rt.init_schema()
    seed_directory(rt)  # the test suite's groups and people; lee leads support
    with rt.unit() as work:
        directory.user_by_name(work, "lee").email = "lee@example.com"
    config_path = workdir / f"support-{uuid.uuid4().hex[:6]}.toml"
    config_path.write_text(support_toml(SLA.format(within=within)))
    config = deploy.resolve_config(BPMN, config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=BPMN, config=config)
    return rt


def open_cases(rt: Runtime, n: int) -> list[int]:
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        return [
            cases.open_case(work, case_type="SUPPORT", subject=f"case {i}", raiser=carol).id
            for i in range(n)
        ]


def fill_waiting(rt: Runtime, case_id: int, start: int, count: int) -> None:
    """Waiting timers due in a year: what a big installation holds and a sweep must skip."""
    far = rt.clock.now() + timedelta(days=365)
    batch = 20_000
    bar = ProgressBar(f"{count:,} waiting timers", unit="timers")
    for offset in range(start, start + count, batch):
        rows = [
            {
                "case_id": case_id,
                "source": "sla",
                "name": "bulk",
                "threshold": 1.0,
                "cycle": i,
                "due_at": far + timedelta(seconds=i),
                "state": "waiting",
                "attempts": 0,
            }
            for i in range(offset, min(offset + batch, start + count))
        ]
        with rt.unit() as work:
            work.session.execute(insert(Timer), rows)
        bar(min(offset + batch, start + count) - start, count)
    bar.close()


def make_due(rt: Runtime, clock: ManualClock, due_cases: list[int]) -> None:
    """Give each case a breach due now, as a fresh cycle of its first-response target."""
    with rt.unit() as work:
        for case_id in due_cases:
            cycle = work.session.scalar(
                select(Timer.cycle)
                .where(Timer.case_id == case_id, Timer.name == "first_response")
                .order_by(Timer.cycle.desc())
                .limit(1)
            )
            work.session.execute(
                insert(Timer).values(
                    case_id=case_id,
                    source="sla",
                    name="first_response",
                    threshold=1.0,
                    cycle=(cycle or 0) + 1,
                    due_at=clock.now(),
                    state="waiting",
                    attempts=0,
                )
            )


def timed_sweep(rt: Runtime, clock: ManualClock, due_cases: list[int]) -> float:
    """Seconds of one sweep that fires one due breach on each of ``due_cases``."""
    make_due(rt, clock, due_cases)
    clock.advance(timedelta(seconds=1))
    started = time.perf_counter()
    timers.sweep(rt)
    spent = time.perf_counter() - started
    with rt.unit() as work:
        left = work.session.scalar(
            select(Timer.id).where(Timer.state == "waiting", Timer.due_at <= clock.now())
        )
    assert left is None, "the sweep left due timers behind"
    return spent


def empty_sweep(rt: Runtime, reps: int = 20) -> float:
    spent = []
    for _ in range(reps):
        started = time.perf_counter()
        timers.sweep(rt)
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def prepared(url: str, waiting: int, workdir: Path) -> tuple[Runtime, ManualClock, list[int]]:
    """A database with ``DUE_PER_SWEEP`` cases and ``waiting`` timers that are not due."""
    clock = ManualClock()
    rt = setup(url, clock, "PT1H", workdir)
    due_cases = open_cases(rt, DUE_PER_SWEEP)
    with rt.unit() as work:  # their own first-response rows stay out of the way
        work.session.execute(update(Timer).where(Timer.source == "sla").values(state="cancelled"))
    fill_waiting(rt, due_cases[0], 0, waiting)
    with rt.db.begin() as c:  # a bulk load is followed by the database's upkeep
        if rt.db.dialect.name == "postgresql":
            c.execute(text("analyze timers"))
        else:
            c.execute(text("pragma wal_checkpoint(TRUNCATE)"))
    timed_sweep(rt, clock, due_cases)  # warm caches
    return rt, clock, due_cases


def sweep_cost(urls: tuple[str, str], small: int, large: int, workdir: Path) -> dict[str, float]:
    """Median sweep and empty-sweep times on two databases, measured alternately so the
    machine's noise falls on both alike."""
    dbs = {"small": prepared(urls[0], small, workdir), "large": prepared(urls[1], large, workdir)}
    spent: dict[str, list[float]] = {name: [] for name in dbs}
    empty: dict[str, list[float]] = {name: [] for name in dbs}
    for _ in range(7):
        for name, (rt, clock, due_cases) in dbs.items():
            spent[name].append(timed_sweep(rt, clock, due_cases))
            empty[name].append(empty_sweep(rt, reps=5))
    for rt, _, _ in dbs.values():
        rt.close()
    return {
        "small": statistics.median(spent["small"]),
        "large": statistics.median(spent["large"]),
        "empty_small": statistics.median(empty["small"]),
        "empty_large": statistics.median(empty["large"]),
    }


def latency(url: str, n_cases: int, workdir: Path) -> list[float]:
    """Open cases over a few seconds with a real worker running; seconds from due to outbox."""
    rt = setup(url, SystemClock(), "PT2S", workdir)
    env = {**os.environ, "CASEWORK_DB": url, "CASEWORK_MAILDIR": str(workdir / "maildir")}
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)  # the worker is up and sweeping
        opened = []
        for _ in range(n_cases):
            opened += open_cases(rt, 1)
            time.sleep(0.1)  # ten cases a second: due times spread out as in real life
        deadline = time.time() + 15
        while time.time() < deadline:
            with rt.unit() as work:
                queued = work.session.scalar(select(text("count(*)")).select_from(OutboxMessage))
            if queued >= n_cases:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    with rt.unit() as work:
        rows = work.session.execute(
            select(OutboxMessage.created_at, Timer.due_at)
            .join(Timer, Timer.case_id == OutboxMessage.case_id)
            .join(Case, Case.id == Timer.case_id)
            .where(Timer.name == "first_response", Timer.source == "sla", Timer.threshold == 1.0)
        ).all()
    rt.close()
    if len(rows) < n_cases:
        raise SystemExit(f"only {len(rows)} of {n_cases} breaches reached the outbox")
    return sorted((created - due).total_seconds() for created, due in rows)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    small, large = (1_000, 50_000) if args.quick else (10_000, 1_000_000)
    n_cases = 30 if args.quick else 150
    reason = unreachable(args.pg)
    if reason:
        print(f"PostgreSQL not reachable ({reason}); its lines are skipped")
    pg = None if reason else ScratchSchemas(args.pg, "cw_bench")
    results: list[tuple[str, float, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        backends = [("sqlite", lambda: f"sqlite:///{workdir / uuid.uuid4().hex}.db")]
        if pg:
            backends.append(("postgresql", pg.new_url))
        for name, make_url in backends:
            cost = sweep_cost((make_url(), make_url()), small, large, workdir)
            ratio = cost["large"] / cost["small"]
            print(
                f"{name}: sweep firing {DUE_PER_SWEEP} breaches: {cost['small'] * 1000:.1f} ms "
                f"with {small:,} waiting, {cost['large'] * 1000:.1f} ms with {large:,} "
                f"(x{ratio:.2f}); empty sweep {cost['empty_small'] * 1000:.2f} / "
                f"{cost['empty_large'] * 1000:.2f} ms"
            )
            lat = latency(make_url(), n_cases, workdir)
            p50, p99 = pct(lat, 0.5), pct(lat, 0.99)
            print(
                f"{name}: due -> outbox over {len(lat)} breaches with a real worker (1 s tick): "
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
            )
            results.append((f"{name}_sweep_ratio_{large // small}x_timers", ratio, "<=", 2.0))
            results.append((f"{name}_due_to_outbox_p99_s", p99, "<=", 1.0))
        if pg:
            pg.drop_all()
    for figure, value, op, target in results:
        ok = value <= target
        print(f"BENCH timers {figure}={value:.3f} target{op}{target} {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
