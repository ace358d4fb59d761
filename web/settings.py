"""How the web app is deployed: trusted proxies, cookie security and the sign-in limits.

The client address decides the per-address sign-in limit, so it must not be whatever a
client writes into ``X-Forwarded-For``.  uvicorn's own default trusts that header from
127.0.0.1, which is exactly where a local attacker (or every client of a reverse proxy
on the same machine) comes from; here it is off unless ``forwarded_allow_ips`` names the
proxies (``run.py serve --forwarded-allow-ips``, uvicorn's option of the same name).
Only then do ``X-Forwarded-For`` and ``X-Forwarded-Proto`` count, and only from them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InvalidInput
from engine.numbers import whole_number
from people.throttle import LoginLimits

from .sso.settings import OidcSettings


@dataclass(frozen=True)
class WebSettings:
    """``forwarded_allow_ips``: addresses or networks of trusted reverse proxies
    (comma-separated, as uvicorn takes them), None for none.  ``secure_cookies`` marks
    cookies Secure even on plain HTTP (TLS ended by a proxy that is not trusted);
    over HTTPS they are Secure anyway.  ``oidc``: sign-in through an identity provider,
    None (the default) for passwords only."""

    forwarded_allow_ips: str | None = None
    secure_cookies: bool = False
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    #: ``/ready`` fails when no worker (``run.py worker`` or ``serve``'s own) beat within
    #: this many seconds; 0 leaves workers out of readiness (a web-only deployment).
    ready_heartbeat_seconds: int = 60
    oidc: OidcSettings | None = None
    #: Request handlers a process runs at once.  1: each request runs on the event loop,
    #: one at a time, with no hand-off to a thread (the least CPU per request; scale out
    #: with more processes, ``serve --workers``).  More: a thread pool of that size, so one
    #: process overlaps requests that wait on the database.  None: 1 on SQLite (its writes
    #: take turns anyway), a pool of 40 on PostgreSQL.
    request_threads: int | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WebSettings:
        """``CASEWORK_FORWARDED_ALLOW_IPS``, ``CASEWORK_SECURE_COOKIES=1``,
        ``CASEWORK_READY_HEARTBEAT_SECONDS``, ``CASEWORK_REQUEST_THREADS``, the
        ``CASEWORK_LOGIN_*`` limits (see
        ``people/throttle.py``) and the ``CASEWORK_OIDC_*`` identity provider (see
        ``web/sso/settings.py``)."""
        env = dict(os.environ if env is None else env)
        return cls(
            forwarded_allow_ips=env.get("CASEWORK_FORWARDED_ALLOW_IPS") or None,
            secure_cookies=env.get("CASEWORK_SECURE_COOKIES") == "1",
            login_limits=LoginLimits.from_env(env),
            ready_heartbeat_seconds=int(env.get("CASEWORK_READY_HEARTBEAT_SECONDS", "60")),
            oidc=OidcSettings.from_env(env),
            request_threads=request_threads(env.get("CASEWORK_REQUEST_THREADS")),
        )


def request_threads(text: str | None) -> int | None:
    """A handler thread count as typed (1 to 256), None when not given; anything else is
    refused by name."""
    if text is None or text == "":
        return None
    count = whole_number(text, low=1, high=256)
    if count is None:
        raise InvalidInput(
            "the number of request threads must be a whole number from 1 to 256",
            {"threads": text},
        )
    return count


def uvicorn_options(settings: WebSettings) -> dict[str, Any]:
    """The uvicorn options that decide whom the forwarded headers are believed from."""
    if settings.forwarded_allow_ips is None:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
