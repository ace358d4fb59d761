"""The notification digest: one mail listing what a user who chose ``digest`` has not been
mailed yet, through the same outbox and templates as every notice.

Each notification is checked against the decision again when the digest is built (the
case may have become restricted, the user may have lost a group since): what they may no
longer see is left out of the mail, and settled all the same.  ``run.py notifications
digest`` queues the digests; ``run.py worker`` does so every hour (``--digest-every``).  A
second run with nothing new queues nothing, and two workers never mail a notification twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from engine.runtime import UnitOfWork
from engine.store.access import Notification, NotificationPreference
from engine.store.models import Case, StreamPost, User
from mail.outbox import queue_notice
from mail.settings import MailSettings
from rules.checks import can
from rules.subject import load_subject


def _what(kind: str, post: StreamPost | None) -> str:
    if post is None:
        return "new case" if kind == "case_opened" else kind.replace("_", " ")
    flat = " ".join(post.body.split())
    text = flat if len(flat) <= 120 else flat[:117].rsplit(" ", 1)[0] + " …"
    return f"new post: {text}"


def queue_notification_digests(work: UnitOfWork, mail: MailSettings) -> int:
    """Queue a digest for every user who chose one and has notifications not yet mailed;
    answers how many were queued."""
    queued = 0
    users = work.session.scalars(
        select(User)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(NotificationPreference.mail == "digest")
        .order_by(User.id)
    )
    for user in list(users):
        pending = list(
            work.session.scalars(
                select(Notification)
                .where(Notification.user_id == user.id, Notification.sent_at.is_(None))
                .order_by(Notification.id)
            )
        )
        if not pending:
            continue
        # claim them first: a second worker building digests at the same moment finds them
        # taken (its UPDATE waits for ours, then matches nothing) and mails none of them twice
        claimed = set(
            work.session.scalars(
                update(Notification)
                .where(
                    Notification.id.in_([n.id for n in pending]),
                    Notification.sent_at.is_(None),
                )
                .values(sent_at=work.now)
                .returning(Notification.id)
            )
        )
        pending = [note for note in pending if note.id in claimed]
        if not pending:
            continue
        subject = load_subject(work, user)
        items: list[dict[str, Any]] = []
        for note in pending:
            case = work.session.get(Case, note.case_id)
            post = work.session.get(StreamPost, note.post_id) if note.post_id else None
            action = "read_internal" if post is not None and post.internal else "read"
            if case is None or not can(work, subject, action, case):
                continue
            portal = "/portal" if subject.portal is not None else ""
            items.append(
                {
                    "case_number": case.number,
                    "case_subject": case.subject,
                    "case_url": f"{mail.base_url}{portal}/cases/{case.number}",
                    "what": _what(note.kind, post),
                }
            )
        if not items or not user.is_active or not user.email:
            continue
        portal = "/portal" if subject.portal is not None else ""
        message = queue_notice(
            work.session,
            case_id=None,
            kind="notification_digest",
            recipients=[user.email],
            sender=mail.sender,
            context={
                "name": user.display_name or user.username,
                "items": items,
                "notifications_url": f"{mail.base_url}{portal}/notifications",
            },
            domain=mail.domain,
            dedupe_key=f"notification_digest:to={user.email}:upto={pending[-1].id}",
            now=work.now,
            token=f"notes{user.id:08d}",
        )
        queued += message is not None
    return queued
