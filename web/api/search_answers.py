"""What the search and notification routes answer (kept beside them, apart from the
shared ``web.answers``): hits of each kind, and notifications with the unread count."""

from __future__ import annotations

from datetime import datetime

from ..answers import Answer


class CaseHit(Answer):
    kind: str
    number: str | None
    subject: str
    status: str


class PostHit(Answer):
    """A stream post whose body holds the words; ``internal`` and the author's name are
    for agents only (customers see their own posts as ``you`` and no staff names)."""

    kind: str
    id: int
    case: str | None
    case_subject: str
    created_at: datetime
    snippet: str
    author: str | None = None
    internal: bool | None = None


class ContactHit(Answer):
    kind: str
    id: int
    name: str
    email: str | None
    customer: str


class SearchAnswer(Answer):
    """Hits of each kind the caller may see, newest first; ``more`` names the kinds that
    have more of them than the limit."""

    query: str
    words: list[str]
    more: list[str]
    cases: list[CaseHit]
    posts: list[PostHit]
    contacts: list[ContactHit]


class NotificationAnswer(Answer):
    id: int
    kind: str
    case: str | None
    case_subject: str
    created_at: datetime
    read: bool
    post_id: int | None
    text: str
    author: str | None = None
    internal: bool | None = None


class NotificationList(Answer):
    unread: int
    notifications: list[NotificationAnswer]


class MarkedRead(Answer):
    read: int


class MailPreference(Answer):
    mail: str


class Following(Answer):
    case: str
    following: bool
