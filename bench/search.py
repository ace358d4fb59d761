"""Full-text search at scale: p95 latency of one search (case subjects, posts, contacts) for
each kind of searcher, at 1M posts.

Builds (once per run) the world of :mod:`bench.search_world` -- 100k cases of 10 case types
over 40 customers, 1M stream posts of 12 Zipf-distributed words, an administrator, an agent
of a big group, an agent of a small group and a portal customer with 20 cases -- then times
the product's own search (``rules.search.search``, the visibility filter included) for
common words, rare words and two-word queries, as each searcher, and prints the query plans
of a post search for the fastest- and slowest-seeing searcher.

Usage: python bench/search.py [--quick] [--posts N] [--pg URL] [--sqlite-only]
                              [--postgresql-only] [--runs N]
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

from sqlalchemy import event, text  # noqa: E402

from bench.search_world import SEARCHERS, VOCABULARY, populate, vocabulary  # noqa: E402
from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.store.models import User  # noqa: E402
from rules import load_subject  # noqa: E402
from rules.search import search  # noqa: E402
from tests.scratch_db import scratch_schema  # noqa: E402

TARGET_MS = 100.0
#: query kind -> (vocabulary ranks of its words); rank k is in about 12/(k ln 5000) of posts
QUERY_KINDS = {
    "common": ((5, 60),),  # each in 2-25% of the posts
    "rare": ((1_000, VOCABULARY - 1),),  # each in under 0.15%
    "two_words": ((5, 200), (100, 1_000)),
}


def queries(words: list[str], n: int, seed: int = 5) -> list[tuple[str, str]]:
    """``n`` (query kind, text) pairs, the kinds taking turns."""
    rnd = random.Random(seed)
    kinds = list(QUERY_KINDS)
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        out.append((kind, " ".join(words[rnd.randint(*ranks)] for ranks in QUERY_KINDS[kind])))
    return out


def measure(rt: Runtime, user_id: int, texts: list[tuple[str, str]]) -> dict[str, list[float]]:
    """Wall-clock milliseconds of each search (loading the searcher included), by query kind."""
    timings: dict[str, list[float]] = {kind: [] for kind in QUERY_KINDS}
    for kind, q in texts:
        with rt.unit() as work:
            started = time.perf_counter()
            subject = load_subject(work, work.session.get(User, user_id))
            search(work, subject, q, limit=20)
            timings[kind].append((time.perf_counter() - started) * 1000)
    return timings


def plan(rt: Runtime, who: str, q: str) -> None:
    """EXPLAIN ANALYZE (PostgreSQL) or the query plan (SQLite) of every statement a post
    search runs that touches the search index."""
    from rules import search_pg
    from rules.search import _posts  # the statements the post search runs

    captured: list[tuple[str, object]] = []

    def keep(_c, _cur, statement, params, _ctx, _many):  # type: ignore[no-untyped-def]
        if "to_tsvector" in statement or "MATCH" in statement:
            captured.append((statement, params))

    with rt.unit() as work:
        subject = load_subject(work, work.session.get(User, SEARCHERS[who]))
        sqlite = rt.db.dialect.name == "sqlite"
        event.listen(rt.db, "before_cursor_execute", keep)
        try:
            few = None if sqlite else search_pg.few_cases(work, subject)
            _posts(work, subject, rt.db.dialect.name, q.split(), 20, few)
        finally:
            event.remove(rt.db, "before_cursor_execute", keep)
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
        print(f"  plans of a post search for {q!r} as {who} ({len(captured)} statements):")
        for statement, params in captured:
            rows = work.session.connection().exec_driver_sql(prefix + statement, params).all()
            for row in rows:
                print("    " + " ".join(str(v) for v in row))
            print("    --")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def run(url: str, label: str, n_posts: int, runs: int) -> dict[str, float]:
    """p95 per searcher kind (over all its queries) on one database."""
    rt = build_app(AppConfig(database_url=url)).runtime
    rt.init_schema()
    words = vocabulary(random.Random(3))
    started = time.perf_counter()
    populate(rt, n_posts, words)
    print(f"  {label}: loaded {n_posts} posts in {time.perf_counter() - started:.0f} s")
    maintenance = "VACUUM ANALYZE" if rt.db.dialect.name == "postgresql" else "ANALYZE"
    with rt.db.connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT").execute(text(maintenance))
    texts = queries(words, runs)
    for user_id in SEARCHERS.values():  # warm the caches as a running server has them
        measure(rt, user_id, texts[:6])
    common = next(q for kind, q in texts if kind == "common")
    for who in ("agent_big", "agent_small", "customer"):
        plan(rt, who, common)
    results = {}
    for who, user_id in SEARCHERS.items():
        timings = measure(rt, user_id, texts)
        every = [t for ts in timings.values() for t in ts]
        results[who] = p95(every)
        kinds = " ".join(f"{kind}={p95(ts):.0f}" for kind, ts in timings.items())
        print(
            f"  {label:10s} {who:11s} p50={statistics.median(every):6.1f} ms "
            f"p95={results[who]:6.1f} ms max={max(every):6.1f} ms  (p95 by query: {kinds})"
        )
    rt.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k posts (says so), fewer runs")
    parser.add_argument("--posts", type=int)
    parser.add_argument("--runs", type=int, help="searches per searcher")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true")
    args = parser.parse_args()
    n = args.posts or (20_000 if args.quick else 1_000_000)
    runs = args.runs or (24 if args.quick else 150)
    results = []
    if not args.postgresql_only:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(("sqlite", run(f"sqlite:///{tmp}/search.db", "SQLite", n, runs)))
    if not args.sqlite_only:
        with scratch_schema(args.pg, "cw_search") as url:
            results.append(("postgresql", run(url, "PostgreSQL", n, runs)))
    size = "1M" if n == 1_000_000 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
    if n != 1_000_000:
        print(f"(quick: {n} posts, not 1M; the target is for 1M posts)")
    for db, by_kind in results:
        for who, value in by_kind.items():
            print(
                f"BENCH search {db}_{who}_p95_ms_at_{size}_posts={value:.1f} "
                f"target<={TARGET_MS:.0f} {'PASS' if value <= TARGET_MS else 'FAIL'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
