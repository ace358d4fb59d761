"""Signing in and out over JSON, and changing one's own password.

``POST /api/session`` sets the same HttpOnly cookie the sign-in page sets and answers
the CSRF token that cookie-authenticated changes must send back.  The password checks
run in a worker thread (argon2 is slow by design) and outside any unit of work.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from people import logins

from ..answers import PasswordChanged, SignedIn, SignedOut, errors
from ..auth import (
    SESSION_COOKIE,
    SIGNED_IN,
    acting,
    change_own_password,
    password_sign_in,
    set_cookie,
)
from ..schemas import Login, NewPassword
from ..unit_routes import UnitRoute

router = APIRouter(route_class=UnitRoute, prefix="/api", tags=["authentication"])


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        token,
        max_age=int(logins.SESSION_LIFETIME.total_seconds()),
    )


@router.post(
    "/session",
    summary="Sign in: sets the session cookie, answers the CSRF token",
    responses=errors(422, 429),
)
async def sign_in(request: Request, response: Response, body: Login) -> SignedIn:
    started = await run_in_threadpool(password_sign_in, request, body.username, body.password)
    set_session_cookie(request, response, started.token)
    return SignedIn(username=body.username, csrf_token=started.csrf_token)


@router.delete("/session", summary="Sign out", dependencies=SIGNED_IN, responses=errors(401, 403))
def sign_out(request: Request, response: Response) -> SignedOut:
    with acting(request) as me:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            logins.end_session(me.work, token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return SignedOut(logged_out=me.user.username)


@router.post(
    "/me/password",
    summary="Change my password (every session of mine ends; this browser gets a new one)",
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422, 429),
)
async def change_password(
    request: Request, response: Response, body: NewPassword
) -> PasswordChanged:
    def change() -> tuple[str, logins.NewSession | None]:
        with acting(request) as me:
            username, by_cookie = me.user.username, me.csrf is not None
        started = change_own_password(
            request, username, body.current_password, body.new_password, new_session=by_cookie
        )
        return username, started

    username, started = await run_in_threadpool(change)
    if started is not None:
        set_session_cookie(request, response, started.token)
    return PasswordChanged(username=username, csrf_token=started.csrf_token if started else None)
