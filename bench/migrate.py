"""Bulk migration: running support cases moved to a version with a renamed and an added task.

Opens N cases of the shipped support process on a fresh SQLite database (half waiting
in triage with their 4-hour timer armed and claimed by an agent, half past triage
waiting for a proposal), deploys a second version in which triage is relabelled,
"Propose resolution" has a new BPMN id and a survey task follows the customer's
confirmation, then times ``designer.migration.migrate`` moving every case (one
transaction per case, task and timer rows re-synced, one audit entry per case).

Usage: python bench/migrate.py [--quick] [--cases N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from cli.output import ProgressBar  # noqa: E402
from designer import deploy, migration  # noqa: E402
from engine.run import cases, tasks  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.store.models import Case, HumanTask, User  # noqa: E402
from people import directory  # noqa: E402
from tests.conftest import seed_directory  # noqa: E402
from tests.designer.process_variants import renamed_and_added  # noqa: E402

# 100 cases/s moves 10,000 running cases in under two minutes: a deploy of a fixed
# process reaches a busy service desk's whole backlog within a coffee break, without
# a maintenance window (each case is locked only for its own short transaction).
TARGET_CASES_PER_S = 100.0
BATCH = 200


def populate(rt: Runtime, n: int) -> None:
    """N open cases; every other one past triage."""
    users = seed_directory(rt)
    config = deploy.resolve_config(ROOT / "processes" / "support.bpmn", None, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=ROOT / "processes" / "support.bpmn", config=config)
    with ProgressBar("opening") as bar:
        for start in range(0, n, BATCH):
            _open_batch(rt, users, start, min(n, start + BATCH))
            bar(min(n, start + BATCH), n)


def _open_batch(rt: Runtime, users: dict[str, User], start: int, stop: int) -> None:
    """Cases ``start`` to ``stop`` in one transaction."""
    with rt.unit() as work:
        alice = directory.user_by_name(work, "alice")
        for i in range(start, stop):
            opened = cases.open_case(
                work, case_type="SUPPORT", subject=f"Case {i}", raiser=users["carol"]
            )
            if i % 2:
                tasks.complete(
                    work,
                    task_id=opened.task_ids[0],
                    user=alice,
                    data={"needs_investigation": False},
                )
            else:
                tasks.claim(work, task_id=opened.task_ids[0], user=alice)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 cases, well under a minute")
    parser.add_argument("--cases", type=int, help="number of running cases (default 10,000)")
    args = parser.parse_args()
    n = args.cases or (1_000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        rt = build_app(
            AppConfig(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", workflow_cache_size=0)
        ).runtime
        rt.init_schema()
        started = time.perf_counter()
        populate(rt, n)
        print(f"opened {n} cases in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        v2 = Path(tmp) / "support.bpmn"
        v2.write_bytes(renamed_and_added())
        config = deploy.resolve_config(ROOT / "processes" / "support.bpmn", None, "SUPPORT")
        with rt.unit() as work:
            version = deploy.deploy(work, bpmn_path=v2, config=config).version
        started = time.perf_counter()
        with ProgressBar("migrating") as bar:
            report = migration.migrate(rt, key="SUPPORT", to_version=version, progress=bar)
        elapsed = time.perf_counter() - started
        with rt.unit() as work:
            on_new = work.session.scalar(
                select(func.count()).select_from(Case).where(Case.version_id == version)
            )
            renamed = work.session.scalar(
                select(func.count())
                .select_from(HumanTask)
                .where(HumanTask.state == "open", HumanTask.element_id == "Task_Propose")
            )
        rt.close()
    rate = len(report.moved) / elapsed
    print(
        f"moved {len(report.moved)} of {report.total} cases in {elapsed:.1f}s "
        f"({rate:.0f} cases/s); {len(report.blocked)} blocked; {on_new} cases on version "
        f"{version}, {renamed} open tasks under the renamed id"
    )
    ok = rate >= TARGET_CASES_PER_S and on_new == n and not report.blocked
    print(
        f"BENCH migrate cases_per_s={rate:.0f} target>={TARGET_CASES_PER_S:.0f} "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
