"""Timer firing scale-out on PostgreSQL: two ``run.py worker`` processes against one, in one run.

Each round fills a fresh PostgreSQL schema with copies of a real support case waiting on
its BPMN timer (the triage deadline), then starts the workers with a clock past every
due time (``--clock``), so each copy's timer is due: a worker claims it
(``FOR UPDATE SKIP LOCKED``), loads the workflow, fires the timer, runs the process on
and saves it.  The bench watches the count of fired timers and times from the first to
the last.  Rounds alternate one worker and two (1, 2, 2, 1), so machine noise falls on
both alike.  BENCH line: the ratio of the two-worker rate to the one-worker rate (target
>= 1.5), with a check that every timer fired exactly once.
Usage: python bench/worker_scale.py [--quick] [--cases N] [--pg URL]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from worker_memory import seed  # noqa: E402  (this folder: the scripts run from it)

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from engine.store.models import Case, Timer  # noqa: E402
from tests.scratch_db import ScratchSchemas, unreachable  # noqa: E402


def fill(url: str, count: int) -> None:
    """The support case type, one real case and ``count`` copies of it with their timer."""
    seed(url)  # the support case type and one real case waiting on its timer
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        template = work.session.scalar(select(Case).order_by(Case.id).limit(1))
        assert template is not None
        timers = work.session.scalars(
            select(Timer).where(Timer.case_id == template.id, Timer.source == "bpmn")
        ).all()
        assert timers, "the support process no longer waits on a BPMN timer"
        row = {c.name: getattr(template, c.name) for c in Case.__table__.c if c.name != "id"}
        timer_rows = [
            {c.name: getattr(t, c.name) for c in Timer.__table__.c if c.name not in ("id",)}
            for t in timers
        ]
        first = template.id + 1
    for start in range(first, first + count, 2000):
        stop = min(start + 2000, first + count)
        with rt.unit() as work:
            work.session.execute(
                insert(Case), [{**row, "id": i, "number": f"S-{i:07d}"} for i in range(start, stop)]
            )
            work.session.execute(
                insert(Timer),
                [{**t, "case_id": i} for i in range(start, stop) for t in timer_rows],
            )
    rt.close()


def fired_counts(url: str) -> tuple[int, int]:
    """(BPMN timers fired, BPMN timers still waiting)."""
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        rows = dict(
            work.session.execute(
                select(Timer.state, func.count())
                .where(Timer.source == "bpmn")
                .group_by(Timer.state)
            ).all()
        )
    rt.close()
    return int(rows.get("fired", 0)), int(rows.get("waiting", 0))


def run_workers(url: str, workers: int, total: int, folder: Path) -> float:
    """Seconds from the first fired timer to the last, with ``workers`` processes."""
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "--db", url, "--clock", later,
             "worker", "--tick", "0.2"],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "workers.log").open("ab"),
        )
        for _ in range(workers)
    ]  # fmt: skip
    first = last = None
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            fired, _ = fired_counts(url)
            now = time.monotonic()
            if fired and first is None:
                first = now
            if fired >= total:
                last = now
                break
            time.sleep(0.05)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    if first is None or last is None:
        raise SystemExit(
            f"the timers did not all fire: {(folder / 'workers.log').read_text()[-800:]}"
        )
    return last - first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 cases a round (< 1 minute)")
    parser.add_argument("--cases", type=int, help="cases a round (default 3000)")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    reason = unreachable(args.pg)
    if reason:
        raise SystemExit(f"PostgreSQL is needed for this bench: {reason}")
    count = args.cases or (600 if args.quick else 3000)
    scratch = ScratchSchemas(args.pg, "cw_bench_scale")
    spent = {1: 0.0, 2: 0.0}
    fired_twice = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in (1, 2, 2, 1):
                url = scratch.new_url()
                fill(url, count)
                total = count + 1  # the copies and the template
                spent[workers] += run_workers(url, workers, total, Path(tmp))
                fired, waiting = fired_counts(url)
                fired_twice += fired - total
                if waiting:
                    raise SystemExit(f"{waiting} timers still waiting after the run")
    finally:
        scratch.drop_all()
    rates = {w: 2 * (count + 1) / spent[w] for w in (1, 2)}
    ratio = rates[2] / rates[1]
    print(f"{count + 1} due timers a round, rounds 1, 2, 2, 1 workers, PostgreSQL")
    print(f"one worker:  {rates[1]:8.1f} timers/s")
    print(f"two workers: {rates[2]:8.1f} timers/s")
    print(f"timers fired more than once: {fired_twice}")
    ok = ratio >= 1.5 and fired_twice == 0
    print(f"BENCH worker_scale ratio_2_over_1={ratio:.2f} target>=1.5 {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
