"""``run.py`` as a process designer and an agent use it, through real subprocesses."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import PROCESSES, ROOT, support_toml

pytestmark = pytest.mark.integration


class Cli:
    def __init__(self, db_url: str, cwd: Path) -> None:
        self.env = {**os.environ, "CASEWORK_DB": db_url}
        self.cwd = cwd

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def json(self, *args: str) -> object:
        return json.loads(self("--json", *args).stdout)

    def in_terminal(self, *args: str) -> tuple[int, str, str]:
        """Run with standard error on a pseudo-terminal, as a person at a shell sees it:
        exit code, standard output (piped) and what the terminal showed."""
        controller, terminal = pty.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), *args],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=terminal,
        )
        os.close(terminal)
        shown = bytearray()
        while True:  # read as it is drawn: a full terminal buffer would block the command
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        os.close(controller)
        stdout = process.stdout.read().decode() if process.stdout else ""
        return process.wait(timeout=120), stdout, shown.decode(errors="replace")


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


def test_it_runs_the_demo_and_an_agent_drives_a_case_to_completion(cli: Cli):
    out = cli("demo").stdout
    assert "Try:" in out and "C-000001" in out
    inbox = cli.json("task", "list", "--as", "alice")
    triage = next(t for t in inbox if t["case"] == "C-000001")
    assert (triage["name"], triage["role"], triage["candidates"]) == (
        "Triage case",
        "manager",
        ["service-desk"],
    )
    refused = cli("task", "complete", str(triage["id"]), "--as", "mona", ok=False)
    assert refused.returncode == 4 and "may not act on task" in refused.stderr
    # sam may not even see the case: its task is "not found", like a missing one
    unseen = cli("task", "complete", str(triage["id"]), "--as", "sam", ok=False)
    missing = cli("task", "complete", "999999", "--as", "sam", ok=False)
    assert (unseen.returncode, missing.returncode) == (3, 3)
    assert unseen.stderr.replace(str(triage["id"]), "N") == missing.stderr.replace("999999", "N")
    bad = cli(
        "task",
        "complete",
        str(triage["id"]),
        "--as",
        "alice",
        "--data",
        '{"priority": "whenever"}',
        ok=False,
    )
    assert (
        bad.returncode == 6 and "priority: must be one of low, normal, high, urgent" in bad.stderr
    )
    done = cli.json(
        "task",
        "complete",
        str(triage["id"]),
        "--as",
        "alice",
        "--data",
        '{"needs_investigation": false}',
    )
    propose = done["open_tasks"][0]
    assert propose["name"] == "Propose resolution"
    done = cli.json(
        "task",
        "complete",
        str(propose["id"]),
        "--as",
        "bob",
        "--data",
        '{"resolution": "New roller"}',
    )
    confirm = done["open_tasks"][0]
    assert confirm["role"] == "owner"
    assert [t["id"] for t in cli.json("task", "list", "--as", "carol")] == [confirm["id"]]
    done = cli.json(
        "task", "complete", str(confirm["id"]), "--as", "carol", "--data", '{"resolved": true}'
    )
    assert done["case"]["status"] == "closed"
    shown = cli.json("case", "show", "C-000001", "--as", "alice")
    assert shown["status"] == "closed" and shown["data"]["resolution"] == "New roller"
    assert [h["action"] for h in shown["history"]][-1] == "closed"


def test_it_validates_files_as_file_line_messages(tmp_path: Path):
    cli = Cli(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)  # validate needs no database
    clean = cli("validate", str(PROCESSES / "support.bpmn"))
    assert clean.stdout == "" and "0 refused: 0 error(s)" in clean.stderr
    broken = tmp_path / "broken.bpmn"
    broken.write_text(
        (PROCESSES / "support.bpmn")
        .read_text()
        .replace('"Specialists" = "task_user"', "")
        .replace("needs_investigation == True", "${needs_investigation.get()}")
    )
    (tmp_path / "broken.toml").write_text(support_toml().replace('"Specialists" = "task_user"', ""))
    result = cli("validate", str(broken), ok=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        f"{broken}:" in line and "lane 'Specialists' maps to no group" in line for line in lines
    ), lines
    assert any("Camunda expression language we do not translate" in line for line in lines), lines
    assert all(line.startswith(f"{broken}:") for line in lines)


def test_it_deploys_versions_and_refuses_a_lane_without_group(cli: Cli, tmp_path: Path):
    cli("init")
    for group in ("service-desk", "specialists", "support-leads", "support-monitors"):
        cli("group", "add", group)
    assert "deployed version 1" in cli("deploy", str(PROCESSES / "support.bpmn")).stdout
    assert "already deployed as version 1" in cli("deploy", str(PROCESSES / "support.bpmn")).stdout
    config = tmp_path / "support.toml"
    config.write_text(
        (PROCESSES / "support.toml")
        .read_text()
        .replace('escalation = ["support-leads"]', 'escalation = ["nobody"]')
    )
    refused = cli("deploy", str(PROCESSES / "support.bpmn"), "--config", str(config), ok=False)
    assert refused.returncode == 1
    assert "group 'nobody', which does not exist" in refused.stderr
    assert "run.py group add nobody" in refused.stderr


def test_it_reports_bad_input_without_a_traceback(cli: Cli):
    cli("demo")
    for args, code, message in [
        (("task", "complete", "999", "--as", "alice"), 3, "no task 999"),
        (("task", "list", "--as", "nobody"), 3, "no user 'nobody'"),
        (("case", "show", "C-1'; drop table cases;--", "--as", "alice"), 3, "no case"),
        (("case", "show", "C-000002", "--as", "carol"), 3, "no case C-000002"),
        (
            (
                "case",
                "open",
                "--type",
                "SUPPORT",
                "--subject",
                "x",
                "--as",
                "carol",
                "--data",
                "[1, 2]",
            ),
            6,
            "must be a JSON object",
        ),
        (
            ("case", "open", "--type", "NOPE", "--subject", "x", "--as", "carol"),
            3,
            "no case type 'NOPE'",
        ),
    ]:
        result = cli(*args, ok=False)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


def test_it_explains_access_and_hides_invisible_cases(cli: Cli):
    cli("demo")
    out = cli("access", "explain", "--user", "sam", "--case", "C-000003", ok=False)
    assert out.returncode == 4
    assert "DENIED: read needs read, access is summary" in out.stdout
    assert "task_user     summary  may act on an open task of the case" in out.stdout
    allowed = cli.json(
        "access", "explain", "--user", "alice", "--case", "C-000003", "--action", "write"
    )
    assert allowed["allowed"] is True and allowed["level"] == "write"
    assert [c["number"] for c in cli.json("case", "list", "--as", "dave")] == ["C-000002"]
    summary = cli.json("case", "show", "C-000003", "--as", "sam")
    assert summary["sections"] == ["case_details"] and "data" not in summary


def test_it_runs_the_worker_once_and_delivers_a_breach_mail_to_the_local_maildir(
    cli: Cli, tmp_path: Path
):
    cli("demo")
    config = tmp_path / "support.toml"
    config.write_text(
        support_toml()
        + """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.first_response]
within = "PT0.001S"
"""
    )
    cli("deploy", str(PROCESSES / "support.bpmn"), "--config", str(config))
    # the demo gave lee (support-leads, the escalation group) the address lee@example.com
    opened = cli.json("case", "open", "--type", "SUPPORT", "--subject", "Urgent", "--as", "carol")
    cli.env["CASEWORK_MAILDIR"] = str(tmp_path / "maildir")
    time.sleep(0.01)
    cli("worker", "--once")
    sla = cli.json("sla", "show", opened["number"])
    assert [(t["timer"], t["state"]) for t in sla["timers"] if t["source"] == "sla"] == [
        ("first_response", "fired")
    ]
    sent = cli.json("outbox", "list", "--state", "sent")
    assert [(m["kind"], m["to"]) for m in sent] == [("breach", ["lee@example.com"])]
    delivered = list((tmp_path / "maildir" / "new").iterdir())
    assert len(delivered) == 1 and opened["number"] in delivered[0].read_text()


def test_an_agent_decides_held_mail_from_the_triage_queue(cli: Cli, tmp_path: Path):
    cli("demo")
    cli("customer", "add", "mail-customers")
    cli("access", "customers", "service-desk", "--customer", "mail-customers")
    cli.env["IMAP_PASSWORD"] = "secret"
    cli(
        "mail", "mailbox", "add", "support", "--case-type", "SUPPORT",
        "--address", "support@casework.example", "--host", "127.0.0.1", "--user", "support",
        "--customer-group", "mail-customers", "--refused-match", "triage",
        "--password-ref", "env:IMAP_PASSWORD",
    )  # fmt: skip
    request = tmp_path / "request.eml"
    request.write_bytes(
        b"From: Nina <nina@kunden.example>\r\nTo: support@casework.example\r\n"
        b"Subject: Scanner broken\r\nMessage-ID: <nina-1@kunden.example>\r\n\r\nHelp.\r\n"
    )
    number = cli.json("mail", "import", str(request), "--mailbox", "support")["case"]
    foreign = tmp_path / "foreign.eml"
    foreign.write_bytes(
        b"From: Otto <otto@partner.example>\r\nTo: support@casework.example\r\n"
        + f"Subject: Re: [{number}] Scanner broken\r\n".encode()
        + b"Message-ID: <otto-1@partner.example>\r\n\r\nSame here.\r\n"
    )
    assert cli.json("mail", "import", str(foreign), "--mailbox", "support")["state"] == "triage"
    (waiting,) = cli.json("mail", "triage", "list")
    assert waiting["from"] == "otto@partner.example" and number in waiting["refused"]
    # a customer cannot even see that case: the decision is not theirs
    refused = cli("mail", "triage", "thread", str(waiting["id"]), number, "--as", "dave", ok=False)
    assert refused.returncode == 3, refused.stderr
    decided = cli.json("mail", "triage", "thread", str(waiting["id"]), number, "--as", "alice")
    assert (decided["state"], decided["case"], decided["matched_by"]) == (
        "processed",
        number,
        "triage:alice",
    )
    assert cli.json("mail", "triage", "list") == []


def test_user_passwords_meet_the_policy_from_the_command_line(cli: Cli):
    cli("init")
    weak = cli("user", "add", "eve", "--password", "eve", ok=False)
    assert weak.returncode == 6 and "at least 12 characters" in weak.stderr
    assert "eve" not in cli("user", "list").stdout
    cli("user", "add", "eve", "--password", "violet thunder 7 kites")
    common = cli("user", "passwd", "eve", "--password", "password1234", ok=False)
    assert common.returncode == 6 and "commonly used password" in common.stderr
    changed = cli("user", "passwd", "eve", "--password", "amber glacier 19 foxes")
    assert "web sessions have ended" in changed.stdout
    assert (
        cli("user", "passwd", "nobody", "--password", "amber glacier 19 foxes", ok=False).returncode
        == 3
    )


def test_a_running_worker_keeps_the_installation_ready_and_leaves_cleanly_on_sigterm(
    cli: Cli,
):
    from datetime import UTC, datetime, timedelta

    from engine.store.db import make_engine
    from engine.store.health import readiness

    cli("init")
    engine = make_engine(cli.env["CASEWORK_DB"])

    def worker_check() -> tuple[bool, str]:
        check = readiness(engine, datetime.now(UTC), timedelta(seconds=30))[-1]
        assert check.name == "worker"
        return check.ok, check.detail

    assert worker_check() == (False, "no worker has ever beaten")
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "worker", "--tick", "0.2"],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not worker_check()[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert worker_check()[0], worker_check()[1]
    finally:
        worker.terminate()  # SIGTERM: finish the tick, remove the heartbeat, exit 0
        code = worker.wait(timeout=60)
    assert code == 0, worker.stderr.read() if worker.stderr else ""
    assert worker_check() == (False, "no worker has ever beaten")
    engine.dispose()
