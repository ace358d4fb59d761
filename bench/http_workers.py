"""HTTP scale-out on PostgreSQL: ``serve --workers 2`` against ``serve --workers 1``, in one run.

Two servers (``--threads 1`` each unless told otherwise: every request runs on the event
loop, the configuration docs/operations.md gives for scaling out by processes), each over
its own fresh PostgreSQL database seeded alike, are driven by the
same clients running whole case lifecycles (``bench/http.py``: open as the customer,
list and complete three tasks as the right users, read the case; 8 requests per case).
The servers take turns in interleaved rounds, so machine noise falls on both alike; the
rates are totals over all rounds.  Prints cases/s of each and their ratio, then the BENCH
lines: the ratio (target >= 1.6) and the two-worker rate (target >= 50 cases/s).
Usage: python bench/http_workers.py [--quick] [--cases N] [--clients N] [--threads N] [--pg URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # see bench/http.py
sys.path.insert(0, str(HERE.parent))

import importlib.util  # noqa: E402

from tests.scratch_db import ScratchSchemas, unreachable  # noqa: E402


def _sibling(name: str):  # type: ignore[no-untyped-def]
    """A script of this folder, which is off the import path (see above)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


http = _sibling("http")
cpu_use = _sibling("cpu_use")

ROUNDS = 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (< 1 minute)")
    parser.add_argument("--cases", type=int, help="cases per server (default 400; --quick 80)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="serve --threads for both servers (default 1: requests inline, the way to "
        "scale out by processes; see docs/operations.md)",
    )
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    reason = unreachable(args.pg)
    if reason:
        raise SystemExit(f"PostgreSQL is needed for this bench: {reason}")
    cases = args.cases or (80 if args.quick else 400)
    per_round = max(args.clients, cases // ROUNDS // args.clients * args.clients)
    scratch = ScratchSchemas(args.pg, "cw_bench_workers")
    servers = {}
    spent = {1: 0.0, 2: 0.0}
    done = {1: 0, 2: 0}
    errors: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for workers in (1, 2):
                url = scratch.new_url()
                tokens = http.seed(url)
                server, base = http.start_server(
                    url, Path(folder) / f"server{workers}.log", workers, args.threads
                )
                servers[workers] = (server, base, tokens)
                warm = args.clients * 2
                http.run_clients(http.lifecycle, warm, args.clients, base, tokens, errors)
            meter = cpu_use.CpuMeter([servers[1][0].pid])
            for _ in range(ROUNDS):
                for workers, (_, base, tokens) in servers.items():
                    if workers == 1:
                        meter.start()
                    spent[workers] += http.run_clients(
                        http.lifecycle, per_round, args.clients, base, tokens, errors
                    )
                    if workers == 1:
                        meter.stop()
                    done[workers] += per_round
    finally:
        for server, _, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)
        scratch.drop_all()
    for error in errors[:5]:
        print(f"error: {error}")
    rates = {w: (done[w] / spent[w] if spent[w] and not errors else 0.0) for w in (1, 2)}
    ratio = rates[2] / rates[1] if rates[1] else 0.0
    print(f"{done[1]} cases per server in {ROUNDS} rounds, {args.clients} clients, PostgreSQL")
    print(f"serve --workers 1: {rates[1]:8.1f} cases/s")
    print(f"serve --workers 2: {rates[2]:8.1f} cases/s")
    costs, most = cpu_use.ceiling(meter, done[1], rates[1])
    print(f"{costs} (a unit is a case; bench = the clients)")
    print(f"the most two workers could reach over one on this machine: {most:.2f}x")
    print(
        f"BENCH http_workers ratio_2_over_1={ratio:.2f} target>=1.6 "
        f"{'PASS' if ratio >= 1.6 else 'FAIL'}"
    )
    print(
        f"BENCH http_workers two_workers_cases_per_s={rates[2]:.1f} target>=50 "
        f"{'PASS' if rates[2] >= 50 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
