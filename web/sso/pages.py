"""``/login/oidc``: signing in through the identity provider, and its callback.

The sign-in page's "Sign in with ..." link starts here: a pending sign-in (state, nonce,
PKCE verifier) is stored, the state also goes into a cookie of this browser, and the
browser goes to the provider.  The provider sends it back to the callback with a code;
the callback is counted by the sign-in throttle per client address, needs the state of
this browser's cookie and of a stored, unused, unexpired sign-in, trades the code for
the ID token, checks it (``provider.py``), and signs the user in exactly as a password
does: the same session cookie, CSRF token and session row.  Anything that goes wrong is
a page saying what, with a way back to the sign-in page.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from engine.errors import CaseworkError
from people import logins, provider_sign_ins
from people.throttle import TooManyAttempts, count_attempt, forgive
from rules.provider_users import Claimed, sign_in

from ..api.session import set_session_cookie
from ..auth import client_address, set_cookie, settings_of, unit
from ..render import render
from .provider import Provider, ProviderError, TokenRejected
from .settings import OidcSettings

STATE_COOKIE = "casework_oidc_state"
CALLBACK = "/login/oidc/callback"
MAX_PARAM = 2000  # state, code and error texts; anything longer is not from a provider

router = APIRouter(include_in_schema=False)


class Failed(Exception):
    """A sign-in that ends on the failure page with this status and message."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def _provider(request: Request) -> Provider:
    provider: Provider | None = getattr(request.app.state, "oidc", None)
    if provider is None:
        raise Failed(404, "signing in through an identity provider is not set up here")
    return provider


def _redirect_uri(request: Request, settings: OidcSettings) -> str:
    return settings.redirect_uri or str(request.base_url).rstrip("/") + CALLBACK


def _failure(request: Request, failed: Failed) -> Response:
    oidc = settings_of(request).oidc
    context = {"message": str(failed), "provider": oidc.name if oidc else "", "portal": False}
    page = render(request, "sign_in_failed.html", context, status=failed.status)
    if failed.retry_after is not None:
        page.headers["Retry-After"] = str(failed.retry_after)
    page.delete_cookie(STATE_COOKIE, path="/")
    return page


@router.get("/login/oidc")
async def start(request: Request) -> Response:
    """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""

    def work() -> Response:
        provider = _provider(request)
        with unit(request) as work:
            pending = provider_sign_ins.begin(work)
        url = provider.authorization_url(
            redirect_uri=_redirect_uri(request, provider.settings),
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
        response = RedirectResponse(url, status_code=303)
        lifetime = int(provider_sign_ins.LIFETIME.total_seconds())
        # Lax: the provider's redirect back is a top-level GET, which carries it
        set_cookie(request, response, STATE_COOKIE, pending.state, max_age=lifetime)
        return response

    try:
        return await run_in_threadpool(work)
    except Failed as failed:
        return _failure(request, failed)
    except ProviderError as exc:
        return _failure(request, Failed(502, f"{exc}; try again later"))


@router.get(CALLBACK)
async def callback(request: Request) -> Response:
    """Where the provider sends the browser back: check everything, then sign in."""
    try:
        home, token = await run_in_threadpool(_finish, request)
    except Failed as failed:
        return _failure(request, failed)
    response = RedirectResponse(home, status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(STATE_COOKIE, path="/")
    return response


def _param(request: Request, name: str) -> str:
    value = request.query_params.get(name, "")
    if len(value) > MAX_PARAM or "\x00" in value:
        raise Failed(400, f"the provider's answer has an invalid {name}")
    return value


def _finish(request: Request) -> tuple[str, str]:
    """The start page and the new session's cookie value, or :class:`Failed`."""
    provider = _provider(request)
    address = client_address(request)
    try:
        with unit(request) as work:  # every callback counts until it signs someone in
            count_attempt(work, settings_of(request).login_limits, username=None, address=address)
    except TooManyAttempts as exc:
        raise Failed(429, str(exc), exc.retry_after) from None
    state, expected = _param(request, "state"), request.cookies.get(STATE_COOKIE, "")
    with unit(request) as work:
        pending = provider_sign_ins.take(work, state) if state else None
    if error := _param(request, "error"):
        detail = _param(request, "error_description")
        raise Failed(403, f"{provider.settings.name} did not sign you in: {detail or error}")
    same_browser = hmac.compare_digest(state.encode(), expected.encode())
    if pending is None or not expected or not same_browser:
        raise Failed(
            400, "this sign-in did not start in this browser, was used already or has expired"
        )
    code = _param(request, "code")
    if not code:
        raise Failed(400, "the provider's answer has no code")
    try:
        tokens = provider.exchange(
            code=code,
            code_verifier=pending.code_verifier,
            redirect_uri=_redirect_uri(request, provider.settings),
        )
        now = int(request.app.state.runtime.clock.now().timestamp())
        claims = provider.verify(tokens, nonce=pending.nonce, now=now)
    except ProviderError as exc:
        raise Failed(502, f"{exc}; try again later") from None
    except TokenRejected as exc:
        raise Failed(403, str(exc)) from None
    claimed = _claimed(claims, provider.settings)
    try:
        with unit(request) as work:
            signed = sign_in(work, claimed, provider.settings.accounts)
            forgive(work, username=None, address=address)
            started = logins.start_session(work, signed.user)
    except CaseworkError as exc:  # refused, or the settings name a group that is missing
        raise Failed(403, f"you cannot sign in here: {exc}") from None
    except IntegrityError:  # the same new account signing in twice at once
        raise Failed(409, "this account is signing in in another window; try again") from None
    return ("/portal" if signed.customer else "/"), started.token


def _claimed(claims: dict[str, Any], settings: OidcSettings) -> Claimed:
    """What Casework takes from the verified claims."""
    username = claims.get(settings.username_claim)
    if not isinstance(username, str) or not username:
        raise Failed(403, f"the ID token has no '{settings.username_claim}' to name the user by")
    groups = claims.get(settings.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        groups = []
    subject, email, name = str(claims["sub"]), claims.get("email"), claims.get("name")
    if len(subject) > 255:
        raise Failed(403, "the ID token's subject is longer than OpenID Connect allows")
    return Claimed(
        issuer=settings.issuer,
        subject=subject,
        username=username,
        groups=frozenset(g for g in groups if isinstance(g, str)),
        email=email if isinstance(email, str) and len(email) <= 320 else None,
        display_name=name[:200] if isinstance(name, str) else "",
    )
