"""OAuth2 (XOAUTH2) sign-in, as Microsoft 365 and Gmail require it, against the real Dovecot
with its ``oauth2`` password database: every access token is checked at a token
introspection endpoint (RFC 7662) on loopback, so a token that was never issued, expired or
was revoked is refused by the server exactly as a provider's would be."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.store.mailbox import InboundMessage, Mailbox
from mail import mailbox_health
from mail.imap import MailboxPoller
from tests.cli.test_run import Cli
from tests.mail.dovecot import Dovecot
from tests.mail.helpers import build
from tests.mail.oauth2_server import IntrospectionServer
from tests.mail.world import DOMAIN, make_desk

pytestmark = pytest.mark.integration


def request(n: int) -> bytes:
    return build(
        f"From: Carla {n} <carla{n}@kunden.example>",
        f"Message-ID: <oauth-{n}@kunden.example>",
        f"Subject: Printer {n} jams",
    )


def test_a_mailbox_signing_in_with_a_token_file_takes_mail_into_cases_as_the_token_turns(
    db_url: str, tmp_path: Path, oauth2_dovecot: Dovecot, oauth2_provider: IntrospectionServer
):
    user = oauth2_dovecot.new_user()
    token_file = tmp_path / "m365-token"
    token_file.write_text(oauth2_provider.issue(user) + "\n")
    desk = make_desk(
        db_url,
        port=oauth2_dovecot.port,
        tls=False,
        user=user,
        auth="xoauth2",
        password=f"file:{token_file}",
    )
    try:
        oauth2_dovecot.append(user, request(1), request(2))
        asked = oauth2_provider.asked
        poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
        try:
            first = poller.poll_once()
        finally:
            poller.close()
        assert (first.new, first.error) == (2, None)
        assert [o.matched_by for o in first.outcomes] == ["new", "new"]
        assert desk.cases() == 2 and oauth2_provider.asked > asked  # the server asked

        # the token program rewrites the file with a fresh token; the old one expires
        old = token_file.read_text().strip()
        token_file.write_text(oauth2_provider.issue(user) + "\n")
        oauth2_provider.revoke(old)
        oauth2_dovecot.append(user, request(3))
        poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
        try:
            second = poller.poll_once()
        finally:
            poller.close()
        assert second.new == 1 and desk.cases() == 3
    finally:
        desk.runtime.close()


def test_a_token_from_the_environment_polls_and_a_bad_one_is_one_line_and_backs_off(
    db_url: str, tmp_path: Path, oauth2_dovecot: Dovecot, oauth2_provider: IntrospectionServer
):
    desk = make_desk(db_url, with_mailbox=False)
    cli = Cli(db_url, tmp_path)
    good, bad = oauth2_dovecot.new_user(), oauth2_dovecot.new_user()
    cli.env.update(
        CASEWORK_MAIL_DOMAIN=DOMAIN,
        GOOD_TOKEN=oauth2_provider.issue(good),
        BAD_TOKEN="never-issued-" + oauth2_provider.issue(bad)[:8],
    )
    port = str(oauth2_dovecot.port)
    for name, user, variable in (("m365", good, "GOOD_TOKEN"), ("gmail", bad, "BAD_TOKEN")):
        cli("mail", "mailbox", "add", name, "--case-type", "SUPPORT",
            "--address", f"{name}@casework.example", "--host", "127.0.0.1", "--port", port,
            "--no-tls", "--user", user, "--customer-group", "customers", "--auth", "xoauth2",
            "--password-ref", f"env:{variable}")  # fmt: skip
    oauth2_dovecot.append(good, request(1))
    oauth2_dovecot.append(bad, request(2))

    tested = cli("mail", "mailbox", "test", "m365")
    assert "signed in, INBOX holds 1 message(s)" in tested.stdout

    polled = cli("--json", "mail", "poll", "--once", ok=False)
    assert polled.returncode == 9 and "Traceback" not in polled.stderr
    rows = {row["mailbox"]: row for row in json.loads(polled.stdout)}
    assert (rows["m365"]["status"], rows["m365"]["new"]) == ("ok", 1)
    assert polled.stderr.splitlines() == [
        f"error: mailbox gmail (127.0.0.1:{port}): login refused "
        "([AUTHENTICATIONFAILED] Authentication failed.)"
    ]
    assert desk.cases() == 1 and desk.count(InboundMessage) == 1

    (listed,) = [row for row in cli.json("mail", "mailbox", "list") if row["name"] == "gmail"]
    assert (listed["status"], listed["failures"]) == ("failing", 1)
    assert listed["last_error"].startswith("login refused (")
    desk.runtime.close()


def test_the_worker_backs_a_mailbox_with_a_refused_token_off_and_recovers_with_a_new_one(
    db_url: str,
    tmp_path: Path,
    oauth2_dovecot: Dovecot,
    oauth2_provider: IntrospectionServer,
    caplog: pytest.LogCaptureFixture,
):
    user = oauth2_dovecot.new_user()
    token_file = tmp_path / "gmail-token"
    token_file.write_text("expired-token\n")
    clock = ManualClock()
    desk = make_desk(
        db_url,
        clock,
        port=oauth2_dovecot.port,
        tls=False,
        user=user,
        auth="xoauth2",
        password=f"file:{token_file}",
        poll_seconds=60,
    )
    oauth2_dovecot.append(user, request(1))
    poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
    try:
        for failures in (1, 2):
            with caplog.at_level("WARNING", logger="mail.imap"):
                poller.watch_logged(0)
            with desk.runtime.unit() as work:
                box = work.session.get(Mailbox, desk.mailbox_id)
                assert box is not None
                assert box.failures == failures and box.last_error is not None
                assert box.last_error.startswith("login refused (")
                wait = box.next_poll_at - clock.now()  # type: ignore[operator]
            assert wait == timedelta(seconds=60 * 2 ** (failures - 1))
            assert not mailbox_health.due(desk.runtime, desk.mailbox_id, clock.now())
            clock.advance(wait)
        assert caplog.text.count("IMAP failed, trying again later: login refused") == 2
        assert desk.cases() == 0

        token_file.write_text(oauth2_provider.issue(user) + "\n")  # the token program ran
        poller.watch_logged(0)
        with desk.runtime.unit() as work:
            box = work.session.get(Mailbox, desk.mailbox_id)
            assert box is not None and (box.failures, box.next_poll_at) == (0, None)
        assert desk.cases() == 1
    finally:
        poller.close()
        desk.runtime.close()
