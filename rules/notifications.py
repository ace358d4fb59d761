"""A user's notifications as they may see them now, what they follow, and how they want
notifications mailed.

Notifications are written when something happens (``casework.hooks``), for followers the
decision let see it then.  Access can change afterwards (a case restricted, hidden from the
portal, moved to a type the user may not read), so every list, count and "mark read" here
filters again through the same rules as the case lists: a notification of a case or post the
user may no longer see is neither listed nor counted, and "mark read" answers "not found"
for it as for a notification that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update

from engine.errors import InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.access import CaseFollower, Notification, NotificationPreference
from engine.store.db import changed_rows
from engine.store.models import Case, StreamPost, User

from .case_acts import case_for_action
from .checks import reads_internal_posts
from .levels import Level
from .subject import Subject
from .visibility import case_filter

#: How notifications are mailed: one mail each, a digest, or not at all (in the app only).
MAIL_CHOICES = ("each", "digest", "none")
MAX_LIMIT = 200


def _visible(subject: Subject) -> ColumnElement[bool]:
    """The notification is the subject's and they may read its case (and post) today."""
    condition = and_(Notification.user_id == subject.user_id, case_filter(subject, Level.READ))
    if not reads_internal_posts(subject):  # an internal note never reaches a customer
        condition = and_(
            condition, or_(Notification.post_id.is_(None), StreamPost.internal.is_(False))
        )
    return condition


def _query(subject: Subject) -> Select[Any]:
    return (
        select(
            Notification.id,
            Notification.kind,
            Notification.created_at,
            Notification.read_at,
            Notification.post_id,
            Case.number,
            Case.subject,
            StreamPost.body,
            StreamPost.internal,
            User.username,
            StreamPost.author_id,
        )
        .join(Case, Case.id == Notification.case_id)
        .outerjoin(StreamPost, StreamPost.id == Notification.post_id)
        .outerjoin(User, User.id == StreamPost.author_id)
        .where(_visible(subject))
    )


def notifications(
    work: UnitOfWork, subject: Subject, *, unread: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    """The subject's notifications they may still see, newest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("invalid limit", {"limit": f"a whole number from 1 to {MAX_LIMIT}"})
    query = _query(subject)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    rows = work.session.execute(query.order_by(Notification.id.desc()).limit(limit)).all()
    customer = subject.portal is not None
    answer = []
    for r in rows:
        item: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "case": r.number,
            "case_subject": r.subject,
            "created_at": r.created_at,
            "read": r.read_at is not None,
            "post_id": r.post_id,
            "text": _text(r.kind, r.body),
        }
        if r.post_id is not None:
            if customer:  # the portal names nobody who works the case
                item["author"] = "you" if r.author_id == subject.user_id else None
            else:
                item["author"] = r.username
                item["internal"] = bool(r.internal)
        answer.append(item)
    return answer


def _text(kind: str, body: str | None) -> str:
    if body is None:
        return "new case" if kind == "case_opened" else kind.replace("_", " ")
    flat = " ".join(body.split())
    return flat if len(flat) <= 160 else flat[:157].rsplit(" ", 1)[0] + " …"


def unread_count(work: UnitOfWork, subject: Subject) -> int:
    """How many notifications the subject has not read (of those they may still see)."""
    query = (
        select(func.count())
        .select_from(Notification)
        .join(Case, Case.id == Notification.case_id)
        .outerjoin(StreamPost, StreamPost.id == Notification.post_id)
        .where(_visible(subject), Notification.read_at.is_(None))
    )
    return int(work.session.scalar(query) or 0)


def mark_read(work: UnitOfWork, subject: Subject, notification_id: int | None) -> int:
    """Mark one notification (or, with ``None``, all of them) read; answers how many
    changed.  Someone else's notification, or one the subject may no longer see, is "not
    found" like a missing one."""
    now: datetime = work.now
    query = _query(subject).with_only_columns(Notification.id)
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    ids = list(work.session.scalars(query))
    if notification_id is not None and not ids:
        raise NotFound(f"no notification {notification_id}")
    if not ids:
        return 0
    return changed_rows(
        work.session,
        update(Notification)
        .where(Notification.id.in_(ids), Notification.read_at.is_(None))
        .values(read_at=now),
    )


def mail_preference(work: UnitOfWork, user_id: int) -> str:
    """``each`` unless the user chose otherwise."""
    row = work.session.get(NotificationPreference, user_id)
    return row.mail if row is not None else "each"


def set_mail_preference(work: UnitOfWork, subject: Subject, mail: str) -> str:
    """Choose how one's own notifications are mailed (see :data:`MAIL_CHOICES`)."""
    if mail not in MAIL_CHOICES:
        raise InvalidInput("invalid mail preference", {"mail": f"one of {', '.join(MAIL_CHOICES)}"})
    row = work.session.get(NotificationPreference, subject.user_id)
    if row is None:
        work.session.add(
            NotificationPreference(user_id=subject.user_id, mail=mail, updated_at=work.now)
        )
    else:
        row.mail, row.updated_at = mail, work.now
    work.session.flush()
    return mail


def follow(work: UnitOfWork, subject: Subject, number: str) -> Case:
    """Follow a case one may read (customers: the cases they see in the portal)."""
    case, _ = case_for_action(work, subject, number, "read")
    if work.session.get(CaseFollower, (case.id, subject.user_id)) is None:
        work.session.add(CaseFollower(case_id=case.id, user_id=subject.user_id))
        work.session.flush()
    return case


def unfollow(work: UnitOfWork, subject: Subject, number: str) -> Case:
    """Stop following a case (the case must still be one the subject may read)."""
    case, _ = case_for_action(work, subject, number, "read")
    work.session.execute(
        delete(CaseFollower).where(
            CaseFollower.case_id == case.id, CaseFollower.user_id == subject.user_id
        )
    )
    return case


def follows(work: UnitOfWork, subject: Subject, case_id: int) -> bool:
    return work.session.get(CaseFollower, (case_id, subject.user_id)) is not None
