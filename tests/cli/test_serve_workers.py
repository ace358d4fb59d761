"""``run.py serve --workers N``: several server processes over one database."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.clock import SystemClock
from people import directory
from people.tokens import issue_token
from tests.cli.test_run import Cli
from tests.conftest import ROOT, wired_app

pytestmark = pytest.mark.integration


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker_processes(pid: int) -> list[int]:
    """The uvicorn worker processes under the server: spawned Python children that run
    ``multiprocessing.spawn`` (the resource tracker, another child, does not serve)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.append(int(child))
    return found


def _serve_two_workers(cli: Cli) -> tuple[subprocess.Popen[str], str]:
    """``run.py serve --workers 2`` answering on a free port with both worker processes up
    (standard error piped, for the test to read); the caller terminates it."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "serve", "--workers", "2", "--port", str(port)],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # three processes import the app: slow when busy
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        while len(_worker_processes(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_worker_processes(server.pid)) == 2
    except BaseException:
        server.kill()
        server.wait(timeout=60)
        raise
    return server, base


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


def test_two_worker_processes_serve_the_api_and_all_stop_on_sigterm(cli: Cli, db_url: str):
    cli("demo")
    app = wired_app(db_url, SystemClock())  # the token must be valid now, for the server
    with app.runtime.unit() as work:
        _, token = issue_token(work, user=directory.user_by_name(work, "carol"), name="test")
    app.runtime.close()
    server, base = _serve_two_workers(cli)
    workers = _worker_processes(server.pid)
    try:

        def open_case(n: int) -> httpx.Response:
            return httpx.post(
                f"{base}/api/cases",
                json={"case_type": "SUPPORT", "subject": f"Printer {n} jams"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(open_case, range(8)))
        assert [a.status_code for a in answers] == [201] * 8, answers[0].text
        assert len({a.json()["number"] for a in answers}) == 8
    finally:
        server.terminate()  # SIGTERM: uvicorn stops its workers, then itself
        code = server.wait(timeout=60)
    assert code == 0, server.stderr.read() if server.stderr else ""
    assert "serving from 2 worker processes" in (server.stderr.read() if server.stderr else "")
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--workers", "0"], "--workers"),
        (["--workers", "2", "--clock", "2026-03-02T09:00:00Z"], "--clock"),
    ],
)
def test_serve_refuses_nonsense_worker_counts_in_one_line(cli: Cli, extra: list[str], named: str):
    cli("init")
    serve = ["serve", "--port", str(_free_port()), *extra]
    if "--clock" in serve:  # a global option: before the command
        at = serve.index("--clock")
        serve = [*serve[at : at + 2], *serve[:at], *serve[at + 2 :]]
    result = cli(*serve, ok=False)
    assert result.returncode == 6
    assert named in result.stderr and "Traceback" not in result.stderr


def test_one_scrape_counts_the_requests_every_worker_process_answered(cli: Cli, db_url: str):
    cli("demo")
    app = wired_app(db_url, SystemClock())
    with app.runtime.unit() as work:
        admin = directory.user_by_name(work, "admin")
        _, token = issue_token(work, user=admin, name="test", scopes=["read", "admin"])
    app.runtime.close()
    server, base = _serve_two_workers(cli)
    try:

        def ready(_: int) -> int:  # a fresh connection each: the processes share the load
            return httpx.get(f"{base}/ready", timeout=60).status_code

        with ThreadPoolExecutor(4) as pool:
            answered = list(pool.map(ready, range(40)))
        scrapes = [
            httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=60)
            for _ in range(4)
        ]
    finally:
        server.terminate()
        server.wait(timeout=60)
    counted = []
    for scrape in scrapes:
        assert scrape.status_code == 200, scrape.text
        counted.append(
            sum(
                s.value
                for family in text_string_to_metric_families(scrape.text)
                for s in family.samples
                if s.name == "casework_http_request_duration_seconds_count"
                and s.labels.get("route") == "/ready"
            )
        )
    assert counted == [len(answered)] * 4  # whichever process answered the scrape
