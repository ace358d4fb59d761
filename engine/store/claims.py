"""Claims held while one worker process does a piece of work no other may do at the same time.

Several ``run.py worker`` processes share a PostgreSQL database; each reads every group
mailbox, and two reading the same folder at once would fetch the same messages and race to
take each in (the intake's unique key keeps one, the other's work is wasted).  A claim lets
one of them read the mailbox while the others skip it and read another.

On PostgreSQL a claim is a session-level advisory lock taken with ``pg_try_advisory_lock``
on a connection of its own and released when the work is done.  A worker that dies
(``kill -9``) loses its connection and with it the claim, so nothing is left to expire.
It is not a row lock (``FOR UPDATE SKIP LOCKED``) on purpose: the claimed work writes the
claimed row itself (a mailbox's failure count, its folder state) in transactions of its
own, which a row lock held meanwhile would block.  The lock's key names the installation
(its search path), so installations sharing one database (``?schema=NAME``) never skip each
other's mailboxes.
On SQLite there is one writer at a time anyway: every claim is granted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

#: The lock's first key: the kind of work within this installation (its search path)
_SPACE = "hashtext(current_setting('search_path') || :kind)"
_TRY = text(f"select pg_try_advisory_lock({_SPACE}, :key)")
_RELEASE = text(f"select pg_advisory_unlock({_SPACE}, :key)")
_WAIT_TURN = text(f"select pg_advisory_xact_lock({_SPACE}, hashtext(:key))")


@contextlib.contextmanager
def claimed(engine: Engine, kind: str, key: int) -> Iterator[bool]:
    """Yield whether this process now holds the claim on (``kind``, ``key``); it is released
    when the block ends.  False: another process holds it; skip the work."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    names = {"kind": f":{kind}", "key": key}
    with engine.connect() as connection:
        held = bool(connection.scalar(_TRY, names))
        connection.commit()  # the lock outlives the transaction; hold no snapshot meanwhile
        try:
            yield held
        finally:
            if held:
                # a connection that broke took the lock with it
                with contextlib.suppress(SQLAlchemyError):
                    connection.execute(_RELEASE, names)
                    connection.commit()


def take_turn(session: Session, kind: str, key: str) -> None:
    """Wait until no other transaction holds (``kind``, ``key``), then hold it until this
    transaction ends.

    For work that must see what a concurrent transaction is about to commit: two workers
    taking in the first two mails of a new sender both find no contact; the one that waits
    here finds, once the other has committed, the contact it made.  A transaction-level
    advisory lock, so a worker that dies releases it with its connection.  On SQLite the
    one writer at a time is the turn already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_WAIT_TURN, {"kind": f":{kind}", "key": key})
