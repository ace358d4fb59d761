"""Mailbox administration as an operator meets it, against the real Dovecot: passwords
encrypted or referenced (never stored readable), add/edit/disable/enable/remove/test, and a
failing mailbox that shows its last error and is backed off by the worker."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.store.mailbox import Mailbox
from mail import credentials, mailbox_health
from mail.imap import MailboxPoller
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import build
from tests.mail.test_cli import MailCli
from tests.mail.world import DOMAIN, make_desk

pytestmark = pytest.mark.integration


def add(cli: MailCli, name: str, user: str, port: int, *extra: str, code: int = 0):  # type: ignore[no-untyped-def]
    return cli(
        "mail", "mailbox", "add", name, "--case-type", "SUPPORT",
        "--address", f"{name}@casework.example", "--host", "127.0.0.1",
        "--port", str(port), "--no-tls", "--user", user,
        "--customer-group", "customers", *extra, code=code,
    )  # fmt: skip


@pytest.fixture
def admin(db_url: str, tmp_path: Path, dovecot: Dovecot):  # type: ignore[no-untyped-def]
    desk = make_desk(db_url, with_mailbox=False)
    yield desk, MailCli(db_url, tmp_path)
    desk.runtime.close()


def stored_password(desk, name: str) -> str:  # type: ignore[no-untyped-def]
    with desk.runtime.unit() as work:
        return next(m for m in work.session.query(Mailbox) if m.name == name).imap_password


def test_an_operator_administers_a_mailbox_whose_password_is_stored_encrypted(
    admin, dovecot: Dovecot, tmp_path: Path
):
    desk, cli = admin
    user = dovecot.new_user()
    add(cli, "support", user, dovecot.port)
    stored = stored_password(desk, "support")
    assert stored.startswith("fernet:") and PASSWORD not in stored
    [row] = cli.json("mail", "mailbox", "list")
    assert (row["status"], row["password"]) == ("ok", "encrypted")
    assert PASSWORD not in json.dumps(row)
    dovecot.append(user, build("From: carla@kunden.example"))
    tested = cli.json("mail", "mailbox", "test", "support")
    assert (tested["messages"], tested["idle"]) == (1, True)

    edited = cli.json("mail", "mailbox", "edit", "support", "--poll-seconds", "30", "--acknowledge")
    assert (edited["poll_seconds"], edited["acknowledge"]) == (30, True)
    cli("mail", "mailbox", "disable", "support")
    assert cli.json("mail", "poll", "--once") == []  # a disabled mailbox is left alone
    assert cli.json("mail", "mailbox", "list")[0]["status"] == "disabled"
    cli("mail", "mailbox", "enable", "support")
    assert cli.json("mail", "poll", "--once")[0]["new"] == 1
    refused = cli("mail", "mailbox", "remove", "support", code=5)
    assert "disable it instead" in refused.stderr and "Traceback" not in refused.stderr

    # a password kept elsewhere: only the reference is stored, read at each sign-in
    secret_file = tmp_path / "imap-secret"
    secret_file.write_text(PASSWORD + "\n", encoding="utf-8")
    add(cli, "files", dovecot.new_user(), dovecot.port, "--password-ref", f"file:{secret_file}")
    assert stored_password(desk, "files") == f"file:{secret_file}"
    assert cli.json("mail", "mailbox", "test", "files")["messages"] == 0
    cli("mail", "mailbox", "remove", "files")
    assert [r["name"] for r in cli.json("mail", "mailbox", "list")] == ["support"]


def test_a_wrong_password_is_one_line_and_the_mailbox_shows_its_last_error(admin, dovecot: Dovecot):
    _desk, cli = admin
    add(cli, "good", dovecot.new_user(), dovecot.port)
    add(cli, "bad", dovecot.new_user(), dovecot.port, "--password-ref", "env:BAD_PASSWORD")
    cli.env["BAD_PASSWORD"] = "wrong"
    failed = cli("mail", "mailbox", "test", "bad", code=9)
    assert failed.stderr.count("\n") == 1 and "login refused" in failed.stderr
    polled = cli("mail", "poll", "--once", code=9)
    assert "mailbox bad" in polled.stderr and "login refused" in polled.stderr
    rows = {r["name"]: r for r in cli.json("mail", "mailbox", "list")}
    assert rows["good"]["status"] == "ok"
    assert rows["bad"]["status"] == "failing" and "login refused" in rows["bad"]["last_error"]
    del cli.env["BAD_PASSWORD"]
    unset = cli("mail", "mailbox", "test", "bad", code=9)
    assert "BAD_PASSWORD is not set" in unset.stderr


def test_the_worker_backs_off_a_failing_mailbox_and_recovers(db_url: str, dovecot: Dovecot):
    clock = ManualClock()
    desk = make_desk(
        db_url, clock, port=dovecot.port, tls=False, user=dovecot.new_user(),
        password="env:BACKOFF_PASSWORD", poll_seconds=60,
    )  # fmt: skip
    poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
    try:
        poller.watch_logged(0)  # the variable is not set: sign-in impossible
        poller.watch_logged(0)
        with desk.runtime.unit() as work:
            box = work.session.get(Mailbox, desk.mailbox_id)
            assert box.failures == 1  # the second call waited: the back-off had not run out
            assert "BACKOFF_PASSWORD is not set" in box.last_error
            assert box.next_poll_at == work.now + timedelta(seconds=60)
        clock.advance(timedelta(seconds=61))
        poller.watch_logged(0)
        with desk.runtime.unit() as work:
            box = work.session.get(Mailbox, desk.mailbox_id)
            assert box.failures == 2 and box.next_poll_at == work.now + timedelta(seconds=120)
        assert mailbox_health.backoff(60, 10) == mailbox_health.MAX_BACKOFF
        with pytest.MonkeyPatch.context() as env:
            env.setenv("BACKOFF_PASSWORD", PASSWORD)
            clock.advance(timedelta(seconds=121))
            poller.watch_logged(0)
        with desk.runtime.unit() as work:
            box = work.session.get(Mailbox, desk.mailbox_id)
            assert (box.failures, box.next_poll_at) == (0, None)
            assert box.last_error  # kept, with its time, as history
    finally:
        poller.close()
        desk.runtime.close()


def test_a_password_needs_a_key_and_a_wrong_key_is_named():
    key = {"CASEWORK_SECRET_KEY": credentials.Fernet.generate_key().decode()}
    sealed = credentials.store("s3cret", key)
    assert credentials.reveal(sealed, key) == "s3cret"
    other = {"CASEWORK_SECRET_KEY": credentials.Fernet.generate_key().decode()}
    with pytest.raises(credentials.CredentialError, match="another CASEWORK_SECRET_KEY"):
        credentials.reveal(sealed, other)
    with pytest.raises(credentials.InvalidInput, match="no key"):
        credentials.store("s3cret", {})
    assert credentials.store("env:IMAP_PASSWORD", {}) == "env:IMAP_PASSWORD"
    with pytest.raises(credentials.InvalidInput):
        credentials.store("file:relative/path", {})
