"""How each mailbox's polling goes: failures in a row, the last error, and the back-off.

A mailbox whose server is down or refuses the login must neither stop the others nor be
hammered: after the n-th failure in a row the worker waits ``poll_seconds * 2**(n-1)``
(at most :data:`MAX_BACKOFF`) before trying it again, and the last error stays on the
mailbox for the operator (``mail mailbox list``, the admin page).  The first poll that
works again resets the count; the last error is kept, with its time, as history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.runtime import Runtime
from engine.store.mailbox import Mailbox

MAX_BACKOFF = timedelta(hours=1)


def backoff(poll_seconds: int, failures: int) -> timedelta:
    """The wait after ``failures`` failed polls in a row."""
    factor: int = 2 ** max(failures - 1, 0)
    return min(timedelta(seconds=max(poll_seconds, 1)) * factor, MAX_BACKOFF)


def failed(rt: Runtime, mailbox_id: int, error: str) -> None:
    """Count a failed poll and schedule the next try."""
    with rt.unit() as work:
        mailbox = work.session.get(Mailbox, mailbox_id)
        if mailbox is None:
            return
        mailbox.failures += 1
        mailbox.last_error, mailbox.last_error_at = error[:2000], work.now
        mailbox.next_poll_at = work.now + backoff(mailbox.poll_seconds, mailbox.failures)


def worked(rt: Runtime, mailbox_id: int) -> None:
    """A poll went through: the mailbox is healthy again (cheap when it already was)."""
    with rt.unit() as work:
        mailbox = work.session.get(Mailbox, mailbox_id)
        if mailbox is not None and (mailbox.failures or mailbox.next_poll_at is not None):
            mailbox.failures, mailbox.next_poll_at = 0, None


def due(rt: Runtime, mailbox_id: int, now: datetime) -> bool:
    """False while a failing mailbox's back-off runs."""
    with rt.unit() as work:
        mailbox = work.session.get(Mailbox, mailbox_id)
        return mailbox is not None and (mailbox.next_poll_at is None or mailbox.next_poll_at <= now)


def status(mailbox: Mailbox) -> str:
    """``disabled``, ``failing`` or ``ok``, as the list and the admin page show it."""
    if not mailbox.active:
        return "disabled"
    return "failing" if mailbox.failures else "ok"
