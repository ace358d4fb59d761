"""Who is acting on a request: session cookie or API token, checked inside the unit.

Every handler runs its work in :func:`acting`, which opens one unit of work,
authenticates, enforces the CSRF token for cookie-authenticated changes and loads
the permission subject; the handler then only asks ``rules`` and calls the engine.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from fastapi import Request

from engine.errors import Forbidden
from engine.logins import session_user, token_user
from engine.runtime import Runtime, UnitOfWork
from engine.store.models import User
from rules import Subject, load_subject

SESSION_COOKIE = "casework_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(Exception):
    """No valid session or token: the API answers 401, pages redirect to the login."""


@dataclass
class Actor:
    """The unit of work, the authenticated user, their CSRF token and permission subject."""

    work: UnitOfWork
    user: User
    csrf: str | None  # None when authenticated by an API token

    @cached_property
    def subject(self) -> Subject:
        """Loaded on first use: requests the engine checks by itself (the inbox, acting on
        one's own task) need not read every permission table."""
        return load_subject(self.work, self.user)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime  # set by the app factory; State is untyped
    return runtime


@contextmanager
def unit(request: Request) -> Iterator[UnitOfWork]:
    """A unit of work for this request.  On SQLite, which has one writer at a time, units
    take turns through the app's gate instead of racing for the file lock."""
    with request.app.state.unit_gate, runtime_of(request).unit() as work:
        yield work


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _authenticate(work: UnitOfWork, request: Request) -> tuple[User, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = token_user(work, header[7:].strip())
        if user is None:
            raise NotAuthenticated("the API token is unknown or revoked")
        return user, None
    cookie = request.cookies.get(SESSION_COOKIE)
    found = session_user(work, cookie) if cookie else None
    if found is None:
        raise NotAuthenticated("log in first")
    return found


@contextmanager
def acting(request: Request, form_csrf: str | None = None) -> Iterator[Actor]:
    """One unit of work as the authenticated user; unsafe cookie requests need the CSRF
    token (``X-CSRF-Token`` header or the form's ``csrf_token`` field)."""
    with unit(request) as work:
        user, csrf = _authenticate(work, request)
        if csrf is not None and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER) or form_csrf or ""
            if not hmac.compare_digest(sent.encode(), csrf.encode()):
                raise Forbidden("the form has expired or did not come from this site; reload it")
        yield Actor(work, user, csrf)
