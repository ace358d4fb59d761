"""Setting a password through a one-time link (an invitation or an administrator's reset).

The link's secret is the only credential: the page needs no session.  Setting the password
spends the link and signs the user in (agents land in the inbox, customers in the portal),
so the form carries a double-submit token like the sign-in form: another site cannot sign
a browser in as the holder of some other link.  Its cookie is its own, sent only to the
``/password/`` pages and short-lived, so the sign-in form open in another tab keeps its
token; it is deleted once the link is spent or found not to open.  A link that does not
open says why - used already, expired, its user deactivated, or unknown - and what to do
next.  The slow hash runs outside any unit of work; the link is checked again when the
password is stored.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput
from people import logins, passwords, user_access
from rules.provider_users import is_customer

from ..api.session import set_session_cookie
from ..auth import set_cookie, unit
from ..render import render
from ..unit_routes import UnitRoute
from .common import read_form

router = APIRouter(route_class=UnitRoute, include_in_schema=False)

#: The set-password form's double-submit token: not the sign-in form's cookie, and only
#: sent to the pages under :data:`COOKIE_PATH`.
FORM_COOKIE = "casework_password_csrf"
COOKIE_PATH = "/password/"
#: How long the form's token lives: reopening the link makes a new one.
FORM_LIFETIME = 3600

#: What the page says of a link that does not open, by ``user_access.link_problem``.
PROBLEMS = {
    "used": "This link was used already: the password is set. Sign in with it, or ask an "
    "administrator for a new link if you have forgotten it.",
    "expired": "This link has expired: links work for "
    f"{user_access.LINK_LIFETIME.days} days. Ask an administrator for a new one.",
    "deactivated": "This link's user is deactivated. Ask an administrator.",
    "unknown": "This link is not valid: check that you copied all of it, or ask an "
    "administrator for a new one.",
}


def _page(
    request: Request,
    secret: str,
    username: str | None,
    error: str | None = None,
    problem: str | None = None,
) -> Response:
    token = secrets.token_urlsafe(24)
    context = {
        "secret": secret,
        "username": username,
        "error": error,
        "problem": PROBLEMS[problem or "unknown"],
        "min_length": passwords.MIN_LENGTH,
        "csrf": token,
    }
    status = 404 if username is None else 422 if error else 200
    response = render(request, "set_password.html", context, status=status)
    if username is not None:
        set_cookie(
            request,
            response,
            FORM_COOKIE,
            token,
            max_age=FORM_LIFETIME,
            samesite="strict",
            path=COOKIE_PATH,
        )
    elif FORM_COOKIE in request.cookies:  # the link does not open: nothing to keep
        response.delete_cookie(FORM_COOKIE, path=COOKIE_PATH)
    return response


def _username(request: Request, secret: str) -> tuple[str | None, str | None]:
    """The link's user name, or None and why it does not open."""
    with unit(request) as work:
        link = user_access.open_link(work, secret[:100])
        if link is None:
            return None, user_access.link_problem(work, secret[:100])
        return link.user.username, None


@router.get("/password/{secret}", name="set_password_form")
def set_password_form(request: Request, secret: str) -> Response:
    username, problem = _username(request, secret)
    return _page(request, secret, username, problem=problem)


@router.post("/password/{secret}")
async def set_password(request: Request, secret: str) -> Response:
    """Store the new password (under the policy), spend the link and sign the user in."""
    form = await read_form(request)

    def work() -> Response:
        username, problem = _username(request, secret)
        if username is None:
            return _page(request, secret, None, problem=problem)
        sent, expected = form.get("csrf_token", ""), request.cookies.get(FORM_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return _page(request, secret, username, "The form expired; try again.")
        try:
            new_hash = passwords.hash_new(form.get("new_password", ""), username=username)
        except InvalidInput as exc:
            return _page(request, secret, username, f"The password {exc.errors['password']}")
        with unit(request) as work:
            link = user_access.open_link(work, secret[:100])
            if link is None:
                return _page(request, secret, None, problem=user_access.link_problem(work, secret))
            user_access.spend_link(work, link, new_hash)
            logins.record_sign_in(work, link.user, "password link")
            started = logins.start_session(work, link.user)
            home = "/portal" if is_customer(work, link.user.id) else "/"
        response = RedirectResponse(home, status_code=303)
        set_session_cookie(request, response, started.token)
        response.delete_cookie(FORM_COOKIE, path=COOKIE_PATH)
        return response

    return await run_in_threadpool(work)
