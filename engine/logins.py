"""Who is knocking: password logins with a failure limit, browser sessions and API tokens.

Secrets handed to clients (session cookies, API tokens) are random and stored only
as SHA-256 hashes.  Failed logins are counted per username and address in the
database, against the unit's clock, so the limit survives restarts and holds
across server processes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select

from . import audit
from .directory import verify_password
from .errors import Forbidden, InvalidInput, NotFound
from .runtime import UnitOfWork
from .store.models import User
from .store.web import ApiToken, LoginAttempt, WebSession

SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
TOKEN_USE_PRECISION = timedelta(minutes=5)


class TooManyAttempts(Forbidden):
    """Login refused without checking the password: too many recent failures."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(work: UnitOfWork, *, username: str, password: str, address: str) -> User | None:
    """The user whose password matches, or None (the failure is recorded, so the caller must
    let the unit commit); refuses without checking the password after too many failures."""
    username, address = username[:150], address[:64]
    since = work.now - FAILURE_WINDOW
    failures = work.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.address == address,
            LoginAttempt.at >= since,
        )
    )
    if failures >= MAX_FAILURES:
        raise TooManyAttempts(
            f"too many failed logins for '{username}'; try again in "
            f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes"
        )
    user = work.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not verify_password(user, password):
        work.session.add(LoginAttempt(username=username, address=address, at=work.now))
        return None
    work.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.username == username, LoginAttempt.address == address
        )
    )
    return user


@dataclass(frozen=True)
class NewSession:
    """The cookie value (shown once) and the CSRF token forms must echo."""

    token: str
    csrf_token: str


def start_session(work: UnitOfWork, user: User) -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    work.session.add(
        WebSession(
            token_hash=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=work.now,
            expires_at=work.now + SESSION_LIFETIME,
        )
    )
    return NewSession(token, csrf)


_SESSION_USER = (  # built once: every page request asks it
    select(User, WebSession.csrf_token)
    .join(WebSession, WebSession.user_id == User.id)
    .where(
        WebSession.token_hash == bindparam("token_hash"),
        WebSession.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


def session_user(work: UnitOfWork, token: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session cookie, or None."""
    row = work.session.execute(
        _SESSION_USER, {"token_hash": _digest(token), "now": work.now}
    ).first()
    return (row[0], row[1]) if row else None


def end_session(work: UnitOfWork, token: str) -> None:
    work.session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def issue_token(work: UnitOfWork, *, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the secret is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("cannot create the token", {"name": "is required, at most 100 chars"})
    secret = "cw_" + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=_digest(secret), user_id=user.id, name=name, created_at=work.now)
    work.session.add(row)
    work.session.flush()
    audit.record(
        work,
        actor_id=user.id,
        entity="api_token",
        entity_id=row.id,
        action="created",
        after={"name": name},
    )
    return row, secret


_TOKEN_USER = (  # built once: every API request asks it
    select(ApiToken, User)
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)


def token_user(work: UnitOfWork, secret: str) -> User | None:
    """The active user of an unrevoked token (and note when it was last used)."""
    row = work.session.execute(_TOKEN_USER, {"token_hash": _digest(secret)}).first()
    if row is None:
        return None
    token, user = row
    if token.last_used_at is None or work.now - token.last_used_at > TOKEN_USE_PRECISION:
        token.last_used_at = work.now  # not on every request: reads stay read-only
    return user


def user_tokens(work: UnitOfWork, user: User) -> list[ApiToken]:
    return list(
        work.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
    )


def revoke_token(work: UnitOfWork, *, user: User, token_id: int) -> ApiToken:
    token = work.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = work.now
        audit.record(
            work, actor_id=user.id, entity="api_token", entity_id=token.id, action="revoked"
        )
    return token
