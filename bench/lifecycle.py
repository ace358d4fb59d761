"""Case lifecycle throughput: the product against a naive SpiffWorkflow loop, in one run.

(a) naive: raw SpiffWorkflow persisted to SQLite (WAL, synchronous=NORMAL): each user
    action reads the stored JSON and deserializes it; after every engine step (each
    task SpiffWorkflow completes) the whole workflow JSON, spec included, is written;
(b) product: the engine API end to end on SQLite: open a case, complete its three
    user tasks as members of the right groups (eligibility checked in SQL, form
    validation, task rows, audit log, timer bookkeeping), the case closes;
(c) the same as (b) on PostgreSQL, when reachable.

Prints cases/s for each and the ratio b/a, then one BENCH line per target.
Usage: python bench/lifecycle.py [--quick] [--cases N] [--pg URL]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from engine import cases, deploy, directory, tasks  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.store.models import Case  # noqa: E402
from rules.policies import RulesPolicies  # noqa: E402

BPMN = ROOT / "processes" / "support.bpmn"
STEPS = [  # (task name, who completes it, form data)
    ("Triage case", "alice", {"category": "hardware", "needs_investigation": False}),
    ("Propose resolution", "alice", {"resolution": "Replace the roller"}),
    ("Confirm resolution", "carol", {"resolved": True}),
]


def naive(n: int, workdir: Path) -> float:
    """Cases per second for raw SpiffWorkflow persisting the whole JSON after every step.

    Each user action starts from what is stored (read the row, deserialize), as any
    process handling separate requests must; every engine step (each task SpiffWorkflow
    completes) writes the whole workflow, spec included, in its own transaction.
    """
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec, subs = parser.get_spec("support_case"), parser.get_subprocess_specs("support_case")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    db = sqlite3.connect(workdir / "naive.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE wf (id INTEGER PRIMARY KEY, state TEXT)")

    def save(wf_id: int, wf: BpmnWorkflow) -> None:
        with db:
            db.execute(
                "UPDATE wf SET state = ? WHERE id = ?", (serializer.serialize_json(wf), wf_id)
            )

    started = time.perf_counter()
    for _ in range(n):
        wf = BpmnWorkflow(spec, subs)
        wf.task_tree.data.update({"subject": "Printer jams"})
        with db:
            wf_id = db.execute(
                "INSERT INTO wf (state) VALUES (?)", (serializer.serialize_json(wf),)
            ).lastrowid
        wf.do_engine_steps(did_complete_task=lambda _task, wf=wf, wf_id=wf_id: save(wf_id, wf))
        for name, _, data in STEPS:
            (state,) = db.execute("SELECT state FROM wf WHERE id = ?", (wf_id,)).fetchone()
            wf = serializer.deserialize_json(state)
            task = next(
                t
                for t in wf.get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.bpmn_name == name
            )
            task.set_data(**data)
            task.run()
            save(wf_id, wf)
            wf.do_engine_steps(did_complete_task=lambda _task, wf=wf, wf_id=wf_id: save(wf_id, wf))
        assert wf.completed
    elapsed = time.perf_counter() - started
    db.close()
    return n / elapsed


def naive_per_action(n: int, workdir: Path) -> float:
    """For reference only: the lightest naive loop, one write per user action, no reloads."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec, subs = parser.get_spec("support_case"), parser.get_subprocess_specs("support_case")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    db = sqlite3.connect(workdir / "naive-light.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE wf (id INTEGER PRIMARY KEY, state TEXT)")
    started = time.perf_counter()
    for _ in range(n):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        with db:
            wf_id = db.execute(
                "INSERT INTO wf (state) VALUES (?)", (serializer.serialize_json(wf),)
            ).lastrowid
        for name, _, data in STEPS:
            task = next(
                t
                for t in wf.get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.bpmn_name == name
            )
            task.set_data(**data)
            task.run()
            wf.do_engine_steps()
            with db:
                db.execute(
                    "UPDATE wf SET state = ? WHERE id = ?", (serializer.serialize_json(wf), wf_id)
                )
    elapsed = time.perf_counter() - started
    db.close()
    return n / elapsed


def _seed(rt: Runtime) -> None:
    rt.init_schema()
    with rt.unit() as work:
        for group, members in {
            "service-desk": ["alice"],
            "specialists": ["sam"],
            "support-leads": ["lee"],
            "support-monitors": [],
        }.items():
            directory.add_group(work, name=group)
            for member in members:
                directory.add_user(work, username=member)
                directory.add_member(work, username=member, group=group)
        directory.add_user(work, username="carol")
    config = deploy.resolve_config(BPMN, None, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=BPMN, config=config)


def product(n: int, url: str) -> float:
    """Cases per second through the engine API, every step its own transaction."""
    rt = Runtime(url, policies=RulesPolicies())  # collaborators, assignment, followers too
    _seed(rt)
    with rt.unit() as work:
        people = {u.username: u for u in directory.list_users(work)}
    started = time.perf_counter()
    for _ in range(n):
        with rt.unit() as work:  # each step answers with the tasks now waiting
            waiting = cases.open_case(
                work,
                case_type="SUPPORT",
                subject="Printer jams",
                raiser=people["carol"],
                actor_id=people["carol"].id,
            ).task_ids
        for _name, who, data in STEPS:
            with rt.unit() as work:
                done = tasks.complete(work, task_id=waiting[0], user=people[who], data=data)
            waiting = done.new_task_ids
    elapsed = time.perf_counter() - started
    with rt.unit() as work:
        still_open = work.session.scalar(
            select(func.count()).select_from(Case).where(Case.status == "open")
        )
    rt.close()
    if still_open:
        raise SystemExit(
            f"{still_open} cases did not close: the benchmark is not measuring a lifecycle"
        )
    return n / elapsed


def postgres(n: int, base: str) -> float | None:
    try:
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:
        print(f"(c) PostgreSQL not reachable ({type(exc).__name__}); skipped")
        return None
    schema = f"cw_bench_{uuid.uuid4().hex[:8]}"
    try:
        return product(n, f"{base}?schema={schema}")
    finally:
        with admin.begin() as c:
            c.execute(text(f'drop schema if exists "{schema}" cascade'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small size, well under a minute")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    n = args.cases or (150 if args.quick else 400)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "warm").mkdir()
        naive(10, workdir / "warm")  # warm-up: imports, caches, file system
        product(10, f"sqlite:///{workdir / 'warm' / 'p.db'}")
        a = naive(n, workdir)
        light = naive_per_action(n, workdir)
        b = product(n, f"sqlite:///{workdir / 'product.db'}")
    c = postgres(n, args.pg)
    ratio = b / a
    print(f"cases per run: {n}")
    print(f"(a) naive SpiffWorkflow, whole JSON per engine step, SQLite: {a:8.1f} cases/s")
    print(f"(b) Casework engine, full product work, SQLite:             {b:8.1f} cases/s")
    if c is not None:
        print(f"(c) Casework engine, full product work, PostgreSQL:         {c:8.1f} cases/s")
    print(
        f"for reference: naive, one write per user action, no reloads: {light:8.1f} cases/s "
        "(a crash loses the steps the engine took between actions)"
    )
    print(
        f"BENCH lifecycle ratio_b_over_a={ratio:.2f} target>=1.5 "
        f"{'PASS' if ratio >= 1.5 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
