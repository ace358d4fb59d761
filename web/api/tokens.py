"""Logging in over JSON and API tokens for scripts.

``POST /api/session`` sets the same HttpOnly cookie the login page sets and answers
the CSRF token that cookie-authenticated changes must send back; scripts instead
create a token once and send ``Authorization: Bearer <token>`` (no CSRF needed: a
browser never adds that header by itself).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from engine import logins
from engine.errors import InvalidInput

from ..auth import SESSION_COOKIE, acting, client_address, unit
from ..routing import UnitRoute
from ..schemas import Login, NewToken
from .params import Id

router = APIRouter(route_class=UnitRoute, prefix="/api", tags=["authentication"])


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(logins.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
        path="/",
    )


def password_login(request: Request, username: str, password: str) -> logins.NewSession:
    """Check the password (failures count towards the limit and are committed) and start a
    session; a wrong password raises the 422 the login forms show."""
    with unit(request) as work:
        user = logins.login(
            work, username=username, password=password, address=client_address(request)
        )
        started = logins.start_session(work, user) if user else None
    if started is None:
        raise InvalidInput("login failed", {"password": "wrong username or password"})
    return started


@router.post("/session", summary="Log in: sets the session cookie, answers the CSRF token")
def login(request: Request, response: Response, body: Login) -> dict[str, str]:
    started = password_login(request, body.username, body.password)
    set_session_cookie(request, response, started.token)
    return {"username": body.username, "csrf_token": started.csrf_token}


@router.delete("/session", summary="Log out")
def logout(request: Request, response: Response) -> dict[str, str]:
    with acting(request) as me:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            logins.end_session(me.work, token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"logged_out": me.user.username}


def token_row(token: Any) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@router.get("/tokens", summary="My API tokens (never their secrets)")
def list_tokens(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        return [token_row(t) for t in logins.user_tokens(me.work, me.user)]


@router.post("/tokens", status_code=201, summary="Create an API token; the secret is shown once")
def create_token(request: Request, body: NewToken) -> dict[str, Any]:
    with acting(request) as me:
        row, secret = logins.issue_token(me.work, user=me.user, name=body.name)
        return {**token_row(row), "token": secret}


@router.delete("/tokens/{token_id}", summary="Revoke one of my API tokens")
def revoke_token(request: Request, token_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return token_row(logins.revoke_token(me.work, user=me.user, token_id=token_id))
