"""Setting a password through a one-time link (an invitation or an administrator's reset).

The link's secret is the only credential: the page needs no session, and a spent, expired
or unknown link, or one of a deactivated user, answers the same "not valid" page.  The slow
hash runs outside any unit of work; the link is checked again when the password is stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput
from people import passwords, user_access

from ..auth import unit
from ..render import render
from ..unit_routes import UnitRoute
from .common import read_form

router = APIRouter(route_class=UnitRoute, include_in_schema=False)


def _page(
    request: Request, secret: str, username: str | None, error: str | None = None
) -> Response:
    context = {
        "secret": secret,
        "username": username,
        "error": error,
        "min_length": passwords.MIN_LENGTH,
    }
    status = 404 if username is None else 422 if error else 200
    return render(request, "set_password.html", context, status=status)


def _username(request: Request, secret: str) -> str | None:
    with unit(request) as work:
        link = user_access.open_link(work, secret[:100])
        return link.user.username if link else None


@router.get("/password/{secret}", name="set_password_form")
def set_password_form(request: Request, secret: str) -> Response:
    return _page(request, secret, _username(request, secret))


@router.post("/password/{secret}")
async def set_password(request: Request, secret: str) -> Response:
    """Store the new password (under the policy) and send the user to sign in with it."""
    form = await read_form(request)

    def work() -> Response:
        username = _username(request, secret)
        if username is None:
            return _page(request, secret, None)
        try:
            new_hash = passwords.hash_new(form.get("new_password", ""), username=username)
        except InvalidInput as exc:
            return _page(request, secret, username, f"The password {exc.errors['password']}")
        with unit(request) as work:
            link = user_access.open_link(work, secret[:100])
            if link is None:
                return _page(request, secret, None)
            user_access.spend_link(work, link, new_hash)
        return RedirectResponse("/login?password=set", status_code=303)

    return await run_in_threadpool(work)
