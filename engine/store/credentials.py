"""Sign-in credentials: browser sessions, API tokens, the sign-in throttle (``people``) and
sign-ins through an identity provider (OpenID Connect).

Only hashes of secrets are stored (SHA-256 of a random token), so a leaked
database does not let anyone act as a user.  Failed sign-ins are counted in rows
rather than process memory so that the limits hold across server processes and
restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class WebSession(Base):
    """A logged-in browser: the cookie carries the token, the row its hash and CSRF secret."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A named bearer token for scripts, acting as its user within its scopes.

    A token made while authenticated by another token records that token as its parent:
    it never has wider scopes or a later expiry, and revoking the parent revokes it."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(40))  # space-separated: read write admin
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Recent failed sign-ins under one key: a user name (``user:alice``) or a client
    address (``address:192.0.2.7``); see ``people/throttle.py``."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(220), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]


class ProviderSignIn(Base):
    """A sign-in sent to the identity provider and not yet back: the hash of its ``state``
    (also in the browser's cookie), the ``nonce`` the ID token must carry and the PKCE
    verifier.  Used once; the secrets never leave the server except the state."""

    __tablename__ = "provider_sign_ins"
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ProviderIdentity(Base):
    """A provider account (issuer and ``sub``, which the provider never reassigns) linked
    to the Casework user it signs in as: a renamed provider account keeps its user, and a
    new account given an old name cannot take over someone else's."""

    __tablename__ = "provider_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime]


__all__ = ["ApiToken", "LoginThrottle", "ProviderIdentity", "ProviderSignIn", "WebSession"]


class PasswordLink(Base):
    """A one-time link to set a password: made when an administrator invites a user or
    resets one's password, shown once to the administrator (only its hash is kept) and
    spent by the first password set with it."""

    __tablename__ = "password_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # invite | reset
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
