"""HTTP throughput: the case lifecycle as a client drives it, and page reads at scale.

(a) lifecycle: against one ``run.py serve`` process on SQLite, each client opens a
    case as the customer, then for each of the three user tasks lists the right
    user's tasks and completes the task with its form data as that user, then reads
    the case: 8 requests per case, with API tokens as scripts use them.  Prints
    cases/s over all clients.
(b) reads at scale: the database is then filled with 100k cases (bulk rows copied
    from a real closed case, 1% of them with an open triage task) and an agent's
    inbox page and case pages are requested; prints req/s, p50 and p95 per page.
Ends with the BENCH line for the lifecycle target (>= 50 cases/s).
Usage: python bench/http.py [--quick] [--cases N] [--clients N] [--bulk N]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

# This file is named like the standard library's ``http`` package: take its own folder off
# the import path before anything imports ``http.client``.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import http.client  # noqa: E402  (the standard library's, now that this folder is off the path)

import httpx  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from cli.output import progress  # noqa: E402
from designer import deploy  # noqa: E402
from engine.store.models import Case, HumanTask, TaskCandidate  # noqa: E402
from people import directory  # noqa: E402
from people.tokens import issue_token  # noqa: E402
from rules.admin import permit_case_type, permit_customers, set_portal_access  # noqa: E402

PASSWORD = "bench password"
STEPS = [  # (task name, who completes it, form data)
    ("Triage case", "alice", {"category": "hardware", "needs_investigation": False}),
    ("Propose resolution", "alice", {"resolution": "Replace the roller"}),
    ("Confirm resolution", "carol", {"resolved": True}),
]


def seed(url: str) -> dict[str, str]:
    """Groups, agents, a portal customer, the support case type; an API token per person."""
    rt = build_app(AppConfig(database_url=url)).runtime
    rt.init_schema()
    tokens = {}
    with rt.unit() as work:
        for group in ("service-desk", "specialists", "support-leads", "support-monitors"):
            directory.add_group(work, name=group)
        for name in ("alice", "carol"):
            directory.add_user(work, username=name, password=PASSWORD)
        directory.add_member(work, username="alice", group="service-desk")
        directory.add_customer_group(work, name="Acme")
        directory.add_contact(work, name="Carol", customer_group="Acme", username="carol")
        bpmn = ROOT / "processes" / "support.bpmn"
        config = deploy.resolve_config(bpmn, None, "SUPPORT")
        deploy.deploy(work, bpmn_path=bpmn, config=config)
    with rt.unit() as work:
        set_portal_access(
            work,
            username="carol",
            view="own",
            edit="own",
            parent_visibility=False,
            case_types=["SUPPORT"],
        )
        permit_case_type(work, group="service-desk", case_type="SUPPORT", write=True)
        permit_customers(work, group="service-desk", customer=None)
        for name in ("alice", "carol"):
            _, tokens[name] = issue_token(
                work, user=directory.user_by_name(work, name), name="bench"
            )
    rt.close()
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    url: str, log: Path, workers: int = 1, threads: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``run.py serve [--workers N] [--threads N]`` in its own process; its log goes to a
    file (a pipe nobody reads would fill up and stall the server)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "--db",
            url,
            "serve",
            "--port",
            str(port),
            "--no-worker",
            "--workers",
            str(workers),
            *(["--threads", str(threads)] if threads else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # several worker processes take a while to start
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/login").status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


class ApiClient:
    """A keep-alive JSON client on the standard library's ``http.client``.

    The clients share the machine with the server they measure, and httpx spent more CPU
    per request than the server did (4 ms against 3, with eight client threads): the
    bench measured its own clients.  This one does the same requests for a fraction of
    that."""

    def __init__(self, base: str, token: str) -> None:
        parsed = urlsplit(base)
        self.connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(
        self, method: str, path: str, body: object = None, params: dict[str, object] | None = None
    ) -> tuple[int, Any]:
        """The status and the decoded JSON answer (the raw text if it is not JSON)."""
        if params:
            path = f"{path}?{urlencode(params)}"
        data = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, path, body=data, headers=self.headers)
        answer = self.connection.getresponse()
        raw = answer.read()
        try:
            return answer.status, json.loads(raw) if raw else None
        except ValueError:
            return answer.status, raw.decode(errors="replace")

    def close(self) -> None:
        self.connection.close()


def lifecycle(base: str, tokens: dict[str, str], errors: list[str], count: int) -> None:
    """One client: ``count`` whole case lifecycles over HTTP, 8 requests each."""
    clients = {name: ApiClient(base, token) for name, token in tokens.items()}
    try:
        for _ in range(count):
            status, opened = clients["carol"].call(
                "POST", "/api/cases", {"case_type": "SUPPORT", "subject": "Printer jams"}
            )
            if status != 201:
                errors.append(f"open: {status} {str(opened)[:200]}")
                return
            number = opened["number"]
            for name, who, data in STEPS:
                _, listed = clients[who].call("GET", "/api/tasks", params={"limit": 500})
                task = next((t for t in listed if t["case"] == number and t["name"] == name), None)
                if task is None:
                    errors.append(f"{name} of {number} not in {who}'s tasks")
                    return
                status, done = clients[who].call(
                    "POST", f"/api/tasks/{task['id']}/complete", {"data": data}
                )
                if status != 200:
                    errors.append(f"complete {name}: {status} {str(done)[:200]}")
                    return
            _, shown = clients["carol"].call("GET", f"/api/cases/{number}")
            if shown["status"] != "closed":
                errors.append(f"{number} did not close")
    finally:
        for client in clients.values():
            client.close()


def run_clients(target, count: int, clients: int, *args) -> float:  # type: ignore[no-untyped-def]
    """Run ``target(*args, errors, count // clients)`` in ``clients`` threads; wall time."""
    errors = args[-1]

    def guarded() -> None:
        try:
            target(*args, count // clients)
        except Exception as exc:  # a crashed client must fail the run, not vanish
            errors.append(f"client crashed: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=guarded) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def bulk_fill(url: str, total: int) -> list[str]:
    """``total`` cases copied from one real closed case, 1% with an open triage task for the
    service desk; returns some case numbers to read."""
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        template = work.session.scalar(select(Case).where(Case.status == "closed").limit(1))
        task = work.session.scalar(
            select(HumanTask).where(HumanTask.case_id == template.id).limit(1)
        )
        group = work.session.scalar(
            select(TaskCandidate.group_id).where(TaskCandidate.kind == "group").limit(1)
        )
        row = {c.name: getattr(template, c.name) for c in Case.__table__.c if c.name != "id"}
        first = (work.session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0) + 1
    numbers = []
    batch = 5000
    for start in progress(range(first, first + total, batch), "bulk cases", unit="batches"):
        stop = min(start + batch, first + total)
        cases = [
            {**row, "id": i, "number": f"C-{i:07d}", "subject": f"Bulk case {i}"}
            for i in range(start, stop)
        ]
        opened = [c for c in cases if c["id"] % 100 == 0]
        for c in opened:
            c["status"], c["closed_at"] = "open", None
        with rt.unit() as work:
            work.session.execute(insert(Case), cases)
            if opened:
                ids = (
                    work.session.execute(
                        insert(HumanTask).returning(HumanTask.id),
                        [
                            {
                                "case_id": c["id"],
                                "engine_task_id": f"bulk-{c['id']}",
                                "element_id": task.element_id,
                                "name": task.name,
                                "lane": task.lane,
                                "role": task.role,
                                "state": "open",
                                "created_at": row["created_at"],
                                "row_version": 1,
                            }
                            for c in opened
                        ],
                    )
                    .scalars()
                    .all()
                )
                work.session.execute(
                    insert(TaskCandidate),
                    [{"task_id": t, "kind": "group", "group_id": group} for t in ids],
                )
        numbers += [c["number"] for c in cases[:: max(1, len(cases) // 20)]]
    rt.close()
    return numbers


def timed_reads(base: str, token: str, paths: list[str], seconds: float) -> list[float]:
    """Latencies of GETs of the pages, logged in as the agent (session cookie)."""
    client = httpx.Client(base_url=base)
    client.headers["Authorization"] = f"Bearer {token}"
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        path = random.choice(paths)
        started = time.perf_counter()
        answer = client.get(path)
        latencies.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:300]}")
    client.close()
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    print(
        f"{name}: {len(latencies) / seconds:.1f} req/s, p50 {statistics.median(ordered) * 1000:.1f}"
        f" ms, p95 {p95 * 1000:.1f} ms ({len(latencies)} requests)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (< 1 minute)")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--bulk", type=int, default=100_000)
    args = parser.parse_args()
    cases = args.cases or (100 if args.quick else 1000)
    seconds = 5.0 if args.quick else 20.0
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'http.db'}"
        tokens = seed(url)
        server, base = start_server(url, Path(folder) / "server.log")
        try:
            errors: list[str] = []
            run_clients(lifecycle, args.clients * 2, args.clients, base, tokens, errors)  # warm-up
            elapsed = run_clients(lifecycle, cases, args.clients, base, tokens, errors)
            done = cases // args.clients * args.clients
            rate = done / elapsed if not errors else 0.0
            print(
                f"lifecycle: {done} cases, {8 * done} requests, {args.clients} clients, "
                f"{elapsed:.2f} s, {rate:.1f} cases/s"
            )
            for error in errors[:5]:
                print(f"error: {error}")
            started = time.perf_counter()
            numbers = bulk_fill(url, args.bulk)
            print(f"bulk: {args.bulk} cases added in {time.perf_counter() - started:.1f} s")
            for name, paths in (
                ("inbox page", ["/"]),
                ("case page", [f"/cases/{n}" for n in numbers]),
            ):
                latencies = timed_reads(base, tokens["alice"], paths, seconds)
                report(name, latencies, seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    verdict = "PASS" if rate >= 50 else "FAIL"
    print(f"BENCH http lifecycle_cases_per_s={rate:.1f} target>=50 {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
