"""``--log-format json``: what a log collector reads from ``serve`` and ``worker``.

Real processes: ``run.py serve`` on a free port answering real HTTP requests, and
``run.py worker`` firing a timer of a case whose stored state is damaged.  Every line of
their standard error must parse as one JSON object with a timestamp, a level and a
message; a request's lines carry its id, a case's lines its number.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.runtime import Runtime
from engine.store.models import Case
from tests.cli.test_run import Cli
from tests.conftest import ROOT
from tests.web.serving import free_port

pytestmark = pytest.mark.integration


def parsed(stderr: str) -> list[dict[str, object]]:
    """Every line as JSON (any line that is not fails the test), with the fields each has."""
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= line.keys(), line
        datetime.fromisoformat(str(line["timestamp"]))
    return lines


def get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["X-Request-ID"]
    except urllib.error.HTTPError as error:
        return error.code, error.headers["X-Request-ID"]


def test_serve_logs_each_request_as_json_with_its_id_and_case(db_url: str, tmp_path: Path):
    cli = Cli(db_url, tmp_path)
    cli("demo")
    port = free_port()
    command = ["--log-format", "json", "serve", "--port", str(port), "--no-worker"]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), *command],
        cwd=tmp_path,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                get(f"{base}/health")
                break
            except OSError:
                time.sleep(0.1)
        assert get(f"{base}/health", **{"X-Request-ID": "probe-1"}) == (200, "probe-1")
        status, made = get(f"{base}/api/cases/C-000001", **{"X-Request-ID": "case-read-2"})
        assert (status, made) == (401, "case-read-2")  # not signed in; still logged
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    lines = parsed(stderr)
    requests = {line.get("request_id"): line for line in lines if line.get("request_id")}
    assert requests["probe-1"]["path"] == "/health" and requests["probe-1"]["status"] == 200
    case_read = requests["case-read-2"]
    assert (case_read["case"], case_read["status"], case_read["level"]) == ("C-000001", 401, "info")
    assert case_read["message"] == "GET /api/cases/C-000001 401"
    assert "case" not in requests["probe-1"]  # no case named where there is none


def test_the_worker_logs_a_failing_case_as_json_naming_the_case(db_url: str, tmp_path: Path):
    cli = Cli(db_url, tmp_path)
    cli("demo")
    rt = Runtime(db_url)
    try:
        with rt.unit() as work:
            work.session.execute(
                update(Case)
                .where(Case.number == "C-000001")
                .values(workflow_state='{"damaged": ', row_version=Case.row_version + 1)
            )
    finally:
        rt.close()
    cli.env["CASEWORK_LOG_FORMAT"] = "json"
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1).isoformat()
    ran = cli("--clock", later, "worker", "--once", ok=False)
    assert ran.returncode in (0, 9), ran.stderr
    lines = parsed(ran.stderr)
    failing = [line for line in lines if line.get("case") == "C-000001"]
    assert failing and failing[0]["level"] == "error"
    assert "timers of case" in str(failing[0]["message"])
    assert str(failing[0]["error"]).startswith("JSONDecodeError")
    assert "traceback" not in failing[0]  # only with --debug
    assert all(line.get("case") != "C-000001" for line in lines if line not in failing)


def test_an_unknown_log_format_is_refused_in_one_line(tmp_path: Path):
    cli = Cli(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    cli.env["CASEWORK_LOG_FORMAT"] = "xml"
    refused = cli("worker", "--once", ok=False)
    assert refused.returncode == 6
    assert refused.stderr.splitlines() == [
        "error: unknown log format",
        "  CASEWORK_LOG_FORMAT: 'xml': one of text, json",
    ]
