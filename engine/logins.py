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

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from . import audit
from .directory import verify_password
from .errors import Forbidden, InvalidInput, NotFound
from .runtime import UnitOfWork
from .store.fast import Prepared
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
    failures = work.session.scalars(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.address == address,
            LoginAttempt.at >= since,
        )
    ).one()
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


# Every request finds its user by a credential.  Both lookups read the user's columns with
# the credential in one prepared statement and hand the session the user as already loaded
# (SQLAlchemy's make_transient_to_detached): a session.get after the lookup cost a third of
# an API request's own time on the HTTP bench.
_USER_COLUMNS = list(User.__table__.c)
_SESSION_USER = Prepared(
    select(WebSession.csrf_token, *_USER_COLUMNS)
    .join(User, WebSession.user_id == User.id)
    .where(
        WebSession.token_hash == bindparam("token_hash"),
        WebSession.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


def _loaded_user(work: UnitOfWork, values: tuple[object, ...]) -> User:
    """The user of these column values, in the session as if a query had loaded it."""
    user_id = values[0]
    known = work.session.identity_map.get(identity_key(User, user_id))
    if known is not None:
        return known
    user = User(**{column.key: value for column, value in zip(_USER_COLUMNS, values, strict=True)})
    make_transient_to_detached(user)
    work.session.add(user)
    return user


def session_user(work: UnitOfWork, token: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session cookie, or None."""
    row = _SESSION_USER.first(work.session, {"token_hash": _digest(token), "now": work.now})
    return (_loaded_user(work, row[1:]), row[0]) if row else None


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


_TOKEN_USER = Prepared(
    select(ApiToken.id, ApiToken.last_used_at, *_USER_COLUMNS)
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)
_TOKEN_USED = Prepared(
    update(ApiToken.__table__)
    .where(ApiToken.__table__.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
)


def token_user(work: UnitOfWork, secret: str) -> User | None:
    """The active user of an unrevoked token (and note when it was last used)."""
    row = _TOKEN_USER.first(work.session, {"token_hash": _digest(secret)})
    if row is None:
        return None
    token_id, last_used_at = row[0], row[1]
    if last_used_at is None or work.now - last_used_at > TOKEN_USE_PRECISION:
        # not on every request: reads stay read-only
        _TOKEN_USED.execute(work.session, {"token_id": token_id, "now": work.now})
    return _loaded_user(work, row[2:])


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
