"""Worker memory: RSS of ``run.py worker`` over 10k and then 100k open cases, each with a
waiting timer, in one run.

The worker's memory must not grow with the case load: a sweep reads only what is due
(an index probe on waiting timers), never the open cases or all waiting timers.  The
database (SQLite, or PostgreSQL with ``--pg``) is filled with copies of a real open
support case (its workflow state and task rows), each with an SLA timer due in 30 days
and 1 in 100 due now (its firing is real work: the copy's timer fires, nothing is lost).
A worker runs for a few seconds of ticks at each size; its peak RSS is read from
``/proc``.  BENCH lines: peak RSS at the large size (target <= 200 MB) and its ratio to
the small size (target <= 1.25: flat).
Usage: python bench/worker_memory.py [--quick] [--pg URL]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from designer import deploy  # noqa: E402
from engine.run import cases  # noqa: E402
from engine.store.models import Case, Timer  # noqa: E402
from people import directory  # noqa: E402
from tests.scratch_db import ScratchSchemas, unreachable  # noqa: E402


def seed(url: str) -> None:
    rt = build_app(AppConfig(database_url=url)).runtime
    rt.init_schema()
    with rt.unit() as work:
        for group in ("service-desk", "specialists", "support-leads", "support-monitors"):
            directory.add_group(work, name=group)
        directory.add_user(work, username="carol")
        bpmn = ROOT / "processes" / "support.bpmn"
        deploy.deploy(work, bpmn_path=bpmn, config=deploy.resolve_config(bpmn, None, "SUPPORT"))
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        cases.open_case(
            work, case_type="SUPPORT", subject="Template", raiser=carol, actor_id=carol.id
        )
    rt.close()


def fill(url: str, upto: int) -> None:
    """Copy the template case until there are ``upto`` open cases, one timer each."""
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        template = work.session.scalar(select(Case).order_by(Case.id).limit(1))
        assert template is not None
        row = {c.name: getattr(template, c.name) for c in Case.__table__.c if c.name != "id"}
        have = work.session.scalar(select(func.count()).select_from(Case)) or 0
        first = (work.session.scalar(select(func.max(Case.id))) or 0) + 1
        now = work.now
    batch = 5000
    for start in range(first, first + upto - have, batch):
        stop = min(start + batch, first + upto - have)
        with rt.unit() as work:
            work.session.execute(
                insert(Case),
                [{**row, "id": i, "number": f"M-{i:07d}"} for i in range(start, stop)],
            )
            work.session.execute(
                insert(Timer),
                [
                    {
                        "case_id": i,
                        "source": "sla",
                        "name": "resolution",
                        "threshold": 2.0,  # a threshold no policy names: fired, no notice
                        "cycle": 0,
                        "due_at": now - timedelta(seconds=1)
                        if i % 100 == 0
                        else now + timedelta(days=30),
                        "state": "waiting",
                        "attempts": 0,
                    }
                    for i in range(start, stop)
                ],
            )
    rt.close()


def fired(url: str) -> int:
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        count = work.session.scalar(
            select(func.count()).select_from(Timer).where(Timer.state == "fired")
        )
    rt.close()
    return int(count or 0)


def peak_rss_mb(url: str, seconds: float, folder: Path, due: int) -> float:
    """Run a worker for at least ``seconds`` and until the ``due`` timers have fired; its
    peak resident set (VmHWM), in MB."""
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--db", url, "worker", "--tick", "0.2"],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "worker.log").open("ab"),
        cwd=folder,
    )
    peak = 0.0
    try:
        started = time.monotonic()
        while worker.poll() is None:
            waited = time.monotonic() - started
            if waited > seconds and (fired(url) >= due or waited > 300):
                break
            for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
            time.sleep(0.2)
        if worker.poll() is not None:
            raise SystemExit(f"the worker stopped: {(folder / 'worker.log').read_text()[-800:]}")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 50k cases, short runs")
    parser.add_argument("--pg", help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    small, large = (10_000, 50_000) if args.quick else (10_000, 100_000)
    seconds = 8.0 if args.quick else 20.0
    scratch = None
    if args.pg:
        reason = unreachable(args.pg)
        if reason:
            raise SystemExit(f"PostgreSQL not reachable: {reason}")
        scratch = ScratchSchemas(args.pg, "cw_bench_memory")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = scratch.new_url() if scratch else f"sqlite:///{folder / 'memory.db'}"
        try:
            seed(url)
            measured = {}
            for size in (small, large):
                fill(url, size)
                measured[size] = peak_rss_mb(url, seconds, folder, size // 100)
                print(
                    f"{size:>7} open cases, {size} timers: worker peak RSS "
                    f"{measured[size]:.1f} MB; timers fired so far: {fired(url)}"
                )
        finally:
            if scratch:
                scratch.drop_all()
    label = f"{large // 1000}k"
    growth = measured[large] / measured[small]
    print(
        f"BENCH worker_memory peak_rss_mb_at_{label}={measured[large]:.1f} target<=200 "
        f"{'PASS' if measured[large] <= 200 else 'FAIL'}"
    )
    print(
        f"BENCH worker_memory rss_ratio_{label}_over_10k={growth:.2f} target<=1.25 "
        f"{'PASS' if growth <= 1.25 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
