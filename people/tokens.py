"""API tokens for scripts: scopes, expiry, and a family tree that revocation follows.

A token acts as its user within its scopes: ``read`` (every token has it), ``write``
(anything but reading) and ``admin`` (the user's administrator powers; without it an
administrator's token acts as a plain user).  A token made while authenticated by another
token is that token's child: it never gets wider scopes or a later expiry than its
parent, and revoking a token revokes all its descendants.  Revocation is written to the
descendants at once (so lists show it) and the check of a child also walks up its
ancestors, so a child can never outlive a revoked or expired ancestor.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import CTE

from engine import audit
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.credentials import ApiToken
from engine.store.fast import Prepared
from engine.store.models import User
from people.logins import USER_COLUMNS, digest, loaded_user

SCOPES = ("read", "write", "admin")
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
TOKEN_USE_PRECISION = timedelta(minutes=5)


@dataclass(frozen=True)
class TokenUse:
    """Who a presented token acts as, and with what."""

    user: User
    token_id: int
    scopes: frozenset[str]


def _scope_set(scopes: str) -> frozenset[str]:
    return frozenset(scopes.split())


def _scope_text(scopes: frozenset[str]) -> str:
    return " ".join(s for s in SCOPES if s in scopes)


def issue_token(
    work: UnitOfWork,
    *,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    lifetime: timedelta | None = None,
    parent_id: int | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the secret is returned once and never stored.

    ``parent_id`` is the token the request was authenticated by, if any: the new token's
    scopes must be among the parent's (by default they are the parent's) and it expires
    no later than the parent.  Without a parent the default is read and write."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("cannot create the token", {"name": "is required, at most 100 chars"})
    parent = work.session.get(ApiToken, parent_id) if parent_id is not None else None
    allowed = _scope_set(parent.scopes) if parent else frozenset(SCOPES)
    if not user.is_admin:
        allowed -= {"admin"}
    default = allowed if parent else allowed - {"admin"}  # admin only when asked for
    wanted = frozenset(scopes) if scopes is not None else default
    unknown = wanted - set(SCOPES)
    if unknown:
        raise InvalidInput(
            "cannot create the token", {"scopes": f"unknown scope {', '.join(sorted(unknown))}"}
        )
    wanted |= {"read"}
    if not wanted <= allowed:
        wider = ", ".join(sorted(wanted - allowed))
        source = "the token it is made with" if parent else "an administrator"
        raise Forbidden(f"a new token cannot have the scope {wider}: only {source} has it")
    if lifetime is not None and not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise InvalidInput(
            "cannot create the token",
            {"expires_in_days": f"must be from 1 to {MAX_LIFETIME.days} days"},
        )
    expires_at = work.now + (lifetime or DEFAULT_LIFETIME)
    if parent is not None and expires_at > parent.expires_at:
        if lifetime is not None:
            raise InvalidInput(
                "cannot create the token",
                {"expires_in_days": "may not be later than the token it is made with"},
            )
        expires_at = parent.expires_at
    secret = "cw_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=digest(secret),
        user_id=user.id,
        parent_id=parent.id if parent else None,
        name=name,
        scopes=_scope_text(wanted),
        created_at=work.now,
        expires_at=expires_at,
    )
    work.session.add(row)
    work.session.flush()
    audit.record(
        work,
        actor_id=user.id,
        entity="api_token",
        entity_id=row.id,
        action="created",
        after={"name": name, "scopes": row.scopes, "parent": row.parent_id},
    )
    return row, secret


_TOKEN_USER = Prepared(
    select(ApiToken.id, ApiToken.last_used_at, ApiToken.parent_id, ApiToken.scopes, *USER_COLUMNS)
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)
_TOKEN_USED = Prepared(
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
)


def _lineage(start: Any, upwards: bool) -> CTE:
    """A recursive CTE of the token ``start`` and its ancestors (or descendants)."""
    columns = (ApiToken.id, ApiToken.parent_id, ApiToken.revoked_at, ApiToken.expires_at)
    tree = select(*columns).where(ApiToken.id == start).cte("lineage", recursive=True)
    step = aliased(ApiToken)
    link = step.id == tree.c.parent_id if upwards else step.parent_id == tree.c.id
    return tree.union_all(
        select(step.id, step.parent_id, step.revoked_at, step.expires_at).join(tree, link)
    )


_ANCESTORS = _lineage(bindparam("parent_id"), upwards=True)
_DEAD_ANCESTORS = (
    select(func.count())
    .select_from(_ANCESTORS)
    .where(or_(_ANCESTORS.c.revoked_at.is_not(None), _ANCESTORS.c.expires_at <= bindparam("now")))
)


def token_user(work: UnitOfWork, secret: str) -> TokenUse | None:
    """The active user of a live token: not revoked, not expired, no ancestor revoked or
    expired (and note when it was last used)."""
    row = _TOKEN_USER.first(work.session, {"token_hash": digest(secret), "now": work.now})
    if row is None:
        return None
    token_id, last_used_at, parent_id, scopes = row[0], row[1], row[2], _scope_set(row[3])
    if parent_id is not None and work.session.scalar(
        _DEAD_ANCESTORS, {"parent_id": parent_id, "now": work.now}
    ):
        return None
    if last_used_at is None or work.now - last_used_at > TOKEN_USE_PRECISION:
        # not on every request: reads stay read-only
        _TOKEN_USED.execute(work.session, {"token_id": token_id, "now": work.now})
    return TokenUse(loaded_user(work, row[4:], admin="admin" in scopes), token_id, scopes)


def token_rows(
    work: UnitOfWork, *, user_id: int | None, token_id: int | None = None
) -> list[dict[str, Any]]:
    """Tokens of one user (everyone's for ``None``), or just one, as plain rows (never the
    secret)."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    return [
        {
            "id": token.id,
            "name": token.name,
            "user": username,
            "parent_id": token.parent_id,
            "scopes": token.scopes.split(),
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
            "active": token.revoked_at is None and token.expires_at > work.now,
        }
        for token, username in work.session.execute(query.order_by(ApiToken.id))
    ]


def revoke_token(work: UnitOfWork, *, actor: User, token_id: int) -> list[int]:
    """Revoke one of the actor's tokens (an administrator: anyone's) and all its
    descendants; the ids revoked now (none when it already was)."""
    token = work.session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not actor.is_admin):
        raise NotFound(f"no token {token_id}")
    family = _lineage(token_id, upwards=False)
    revoked = list(work.session.scalars(select(family.c.id).where(family.c.revoked_at.is_(None))))
    if revoked:
        work.session.execute(
            update(ApiToken).where(ApiToken.id.in_(revoked)).values(revoked_at=work.now)
        )
        for revoked_id in revoked:
            audit.record(
                work,
                actor_id=actor.id,
                entity="api_token",
                entity_id=revoked_id,
                action="revoked",
                after=None if revoked_id == token_id else {"with": token_id},
            )
    return revoked
