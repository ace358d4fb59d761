"""Everyone's own account pages: change one's password, see and revoke one's API tokens.

Agents and portal customers alike reach them (the page wears the portal's header for
customers).  Administrators see everyone's tokens on the Tokens page and may revoke
any; the same rules as ``/api/tokens`` and ``/api/me/password`` apply.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput
from people import tokens
from people.passwords import MIN_LENGTH
from people.tokens import DEFAULT_LIFETIME, MAX_LIFETIME, SCOPES

from ..api.params import Id
from ..api.session import set_session_cookie
from ..auth import Actor, acting, change_own_password
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
Flag = Annotated[str, Query(max_length=20)]


def _own_context(me: Actor) -> dict[str, Any]:
    return base_context(me, me.subject.portal is not None)


@router.get("/account")
def account(request: Request, done: Flag = "") -> Response:
    with acting(request) as me:
        context = {
            **_own_context(me),
            "min_length": MIN_LENGTH,
            "errors": {},
            "notice": "Password changed; every other session has ended." if done else None,
        }
    return render(request, "account.html", context)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    form = await read_form(request)

    def change() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            username = me.user.username
        try:
            started = change_own_password(
                request,
                username,
                form.get("current_password", ""),
                form.get("new_password", ""),
                new_session=True,
            )
        except InvalidInput as exc:
            with acting(request, form.get("csrf_token")) as me:
                context = {**_own_context(me), "min_length": MIN_LENGTH, "errors": exc.errors}
            return render(request, "account.html", context, status=422)
        assert started is not None
        answer = RedirectResponse("/account?done=1", status_code=303)
        set_session_cookie(request, answer, started.token)
        return answer

    return await run_in_threadpool(change)


def _tokens_page(request: Request, me: Actor, **extra: Any) -> Response:
    everyone = me.user.is_admin
    context = {
        **_own_context(me),
        "tokens": tokens.token_rows(me.work, user_id=None if everyone else me.user.id),
        "everyone": everyone,
        "scopes": [s for s in SCOPES if s != "admin" or me.user.is_admin],
        "default_days": DEFAULT_LIFETIME.days,
        "max_days": MAX_LIFETIME.days,
        "errors": {},
        **extra,
    }
    return render(request, "tokens.html", context, status=422 if extra.get("errors") else 200)


@router.get("/tokens")
def token_list(request: Request) -> Response:
    with acting(request) as me:
        return _tokens_page(request, me)


@router.post("/tokens")
async def create_token(request: Request) -> Response:
    """A new token; its secret is on the answering page, once."""
    form = await read_form(request)
    chosen = [s for s in SCOPES if form.get(f"scope_{s}") == "on"]

    def create() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            try:
                days = int(form.get("days") or DEFAULT_LIFETIME.days)
            except ValueError:
                return _tokens_page(request, me, errors={"days": "must be a whole number"})
            try:
                _, secret = tokens.issue_token(
                    me.work,
                    user=me.user,
                    name=form.get("name", ""),
                    scopes=chosen,
                    lifetime=timedelta(days=days),
                )
            except InvalidInput as exc:  # refused before anything was added
                return _tokens_page(request, me, errors=exc.errors)
            return _tokens_page(request, me, secret=secret)

    return await run_in_threadpool(create)


@router.post("/tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: Id) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            tokens.revoke_token(me.work, actor=me.user, token_id=token_id)
        return RedirectResponse("/tokens", status_code=303)

    return await run_in_threadpool(work)
