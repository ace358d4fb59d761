"""Mail servers that fail, as an operator meets them through ``run.py``: one line per failing
mailbox or message naming it and what failed, the other mailboxes still polled, exit 9.

The IMAP server is the real Dovecot (a wrong password, TLS spoken to its plain-text port)
and a closed loopback port (a server that is down); SMTP is a closed loopback port."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.store.mailbox import InboundMessage
from tests.cli.test_run import Cli
from tests.mail.dovecot import PASSWORD, Dovecot, spare_port
from tests.mail.helpers import build
from tests.mail.world import DOMAIN, make_desk

pytestmark = pytest.mark.integration


def test_poll_reports_each_failing_mailbox_and_goes_on_to_the_good_one(
    db_url: str, tmp_path: Path, dovecot: Dovecot
):
    desk = make_desk(db_url, with_mailbox=False)
    cli = Cli(db_url, tmp_path)
    cli.env.update(
        CASEWORK_MAIL_DOMAIN=DOMAIN, IMAP_PASSWORD=PASSWORD, WRONG_PASSWORD="not-" + PASSWORD
    )
    user, closed, port = dovecot.new_user(), spare_port(), str(dovecot.port)

    def add(name: str, *options: str) -> None:
        cli("mail", "mailbox", "add", name, "--case-type", "SUPPORT",
            "--address", f"{name}@casework.example", "--host", "127.0.0.1",
            "--customer-group", "customers", *options)  # fmt: skip

    add("down", "--port", str(closed), "--no-tls", "--user", user)
    add("refused", "--port", port, "--no-tls", "--user", user, "--password-env", "WRONG_PASSWORD")
    add("tls", "--port", port, "--user", user)  # TLS spoken to the plain-text port
    add("good", "--port", port, "--no-tls", "--user", user)  # polled after the three failures
    dovecot.append(user, *(build(f"Message-ID: <fail-{i}@k>") for i in range(2)))

    polled = cli("--json", "mail", "poll", "--once", ok=False)
    assert polled.returncode == 9 and "Traceback" not in polled.stderr
    rows = {row["mailbox"]: row for row in json.loads(polled.stdout)}
    assert (rows["good"]["status"], rows["good"]["new"], rows["good"]["error"]) == ("ok", 2, None)
    assert desk.count(InboundMessage) == 2 and desk.cases() == 2
    errors = polled.stderr.splitlines()
    assert errors == [f"error: {rows[name]['error']}" for name in ("down", "refused", "tls")]
    assert errors[0] == (
        f"error: mailbox down (127.0.0.1:{closed}): connection refused: is the server running, "
        "and is the port right?"
    )
    assert errors[1].startswith(f"error: mailbox refused (127.0.0.1:{port}): login refused (")
    assert errors[2].startswith(f"error: mailbox tls (127.0.0.1:{port}): TLS failed (")
    assert all(rows[name]["status"] == "failed" for name in ("down", "refused", "tls"))

    # for people: the same lines, and a table in which the good mailbox polled fine
    dovecot.append(user, build("Message-ID: <fail-2@k>"))
    again = cli("mail", "poll", "--once", ok=False)
    assert again.returncode == 9 and again.stderr.splitlines() == errors
    good = next(line for line in again.stdout.splitlines() if line.startswith("good"))
    assert good.split()[:4] == ["good", "ok", "1", "1"]

    # on a terminal the poll of a mailbox with mail waiting draws its progress
    dovecot.append(user, *(build(f"Message-ID: <bar-{i}@k>") for i in range(3)))
    code, _, terminal = cli.in_terminal("mail", "poll", "--once")
    assert code == 9 and "mailbox good" in terminal and "3/3" in terminal
    assert desk.count(InboundMessage) == 6
    desk.runtime.close()


def test_worker_once_names_mail_it_could_not_send_and_keeps_it_for_the_retry(
    db_url: str, tmp_path: Path
):
    cli = Cli(db_url, tmp_path)
    cli("demo")
    cli("follow", "--type", "SUPPORT", "--as", "alice")  # alice is told of new cases
    cli("case", "open", "--type", "SUPPORT", "--subject", "Printer on fire", "--as", "carol")
    port = spare_port()  # nothing listens: the SMTP server is down
    cli.env.update(CASEWORK_SMTP_HOST="127.0.0.1", CASEWORK_SMTP_PORT=str(port))
    result = cli("worker", "--once", ok=False)
    assert result.returncode == 9 and "Traceback" not in result.stderr
    assert "outbox: 0 sent, 1 failed" in result.stdout
    warning, error = result.stderr.splitlines()
    assert warning.startswith("warning: outbox message ") and "alice@example.com" in warning
    assert f"127.0.0.1:{port}" in warning and "Connection refused" in warning
    assert "will be retried" in warning
    assert error.startswith("error: 1 outbox message(s) not sent")
    (queued,) = cli.json("outbox", "list")
    assert (queued["state"], queued["attempts"]) == ("pending", 1)
    assert "Connection refused" in queued["error"]


def test_a_bad_smtp_setting_is_named(tmp_path: Path):
    cli = Cli(f"sqlite:///{tmp_path / 'casework.db'}", tmp_path)
    cli.env.update(CASEWORK_SMTP_HOST="127.0.0.1", CASEWORK_SMTP_PORT="twenty-five")
    result = cli("worker", "--once", ok=False)
    assert result.returncode == 6 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == "error: invalid mail settings"
    assert "  CASEWORK_SMTP_PORT: must be a port number, not 'twenty-five'" in result.stderr


@pytest.fixture(autouse=True)
def _no_smtp_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests choose the mail settings themselves."""
    for name in list(os.environ):
        if name.startswith("CASEWORK_SMTP_"):
            monkeypatch.delenv(name)
