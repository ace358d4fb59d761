"""Tables of the web layer: browser sessions, API tokens and failed-login counts.

Only hashes of secrets are stored (SHA-256 of a random token), so a leaked
database does not let anyone act as a user.  Login attempts are rows rather than
process memory so that the limit holds across server processes and restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
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
    """A named bearer token for scripts, acting as its user with the same permissions."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One failed login for a username from an address; counted within a time window."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    __table_args__ = (Index("ix_login_attempts_who", "username", "address", "at"),)


__all__ = ["ApiToken", "LoginAttempt", "WebSession"]
