"""What the agents' pages and the portal share: forms, the login flow and the case page.

Handlers are ``async`` only to read the submitted form; the database work runs in the
thread pool inside one unit of work, like the JSON API.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.run import summaries, task_queries
from engine.store.access import CaseAccess
from engine.store.models import Case, User
from people.directory import user_by_name
from people.logins import end_session
from people.throttle import TooManyAttempts
from rules import kb_cases, notifications, task_acts
from rules.case_view import case_page

from ..api.session import set_session_cookie
from ..auth import SESSION_COOKIE, Actor, acting, password_sign_in, set_cookie, settings_of
from ..diagram import case_diagram
from ..render import render
from .case_cards import parties_card, records_card
from .case_edit_forms import edit_context
from .sla import clock_lines

LOGIN_COOKIE = "casework_login_csrf"
MAX_FIELD = 100_000


async def read_form(request: Request, *, skip_files: bool = False) -> dict[str, str]:
    """The submitted form as one (last) value per name; NULs and oversized values refused
    here so that nothing hostile reaches the engine or the database.  ``skip_files``: a
    multipart form (the reply form) sent by a button that takes no files leaves them out."""
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) and skip_files:
            continue
        if not isinstance(value, str):
            raise InvalidInput("files are not accepted here", {key: "must be text"})
        if "\x00" in value or len(value) > MAX_FIELD:
            raise InvalidInput("the form is not valid", {key: "contains characters not allowed"})
        values[key] = value
    return values


def base_context(me: Actor, portal: bool) -> dict[str, Any]:
    # the bell in the header: unread notifications the user may still see
    unread = notifications.unread_count(me.work, me.subject)
    return {"me": me.user, "csrf": me.csrf, "portal": portal, "unread": unread}


def login_page(request: Request, action: str, portal: bool, **extra: Any) -> Response:
    token = secrets.token_urlsafe(24)
    oidc = settings_of(request).oidc
    response = render(
        request,
        "login.html",
        {
            "action": action,
            "portal": portal,
            "csrf": token,
            "provider": oidc.name if oidc else None,
            **extra,
        },
        status=422 if extra.get("error") else 200,
    )
    set_cookie(request, response, LOGIN_COOKIE, token, samesite="strict")
    return response


async def login_submit(request: Request, action: str, portal: bool, home: str) -> Response:
    """Password login from a form; the form's token must match the login cookie
    (double submit), so another site cannot log a browser in as someone else."""
    form = await read_form(request)
    sent, expected = form.get("csrf_token", ""), request.cookies.get(LOGIN_COOKIE, "")
    username = form.get("username", "")[:150]
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return login_page(request, action, portal, error="The form expired; try again.")
    try:
        started = await run_in_threadpool(
            password_sign_in, request, username, form.get("password", "")[:1000]
        )
    except InvalidInput:
        return login_page(
            request, action, portal, error="Wrong username or password.", username=username
        )
    except TooManyAttempts as exc:
        refused = login_page(request, action, portal, error=f"{exc}.", username=username)
        refused.status_code = 429
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    response = RedirectResponse(home, status_code=303)
    set_session_cookie(request, response, started.token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout_submit(request: Request, login: str) -> Response:
    form = await read_form(request)

    def work() -> None:
        with acting(request, form.get("csrf_token")) as me:
            end_session(me.work, request.cookies.get(SESSION_COOKIE, ""))

    await run_in_threadpool(work)
    response = RedirectResponse(login, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def add_login_routes(router: APIRouter, area: str, *, portal: bool) -> None:
    """``GET/POST {area}/login`` and ``POST {area}/logout`` for the agents' pages or the
    portal (the two differ only in where they send people)."""
    action, home = f"{area}/login", area or "/"

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return login_page(request, action, portal)
        return await login_submit(request, action, portal, home)

    async def logout(request: Request) -> Response:
        return await logout_submit(request, action)

    router.add_api_route("/login", login, methods=["GET", "POST"])
    router.add_api_route("/logout", logout, methods=["POST"])


def case_context(
    me: Actor,
    number: str,
    *,
    base: str,
    portal: bool,
    show_internal: bool = True,
    find: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the case page shows, each part through the permission rules; ``find``:
    what was typed into the account and contact pickers (``account_q``, ``contact_q``)."""
    detail = case_page(me.work, me.subject, me.user, number)
    case = me.work.session.query(Case).filter(Case.number == number).one()
    open_tasks = [t for t in detail["tasks"] if t["state"] == "open"]
    eligible = {t["id"] for t in open_tasks if task_queries.is_eligible(me.work, t["id"], me.user)}
    stream = [p for p in detail["stream"] if show_internal or not p["internal"]]
    full = "case_details" in detail["sections"] and not portal
    allowed = set(detail["allowed"])
    access = me.work.session.get(CaseAccess, case.id)
    # the reply form's default: public for the case's manager when there is a customer to
    # answer, an internal note for everyone else (the button label says which)
    has_customer = case.main_contact_id is not None or case.customer_group_id is not None
    return {
        "has_customer": has_customer,
        "public_default": has_customer and case.assignee_id == me.user.id,
        **base_context(me, portal),
        "case": detail,
        "base": base,
        "open_tasks": open_tasks,
        "eligible": eligible,
        "stream": stream,
        "show_internal": show_internal,
        "can_post": "post" in allowed,
        "can_post_internal": "post_internal" in allowed,
        "can_close": "close" in allowed,
        "can_hide": "hide" in allowed,
        "hidden_from_portal": bool(access and access.hidden_from_portal),
        "related": detail["related"],
        # account, contacts and lead; child records the user may see (their own access
        # lists): each card only for the roles whose sections include it, never customers
        "parties": parties_card(me, detail, portal, **(find or {})),
        "records": records_card(me, case, detail, portal),
        "diagram": case_diagram(me.work, case) if full else None,
        "sla": clock_lines(me.work, case.id) if full else None,
        **(edit_context(me, detail) if not portal else {"can": {}}),
        "kb": kb_cases.case_card(me.work, me.subject, number),
    }


def task_form_data(form: dict[str, str]) -> dict[str, str]:
    return {k[2:]: v for k, v in form.items() if k.startswith("f_")}


#: The task actions that give the task to someone named in the form (``to``).
HAND_OVER = ("reassign", "delegate")


async def task_action(
    request: Request, task_id: int, verb: str, base: str, portal: bool
) -> Response:
    """Claim, release or complete a task from its case page; a bad form shows the page
    again with every field's message beside it and nothing stored."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            task = task_acts.require_visible_task(me.work, me.subject, task_id)
            number = summaries.task_summary(me.work, task)["case"]
            if verb == "complete":
                task_acts.complete(me.work, me.subject, me.user, task_id, task_form_data(form))
            elif verb in HAND_OVER:
                to = _someone(me, task_id, form.get("to", ""))
                task_acts.hand_over(
                    me.work, me.subject, me.user, task_id, to, delegate=verb == "delegate"
                )
            else:
                getattr(task_acts, verb)(me.work, me.subject, me.user, task_id)
        return RedirectResponse(f"{base}/{number}#task-{task_id}", status_code=303)

    handing_over = verb in HAND_OVER
    try:
        return await run_in_threadpool(work)
    except Forbidden as exc:
        if not handing_over:
            raise
        problem = (str(exc), {"to": str(exc)})  # who may not take it: said beside the form
        return await run_in_threadpool(
            _case_again, request, form, task_id, base, portal, problem, 403, handing_over
        )
    except (InvalidInput, Conflict) as exc:
        errors = exc.errors if isinstance(exc, InvalidInput) else {}
        return await run_in_threadpool(
            _case_again, request, form, task_id, base, portal, (str(exc), errors), 422, handing_over
        )


def _someone(me: Actor, task_id: int, name: str) -> User:
    """The user a task is handed to, by name; a name nobody has is the form's error."""
    try:
        return user_by_name(me.work, name.strip())
    except NotFound:
        raise InvalidInput(
            f"task {task_id} was not handed over", {"to": f"nobody is called {name.strip()!r}"}
        ) from None


def _case_again(
    request: Request,
    form: dict[str, str],
    task_id: int,
    base: str,
    portal: bool,
    problem: tuple[str, dict[str, str]],
    status: int,
    handing_over: bool,
) -> Response:
    """The case page again with the task's problem beside the form that was sent: the
    completion form, or the hand-over form (``handing_over``)."""
    message, errors = problem
    values = task_form_data(form)
    with acting(request, form.get("csrf_token")) as me:
        task = task_acts.require_visible_task(me.work, me.subject, task_id)
        number = summaries.task_summary(me.work, task)["case"]
        context = case_context(me, number, base=base, portal=portal)
    context["task_error"] = {
        "id": task_id,
        "message": message,
        "problems": errors,
        "given": values,
        "hand_over": handing_over,
    }
    return render(request, "case.html", context, status=status)
