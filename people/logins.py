"""Who is knocking: password sign-in under the throttle, browser sessions, password changes.

A sign-in runs in three steps so that the slow password hash never holds a transaction
(or, on SQLite, the server's one-writer gate): :func:`begin_sign_in` counts the attempt
and reads the stored hash in one unit, :func:`check` runs argon2 outside any unit (for
unknown and inactive users too, against a dummy hash: see ``people/passwords.py``), and
:func:`finish_sign_in` starts the session in a second unit.

Secrets handed to clients (session cookies, API tokens) are random and stored only as
SHA-256 hashes.  Changing a password ends every session of its user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.base import manager_of_class
from sqlalchemy.orm.util import identity_key

from engine import audit
from engine.runtime import UnitOfWork
from engine.store.credentials import WebSession
from engine.store.fast import Prepared
from engine.store.models import User
from people import passwords
from people.throttle import LoginLimits, count_attempt, forgive

SESSION_LIFETIME = timedelta(hours=12)


def digest(secret: str) -> str:
    """What is stored of a secret handed to a client."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """An attempt that has been counted and whose password is still to be checked."""

    username: str
    address: str
    user_id: int | None  # None: no active user of that name (checked all the same)
    password_hash: str | None


def begin_sign_in(work: UnitOfWork, limits: LoginLimits, *, username: str, address: str) -> SignIn:
    """Count the attempt (or raise ``TooManyAttempts``) and read what :func:`check` needs.
    Unknown, inactive and password-less users come back with no hash, and are checked
    against the dummy hash like everyone else."""
    count_attempt(work, limits, username=username, address=address)
    row = work.session.execute(
        select(User.id, User.password_hash).where(
            User.username == username, User.is_active.is_(True)
        )
    ).first()
    if row is None:
        return SignIn(username, address, None, None)
    return SignIn(username, address, row.id, row.password_hash)


def check(attempt: SignIn, password: str) -> bool:
    """Whether the password is right; argon2 runs whoever the user is (no unit needed)."""
    return passwords.matches(attempt.password_hash, password) and attempt.user_id is not None


def signed_in_user(work: UnitOfWork, attempt: SignIn) -> User | None:
    """After a right password: the user, still active and with the password that was
    checked (None if either changed meanwhile); the user name's failures are forgiven."""
    user = work.session.get(User, attempt.user_id) if attempt.user_id is not None else None
    if user is None or not user.is_active or user.password_hash != attempt.password_hash:
        return None
    forgive(work, username=attempt.username, address=attempt.address)
    return user


def record_sign_in(work: UnitOfWork, user: User, method: str, **details: object) -> None:
    """Audit a sign-in (``method``: ``password`` or ``identity provider``), whichever way
    it came, so the trail shows every session's start in one form."""
    audit.record(
        work,
        actor_id=user.id,
        entity="user",
        entity_id=user.id,
        action="signed in",
        after={"method": method, **details},
    )


@dataclass(frozen=True)
class NewSession:
    """The cookie value (shown once) and the CSRF token forms must echo."""

    token: str
    csrf_token: str


def start_session(work: UnitOfWork, user: User) -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    work.session.add(
        WebSession(
            token_hash=digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=work.now,
            expires_at=work.now + SESSION_LIFETIME,
        )
    )
    return NewSession(token, csrf)


def replace_password(
    work: UnitOfWork, user: User, new_hash: str, *, actor_id: int | None, reset: bool
) -> None:
    """Store a new password hash (made by ``passwords.hash_new``, which applies the policy)
    and end all of the user's sessions: whoever had a session with the old password has to
    sign in again.  ``reset`` marks an administrator's reset in the audit trail."""
    user.password_hash = new_hash
    work.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(
        work,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="password reset" if reset else "password changed",
    )


# Every request finds its user by a credential.  Both lookups read the user's columns with
# the credential in one prepared statement and hand the session the user as already loaded
# (SQLAlchemy's make_transient_to_detached): a session.get after the lookup cost a third of
# an API request's own time on the HTTP bench.
USER_COLUMNS = list(User.__table__.c)
_USER_KEYS = tuple(column.key for column in USER_COLUMNS)
_USER_MANAGER = manager_of_class(User)
_SESSION_USER = Prepared(
    select(WebSession.csrf_token, *USER_COLUMNS)
    .join(User, WebSession.user_id == User.id)
    .where(
        WebSession.token_hash == bindparam("token_hash"),
        WebSession.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


def loaded_user(work: UnitOfWork, values: tuple[object, ...], *, admin: bool = True) -> User:
    """The user of these column values, in the session as if a query had loaded it.

    ``admin=False`` loads an administrator as a plain user for this unit (an API token
    without the admin scope): every check, in the rules and in the engine, reads
    ``is_admin``.  The value is loaded, not changed, so nothing writes it back."""
    user_id = values[0]
    known = work.session.identity_map.get(identity_key(User, user_id))
    if known is not None:  # a credential is read first in its unit, so only in odd tests
        return known
    # The values go straight into the new instance's dict, as a query's loading does:
    # ``User(**columns)`` would fire an attribute event per column only for
    # make_transient_to_detached to mark them all unchanged again (twice the time of
    # the whole lookup on the HTTP bench).
    user = _USER_MANAGER.new_instance()
    user.__dict__.update(zip(_USER_KEYS, values, strict=True))
    user.__dict__["is_admin"] = bool(user.__dict__["is_admin"]) and admin
    make_transient_to_detached(user)
    work.session.add(user)
    return user


def session_user(work: UnitOfWork, token: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session cookie, or None."""
    row = _SESSION_USER.first(work.session, {"token_hash": digest(token), "now": work.now})
    return (loaded_user(work, row[1:]), row[0]) if row else None


def end_session(work: UnitOfWork, token: str) -> None:
    work.session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))
