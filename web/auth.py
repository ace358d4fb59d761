"""Who is acting on a request: session cookie or API token, checked inside the unit.

Every handler runs its work in :func:`acting`, which opens one unit of work,
authenticates, enforces the CSRF token for cookie-authenticated changes and the scopes
of an API token, and loads the permission subject; the handler then only asks ``rules``
and calls the engine.  Signing in with a password is :func:`password_sign_in`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPBearer

from engine.errors import Forbidden, InvalidInput
from engine.lazy import lazy
from engine.runtime import Runtime, UnitOfWork
from engine.store.models import User
from people import logins, passwords
from people.tokens import SCOPES, token_user
from rules import Subject, load_subject

from .settings import WebSettings

SESSION_COOKIE = "casework_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared for the OpenAPI document (and Swagger UI's "Authorize"); the checking is done
# by acting() below, inside the request's unit of work.
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="Set by POST /api/session or the sign-in page. Changes made with it must "
    "send the session's CSRF token as the X-CSRF-Token header.",
    auto_error=False,
)
bearer_token = HTTPBearer(
    scheme_name="token",
    description="An API token (POST /api/tokens): Authorization: Bearer cw_... "
    "Scopes: read (every token), write (any change), admin (administrators' powers).",
    auto_error=False,
)
SIGNED_IN = [Security(session_cookie), Security(bearer_token)]


class NotAuthenticated(Exception):
    """No valid session or token: the API answers 401, pages redirect to the login."""


@dataclass
class Actor:
    """The unit of work, the authenticated user, and how they authenticated: a session
    (with its CSRF token) or an API token (with its id and scopes)."""

    work: UnitOfWork
    user: User
    csrf: str | None  # None when authenticated by an API token
    token_id: int | None = None
    scopes: frozenset[str] = frozenset(SCOPES)

    @lazy
    def subject(self) -> Subject:
        """Loaded on first use: requests the engine checks by itself (the inbox, acting on
        one's own task) need not read every permission table."""
        return load_subject(self.work, self.user)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


@contextmanager
def unit(request: Request) -> Iterator[UnitOfWork]:
    """A unit of work for this request.  On SQLite, which has one writer at a time, units
    take turns through the app's gate instead of racing for the file lock."""
    with request.app.state.unit_gate, runtime_of(request).unit() as work:
        yield work


def client_address(request: Request) -> str:
    """The direct peer, or the client a trusted proxy names (see ``web/settings.py``)."""
    return request.client.host if request.client else "unknown"


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    samesite: Literal["lax", "strict"] = "lax",
    path: str = "/",
) -> None:
    """An HttpOnly cookie for the whole site (or the pages under ``path``), Secure over
    HTTPS (as the request reached us, or as a trusted proxy says it reached it) or when the
    settings demand it."""
    secure = settings_of(request).secure_cookies or request.url.scheme == "https"
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, secure=secure, samesite=samesite, path=path
    )


def _authenticate(work: UnitOfWork, request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        use = token_user(work, header[7:].strip())
        if use is None:
            raise NotAuthenticated("the API token is unknown, expired or revoked")
        return Actor(work, use.user, None, use.token_id, use.scopes)
    cookie = request.cookies.get(SESSION_COOKIE)
    found = logins.session_user(work, cookie) if cookie else None
    if found is None:
        raise NotAuthenticated("log in first")
    return Actor(work, found[0], found[1])


@contextmanager
def acting(request: Request, form_csrf: str | None = None) -> Iterator[Actor]:
    """One unit of work as the authenticated user.  Unsafe cookie requests need the CSRF
    token (``X-CSRF-Token`` header or the form's ``csrf_token`` field); unsafe token
    requests need the token's write scope."""
    with unit(request) as work:
        me = _authenticate(work, request)
        if request.method not in SAFE_METHODS:
            if me.csrf is not None:
                sent = request.headers.get(CSRF_HEADER) or form_csrf or ""
                if not hmac.compare_digest(sent.encode(), me.csrf.encode()):
                    raise Forbidden(
                        "the form has expired or did not come from this site; reload it"
                    )
            elif "write" not in me.scopes:
                raise Forbidden("this API token may only read: it lacks the write scope")
        yield me


def _checked(request: Request, username: str, password: str, field: str) -> logins.SignIn:
    """Count a sign-in attempt and check its password (argon2 outside any unit, for known
    and unknown users alike); a wrong one raises :class:`InvalidInput` on ``field``."""
    with unit(request) as work:
        attempt = logins.begin_sign_in(
            work,
            settings_of(request).login_limits,
            username=username,
            address=client_address(request),
        )
    if not logins.check(attempt, password):
        raise InvalidInput("sign-in failed", {field: "wrong username or password"})
    return attempt


def password_sign_in(request: Request, username: str, password: str) -> logins.NewSession:
    """Start a session for the right password (call it from a worker thread: the hash is
    slow); a wrong one raises the 422 the sign-in forms show, a throttled one 429."""
    attempt = _checked(request, username, password, "password")
    with unit(request) as work:
        user = logins.signed_in_user(work, attempt)
        if user is None:
            started = None
        else:
            logins.record_sign_in(work, user, "password")
            started = logins.start_session(work, user)
    if started is None:
        raise InvalidInput("sign-in failed", {"password": "wrong username or password"})
    return started


def change_own_password(
    request: Request, username: str, current: str, new: str, *, new_session: bool
) -> logins.NewSession | None:
    """Change a password, proven by the current one (counted like a sign-in): every
    session of the user ends; ``new_session`` starts a fresh one for this browser."""
    new_hash = passwords.hash_new(new, username=username, field="new_password")
    attempt = _checked(request, username, current, "current_password")
    with unit(request) as work:
        user = logins.signed_in_user(work, attempt)
        if user is None:
            raise InvalidInput("sign-in failed", {"current_password": "wrong password"})
        logins.replace_password(work, user, new_hash, actor_id=user.id, reset=False)
        return logins.start_session(work, user) if new_session else None
