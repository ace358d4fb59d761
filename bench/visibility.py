"""Visibility at scale: the first page of 50 visible cases, p95 latency per kind of user.

Builds (once per database, reused when the schema already holds the data) 1M cases,
10k users, 200 customer groups in a hierarchy and 50 case types, then times the
product's own list query (``rules.cases_query``) for a manager, a monitor and portal
contacts (own cases / all of the customer / with the parent toggle), on SQLite and on
PostgreSQL.  Prints the query plans and the indexes they use, then one BENCH line per
database and user kind.

Usage: python bench/visibility.py [--quick] [--cases N] [--pg URL] [--keep]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from bench.bulk_case_types import insert_case_types  # noqa: E402
from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from cli.output import progress  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.store.access import (  # noqa: E402
    CaseAccess,
    CaseTypePermission,
    CustomerPermission,
    PortalMembership,
    PortalRole,
)
from engine.store.models import (  # noqa: E402
    Case,
    Contact,
    CustomerGroup,
    Group,
    Membership,
    User,
)
from rules import cases_query, load_subject  # noqa: E402
from tests.scratch_db import scratch_schema  # noqa: E402

TARGET_MS = 50.0
N_TYPES, N_CUSTOMERS, N_USERS = 50, 200, 10_000


def populate(rt: Runtime, n_cases: int, seed: int = 7) -> dict[str, int]:
    rnd = random.Random(seed)
    db = rt.db
    now = rt.clock.now()
    t = lambda model: model.__table__  # noqa: E731
    with db.begin() as c:
        c.execute(
            insert(t(CustomerGroup)),
            [
                {
                    "id": i + 1,
                    "name": f"customer-{i}",
                    "parent_id": None if i < 20 else rnd.randint(1, min(i, 100)),
                }
                for i in range(N_CUSTOMERS)
            ],
        )
        insert_case_types(c, N_TYPES, key="TYPE", prefix="B", now=now)
        c.execute(
            insert(t(Group)),
            [
                {"id": 1, "name": "managers", "created_at": now},
                {"id": 2, "name": "monitors", "created_at": now},
            ],
        )
        c.execute(
            insert(t(CaseTypePermission)),
            [{"group_id": 1, "case_type_id": k, "level": "write"} for k in range(1, 6)]
            + [{"group_id": 2, "case_type_id": None, "level": "read"}],
        )
        c.execute(
            insert(t(CustomerPermission)),
            [{"group_id": 1, "customer_group_id": k} for k in range(1, 21)]
            + [{"group_id": 2, "customer_group_id": None}],
        )
        c.execute(
            insert(t(User)),
            [
                {
                    "id": i + 1,
                    "username": f"user{i}",
                    "display_name": "",
                    "is_admin": False,
                    "is_active": True,
                    "created_at": now,
                }
                for i in range(N_USERS)
            ],
        )
        c.execute(
            insert(t(Membership)),
            [
                {"user_id": 1, "group_id": 1, "created_at": now},
                {"user_id": 2, "group_id": 2, "created_at": now},
            ],
        )
        c.execute(
            insert(t(Contact)),
            [
                {
                    "id": i + 1,
                    "name": f"contact {i}",
                    "customer_group_id": (i % N_CUSTOMERS) + 1,
                    "user_id": i + 1 if i >= 100 else None,
                }
                for i in range(N_USERS)
            ],
        )
        c.execute(
            insert(t(PortalRole)),
            [
                {
                    "id": 1,
                    "name": "own",
                    "view_level": "own",
                    "edit_level": "own",
                    "parent_visibility": False,
                },
                {
                    "id": 2,
                    "name": "all",
                    "view_level": "all",
                    "edit_level": "own",
                    "parent_visibility": False,
                },
                {
                    "id": 3,
                    "name": "parent",
                    "view_level": "all",
                    "edit_level": "own",
                    "parent_visibility": True,
                },
            ],
        )
        c.execute(
            insert(t(PortalMembership)),
            [{"user_id": i + 1, "portal_role_id": 1 + (i % 3)} for i in range(100, N_USERS)],
        )
        batch = []
        for case_id in progress(range(1, n_cases + 1), "cases"):
            contact = rnd.randint(1, N_USERS)
            batch.append(
                {
                    "id": case_id,
                    "number": f"B-{case_id:07d}",
                    "subject": "bench",
                    "status": "open" if rnd.random() < 0.3 else "closed",
                    "case_type_id": rnd.randint(1, N_TYPES),
                    "version_id": 1,
                    "customer_group_id": ((contact - 1) % N_CUSTOMERS) + 1,
                    "main_contact_id": contact,
                    "raiser_id": contact,
                    "priority": "normal",
                    "created_at": now,
                    "updated_at": now,
                    "workflow_state": "",
                    "row_version": 1,
                }
            )
            if len(batch) == 20_000:
                c.execute(insert(t(Case)), batch)
                batch = []
        if batch:
            c.execute(insert(t(Case)), batch)
        c.execute(
            insert(t(CaseAccess)),
            [
                {
                    "case_id": rnd.randint(1, n_cases),
                    "restricted": True,
                    "hidden_from_portal": False,
                }
                for _ in range(n_cases // 1000)
            ],
        )
    return {"cases": n_cases}


# Portal users are user ids 101..10000; user i+1 has portal role 1 + (i % 3): own, all, parent.
USERS = {"manager": 1, "monitor": 2, "portal own": 103, "portal all": 101, "portal parent": 102}


def measure(rt: Runtime, label: str, runs: int) -> list[tuple[str, float]]:
    results = []
    for kind, base_user in USERS.items():
        timings = []
        for run in range(runs):
            user_id = base_user if kind in ("manager", "monitor") else base_user + 3 * (run % 50)
            with rt.unit() as work:
                user = work.session.get(User, user_id)
                started = time.perf_counter()
                subject = load_subject(work, user)
                page = list(work.session.scalars(cases_query(subject).limit(50)))
                timings.append((time.perf_counter() - started) * 1000)
            assert kind.startswith("portal") or len(page) == 50, (kind, len(page))
        p95 = statistics.quantiles(timings, n=20)[18]
        results.append((kind, p95))
        print(
            f"  {label:10s} {kind:14s} p50={statistics.median(timings):6.1f} ms "
            f"p95={p95:6.1f} ms  ({len(page)} rows on the last page)"
        )
    return results


def plans(rt: Runtime, label: str) -> None:
    for kind in ("manager", "portal own"):
        with rt.unit() as work:
            subject = load_subject(work, work.session.get(User, USERS[kind]))
            query = cases_query(subject).limit(50)
            compiled = query.compile(dialect=rt.db.dialect, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if rt.db.dialect.name == "sqlite" else "EXPLAIN "
            rows = work.session.execute(text(prefix + str(compiled))).all()
        print(f"  plan, {label}, {kind}:")
        for row in rows:
            print("    " + " ".join(str(v) for v in row))


def run(url: str, label: str, n: int, runs: int) -> list[tuple[str, float]]:
    rt = build_app(AppConfig(database_url=url)).runtime
    rt.init_schema()
    with rt.unit() as work:
        existing = work.session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0
    if existing != n:
        started = time.perf_counter()
        populate(rt, n)
        print(f"  {label}: populated {n} cases in {time.perf_counter() - started:.0f} s")
        # What autovacuum does on a live PostgreSQL; plain statistics on SQLite.
        maintenance = "VACUUM ANALYZE" if rt.db.dialect.name == "postgresql" else "ANALYZE"
        with rt.db.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text(maintenance))
    plans(rt, label)
    results = measure(rt, label, runs)
    rt.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    n = args.cases or (50_000 if args.quick else 1_000_000)
    runs = 40 if args.quick else 100
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, p95 in run(f"sqlite:///{tmp}/visibility.db", "SQLite", n, runs):
            lines.append(("sqlite", kind, p95))
    with scratch_schema(args.pg, "cw_vis") as url:
        for kind, p95 in run(url, "PostgreSQL", n, runs):
            lines.append(("postgresql", kind, p95))
    print(f"cases: {n}, users: {N_USERS}, customer groups: {N_CUSTOMERS}, case types: {N_TYPES}")
    for db, kind, p95 in lines:
        name = f"{db}_{kind.replace(' ', '_')}_p95_ms"
        print(
            f"BENCH visibility {name}={p95:.1f} target<={TARGET_MS:.0f} "
            f"{'PASS' if p95 <= TARGET_MS else 'FAIL'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
