"""Invitations, one-time password links, and switching a user off and on.

An administrator does not choose other people's passwords: inviting a user or resetting
one's password makes a one-time link that the administrator hands over (it is shown once;
only its hash is stored).  The first password set through the link spends it and every
other open link of that user.  A reset also forgets the old password and ends the user's
sessions, so whoever knew it is out at once.

A deactivated user cannot sign in, and their sessions and API tokens stop working with the
very next request: both lookups (``people/logins.py``, ``people/tokens.py``) only find
active users.  Their sessions are deleted as well, so reactivating does not revive them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from engine import audit
from engine.runtime import UnitOfWork
from engine.store.credentials import PasswordLink, WebSession
from engine.store.models import User
from people import logins

LINK_LIFETIME = timedelta(days=7)
PURPOSES = ("invite", "reset")


def issue_link(work: UnitOfWork, user: User, purpose: str, *, actor_id: int | None) -> str:
    """A new one-time link secret for ``user`` (``invite`` or ``reset``); a reset forgets
    the current password and ends the user's sessions."""
    assert purpose in PURPOSES
    secret = secrets.token_urlsafe(32)
    work.session.add(
        PasswordLink(
            token_hash=logins.digest(secret),
            user_id=user.id,
            purpose=purpose,
            created_at=work.now,
            expires_at=work.now + LINK_LIFETIME,
        )
    )
    if purpose == "reset":
        user.password_hash = None
        work.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(
        work,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="password link",
        after={"purpose": purpose, "expires_at": (work.now + LINK_LIFETIME).isoformat()},
    )
    return secret


@dataclass(frozen=True)
class OpenLink:
    """A link that may still be used, and whose user it sets the password of."""

    link_id: int
    user: User
    purpose: str


def open_link(work: UnitOfWork, secret: str) -> OpenLink | None:
    """The unspent, unexpired link of an active user with this secret, or None."""
    row = work.session.execute(
        select(PasswordLink, User)
        .join(User, User.id == PasswordLink.user_id)
        .where(
            PasswordLink.token_hash == logins.digest(secret),
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > work.now,
            User.is_active.is_(True),
        )
    ).first()
    return OpenLink(row[0].id, row[1], row[0].purpose) if row else None


def link_problem(work: UnitOfWork, secret: str) -> str:
    """Why a link does not open, for the page its holder sees: ``used``, ``expired``,
    ``deactivated`` (its user) or ``unknown``.  Only the holder of the secret learns it."""
    row = work.session.execute(
        select(PasswordLink, User)
        .join(User, User.id == PasswordLink.user_id)
        .where(PasswordLink.token_hash == logins.digest(secret))
    ).first()
    if row is None:
        return "unknown"
    link, user = row
    if link.used_at is not None:
        return "used"
    if link.expires_at <= work.now:
        return "expired"
    return "deactivated" if not user.is_active else "unknown"


def spend_link(work: UnitOfWork, link: OpenLink, new_hash: str) -> None:
    """Set the password (a hash made by ``passwords.hash_new``) and spend every open link
    of the user, so no second password can be set with an older one."""
    work.session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == link.user.id, PasswordLink.used_at.is_(None))
        .values(used_at=work.now)
    )
    logins.replace_password(work, link.user, new_hash, actor_id=link.user.id, reset=False)


def set_active(work: UnitOfWork, user: User, active: bool, *, actor_id: int | None) -> None:
    """Switch a user on or off (the rules decide who may be switched off); off ends their
    sessions at once, and their tokens stop working because only active users are found."""
    if user.is_active == active:
        return
    user.is_active = active
    if not active:
        work.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(
        work,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="reactivated" if active else "deactivated",
    )


def active_admins(work: UnitOfWork) -> list[int]:
    return list(
        work.session.scalars(
            select(User.id).where(User.is_admin.is_(True), User.is_active.is_(True))
        )
    )
