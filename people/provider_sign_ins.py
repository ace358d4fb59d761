"""Sign-ins on their way through the identity provider: kept server-side, used once.

The browser carries only the ``state`` (in the callback's URL and in its own cookie);
the ``nonce`` and the PKCE verifier stay here under the state's hash, so a callback is
accepted once, within :data:`LIFETIME`, and only with what this server sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from engine.runtime import UnitOfWork
from engine.store.credentials import ProviderSignIn
from people.logins import digest

LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    code_verifier: str


def begin(work: UnitOfWork) -> Pending:
    """A new sign-in's random state, nonce and PKCE verifier (43+ characters, RFC 7636),
    stored; sign-ins older than :data:`LIFETIME` are cleared away on the way."""
    work.session.execute(delete(ProviderSignIn).where(ProviderSignIn.expires_at <= work.now))
    pending = Pending(
        secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    )
    work.session.add(
        ProviderSignIn(
            state_hash=digest(pending.state),
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
            created_at=work.now,
            expires_at=work.now + LIFETIME,
        )
    )
    return pending


def take(work: UnitOfWork, state: str) -> Pending | None:
    """The live sign-in of this state, removed so it cannot be used again; None if there
    is none (never started here, used already, or expired)."""
    row = work.session.scalar(
        select(ProviderSignIn).where(ProviderSignIn.state_hash == digest(state)).with_for_update()
    )
    if row is None:
        return None
    work.session.delete(row)
    if row.expires_at <= work.now:
        return None
    return Pending(state, row.nonce, row.code_verifier)
