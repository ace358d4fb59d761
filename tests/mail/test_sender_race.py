"""Two workers taking in the first mails of a new sender at the same moment make one contact
and one user for them, and neither mail fails (PostgreSQL: the workers are processes with
transactions of their own)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, func, select, text

from engine.store.mailbox import Mailbox
from engine.store.models import Case, Contact, User
from mail.intake import Outcome
from mail.senders import create_sender
from tests.mail.helpers import build
from tests.mail.world import make_desk
from tests.scratch_db import scratch_schema

pytestmark = pytest.mark.integration

ADDRESS = "new.customer@kunden.example"


def first_mail(n: int) -> bytes:
    return build(
        f"From: New Customer <{ADDRESS}>",
        f"Message-ID: <race-{n}@kunden.example>",
        f"Subject: Printer {n} jams",
        body="It jams again.\n",
    )


def someone_waits_for(engine: Engine, backend: int) -> bool:
    """Whether a transaction waits for a lock the server process ``backend`` holds."""
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "select count(*) from pg_stat_activity "
                    "where cast(:backend as integer) = any(pg_blocking_pids(pid))"
                ),
                {"backend": backend},
            )
        )


def test_a_sender_made_by_another_worker_meanwhile_is_used_not_made_twice(
    postgres_url: str,
) -> None:
    with scratch_schema(postgres_url) as url:
        desk = make_desk(url)
        rt = desk.runtime
        first_made = threading.Event()
        may_commit = threading.Event()
        outcome: list[Outcome] = []
        backend: list[int] = []

        def first_worker() -> None:  # has made the contact, not yet committed it
            with rt.unit() as work:
                mailbox = work.session.get(Mailbox, desk.mailbox_id)
                assert mailbox is not None
                create_sender(work, ADDRESS, "New Customer", mailbox)
                backend.append(int(work.session.scalar(text("select pg_backend_pid()")) or 0))
                first_made.set()
                may_commit.wait(60)

        def second_worker() -> None:  # reads the mail while the first has not committed
            outcome.append(desk.take(first_mail(2)))

        first = threading.Thread(target=first_worker)
        first.start()
        assert first_made.wait(30)
        second = threading.Thread(target=second_worker)
        second.start()
        deadline = time.monotonic() + 30
        while not someone_waits_for(rt.db, backend[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.is_alive(), "the second worker did not wait for the first one"
        may_commit.set()
        first.join(30)
        second.join(30)
        try:
            assert len(outcome) == 1 and not outcome[0].duplicate
            with rt.unit() as work:
                contacts = work.session.scalar(
                    select(func.count()).select_from(Contact).where(Contact.email == ADDRESS)
                )
                users = list(work.session.scalars(select(User).where(User.email == ADDRESS)))
                raisers = set(work.session.scalars(select(Case.raiser_id)))
            assert contacts == 1
            assert [u.username for u in users] == [ADDRESS]
            assert raisers == {users[0].id}  # the second mail's case is the one contact's
        finally:
            rt.close()
