"""Several workers share the group mailboxes: a mailbox being read by one is skipped by the
others (they read another), and read as soon as it is free."""

from __future__ import annotations

import pytest

from engine.store.claims import claimed
from engine.store.db import make_engine
from mail.imap import MailboxPoller
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import build
from tests.mail.world import DOMAIN, make_desk
from tests.scratch_db import scratch_schema

pytestmark = pytest.mark.integration


def request(n: int) -> bytes:
    return build(
        f"From: Customer {n} <customer{n}@kunden.example>",
        f"Message-ID: <claim-{n}@kunden.example>",
        f"Subject: Printer {n} jams",
        body="It jams again.\n",
    )


def test_a_mailbox_another_worker_reads_is_skipped_until_it_is_free(
    db_url: str, dovecot: Dovecot
) -> None:
    user = dovecot.new_user()
    desk = make_desk(db_url, port=dovecot.port, tls=False, user=user, password=PASSWORD)
    dovecot.append(user, request(1), request(2))
    poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
    try:
        # another worker process holds the mailbox: a claim on a connection of its own
        with claimed(desk.runtime.db, "mailbox", desk.mailbox_id) as other:
            assert other
            meanwhile = poller.poll_claimed()
        if db_url.startswith("postgresql"):
            assert (meanwhile.fetched, desk.cases()) == (0, 0)  # left to the other worker
        else:  # SQLite: one writer at a time anyway, nothing to claim
            assert (meanwhile.new, desk.cases()) == (2, 2)
        after = poller.poll_claimed()
        assert desk.cases() == 2  # each message opened one case, whoever read it
        assert after.new + meanwhile.new == 2
    finally:
        poller.close()
        desk.runtime.close()


def test_installations_sharing_a_database_never_skip_each_others_mailboxes(
    postgres_url: str,
) -> None:
    with scratch_schema(postgres_url) as first, scratch_schema(postgres_url) as second:
        engines = [make_engine(first), make_engine(second)]
        try:
            with claimed(engines[0], "mailbox", 1) as mine:
                with claimed(engines[1], "mailbox", 1) as theirs:
                    assert mine and theirs  # mailbox 1 of two installations: two mailboxes
                with claimed(engines[0], "mailbox", 1) as again:
                    assert not again  # the same mailbox of the same installation: taken
                with claimed(engines[0], "mailbox", 2) as another:
                    assert another
            with claimed(engines[0], "mailbox", 1) as freed:
                assert freed  # released when the first worker was done
        finally:
            for engine in engines:
                engine.dispose()
