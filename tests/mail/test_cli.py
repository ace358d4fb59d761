"""``run.py mail ...`` as an operator uses it, through real subprocesses and a real Dovecot;
and intake survives ``kill -9`` at any moment without losing or doubling a message."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import StreamPost
from mail.imap import DONE
from tests.conftest import ROOT
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import build
from tests.mail.world import DOMAIN, make_desk

pytestmark = pytest.mark.integration


class MailCli:
    def __init__(self, db_url: str, cwd: Path) -> None:
        self.env = {
            **os.environ,
            "CASEWORK_DB": db_url,
            "CASEWORK_MAIL_DOMAIN": DOMAIN,
            "IMAP_PASSWORD": PASSWORD,
        }
        self.cwd = cwd

    def command(self, *args: str) -> list[str]:
        return [sys.executable, str(ROOT / "run.py"), *args]

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == code, result.stdout + result.stderr
        return result

    def json(self, *args: str, code: int = 0) -> object:
        return json.loads(self("--json", *args, code=code).stdout)


@pytest.fixture
def world(db_url: str, tmp_path: Path, dovecot: Dovecot):
    desk = make_desk(db_url, with_mailbox=False)
    user = dovecot.new_user()
    cli = MailCli(db_url, tmp_path)
    cli(
        "mail", "mailbox", "add", "support", "--case-type", "SUPPORT",
        "--address", "support@casework.example", "--host", "127.0.0.1",
        "--port", str(dovecot.port), "--no-tls", "--user", user,
        "--customer-group", "customers",
    )  # fmt: skip
    yield desk, cli, dovecot, user
    desk.runtime.close()


def test_an_operator_adds_a_mailbox_polls_it_and_imports_a_file(world, tmp_path: Path):
    desk, cli, dovecot, user = world
    [box] = cli.json("mail", "mailbox", "list")
    assert box["name"] == "support" and "secret" not in json.dumps(box)
    dovecot.append(user, build("From: carla@kunden.example", "Message-ID: <p1@k>"))
    [polled] = cli.json("mail", "poll", "--once")
    assert (polled["mailbox"], polled["new"], polled["duplicates"]) == ("support", 1, 0)
    assert cli.json("mail", "poll", "--once")[0]["fetched"] == 0
    eml = tmp_path / "reply.eml"
    eml.write_bytes(build("From: carla@kunden.example", "Message-ID: <p2@k>", "References: <p1@k>"))
    imported = cli.json("mail", "import", str(eml), "--mailbox", "support")
    assert (imported["case"], imported["matched_by"]) == ("C-000001", "reference:references")
    again = cli.json("mail", "import", str(eml), "--mailbox", "support")
    assert again["duplicate"] and again["id"] == imported["id"]
    assert desk.cases() == 1


def test_bad_input_names_the_problem(world, tmp_path: Path):
    desk, cli, *_ = world
    refused = cli(
        "mail", "mailbox", "add", "other", "--case-type", "NOPE", "--address", "not-an-address",
        "--host", "h", "--user", "u", "--customer-group", "nobody", code=6,
    )  # fmt: skip
    for field in ("case_type", "group_address", "customer_group"):
        assert field in refused.stderr
    missing = cli("mail", "import", str(tmp_path / "none.eml"), "--mailbox", "support", code=6)
    assert "cannot read" in missing.stderr
    cli("mail", "import", str(tmp_path), "--mailbox", "nobox", code=6)
    assert desk.count(Mailbox) == 1


def test_quarantine_lists_reasons_and_a_retry_takes_the_message_in_after_a_fix(
    world, tmp_path: Path
):
    desk, cli, *_ = world
    with desk.runtime.unit() as work:
        work.session.scalar(select(Mailbox)).case_type_key = "GONE"
    eml = tmp_path / "m.eml"
    eml.write_bytes(build("From: carla@kunden.example", "Message-ID: <q1@k>"))
    stuck = cli.json("mail", "import", str(eml), "--mailbox", "support", code=6)
    assert stuck["state"] == "quarantined"
    [listed] = cli.json("mail", "quarantine", "list")
    assert listed["id"] == stuck["id"] and "GONE" in listed["reason"]
    failed = cli("mail", "quarantine", "retry", str(stuck["id"]), code=3)  # still broken
    assert "no case type 'GONE'" in failed.stderr
    assert [q["id"] for q in cli.json("mail", "quarantine", "list")] == [stuck["id"]]
    with desk.runtime.unit() as work:
        work.session.scalar(select(Mailbox)).case_type_key = "SUPPORT"
    fixed = cli.json("mail", "quarantine", "retry", str(stuck["id"]))
    assert (fixed["state"], fixed["case"]) == ("processed", "C-000001")
    assert cli.json("mail", "quarantine", "list") == []


def test_kill_9_at_random_moments_loses_and_doubles_nothing(world):
    desk, cli, dovecot, user = world
    count = 80
    dovecot.append(
        user,
        *(
            build(f"From: person{i}@kunden.example", f"Message-ID: <k{i}@k>", f"Subject: n{i}")
            for i in range(count)
        ),
    )
    rng = random.Random(4)
    taken_at_kill: list[int] = []
    for _ in range(4):
        process = subprocess.Popen(
            cli.command("mail", "poll", "--once"),
            cwd=cli.cwd,
            env=cli.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        before = desk.count(InboundMessage)
        deadline = time.monotonic() + 60
        while desk.count(InboundMessage) == before and process.poll() is None:
            assert time.monotonic() < deadline, "the poller took nothing in for a minute"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.5))  # then kill it somewhere inside the batch
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            taken_at_kill.append(desk.count(InboundMessage))
        process.wait()
    # at least one kill hit the middle of the batch: some mail in, some still to take
    assert any(0 < taken < count for taken in taken_at_kill), taken_at_kill
    cli("mail", "poll", "--once")
    assert desk.count(InboundMessage) == count
    assert desk.cases() == count
    assert desk.count(StreamPost) == count
    with dovecot.client(user) as client:
        client.select_folder("INBOX")
        flags = client.get_flags(client.search(["ALL"]))
    assert len(flags) == count and all(DONE in f for f in flags.values())
    with desk.runtime.unit() as work:
        subjects = list(work.session.scalars(select(InboundMessage.subject)))
    assert sorted(subjects) == sorted(f"n{i}" for i in range(count))


def test_the_worker_watches_the_mailbox_and_stops_cleanly(world):
    desk, cli, dovecot, user = world
    with desk.runtime.unit() as work:
        work.session.scalar(select(Mailbox)).poll_seconds = 2
    process = subprocess.Popen(
        cli.command("worker"),
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        dovecot.append(user, build("From: carla@kunden.example", "Message-ID: <w1@k>"))
        deadline = time.monotonic() + 60
        while desk.cases() == 0:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the worker took no mail in within a minute"
            time.sleep(0.2)
        dovecot.append(user, build("From: carla@kunden.example", "Message-ID: <w2@k>"))
        while desk.count(StreamPost) < 2:
            assert time.monotonic() < deadline, "the second message did not arrive"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(timeout=60)
        errors = process.stderr.read() if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    assert code == 0, errors
    assert "Traceback" not in errors
    assert desk.cases() == 2 and desk.count(InboundMessage) == 2
