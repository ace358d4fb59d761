"""Agents' pages: login, inbox, case lists and search, the case page and its actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput
from engine.run import cases
from rules import canned_replies, case_acts, task_acts, worklist
from rules.case_lists import case_list_query
from rules.case_view import summary_for
from rules.public import opening_form
from rules.saved_views import personal_views, views_for

from ..api.params import CASE_NUMBER
from ..auth import Actor, NotAuthenticated, acting
from ..render import render
from ..unit_routes import UnitRoute
from ..uploads import read_upload
from .case_edit_forms import agent_names
from .common import (
    add_login_routes,
    base_context,
    case_context,
    read_form,
    task_action,
    task_form_data,
)

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
add_login_routes(router, "", portal=False)
Number = Annotated[str, Path(max_length=40, pattern=CASE_NUMBER)]
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Word = Annotated[str, Query(max_length=200)]
Verb = Annotated[str, Path(pattern="^(claim|release|complete|reassign|delegate)$")]


def agent(me: Actor) -> Actor:
    """Portal customers have their own pages; send them there."""
    if me.subject.portal is not None:
        raise NotAuthenticated("customers use the portal")
    return me


@router.get("/")
def inbox(
    request: Request,
    show: Word = "all",
    sort: Word = "sla",
    dir: Word = "asc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Word = "",
    view: Word = "",
) -> Response:
    """The work list: open cases I may see, sorted, filtered and paged on the server."""
    with acting(request) as me:
        if me.subject.portal is not None:
            return RedirectResponse("/portal", status_code=303)
        found = worklist.work_page(
            me.work,
            me.subject,
            me.user,
            show=show,
            sort=sort,
            descending=dir == "desc",
            page=page,
            view=view or None,
        )
        context = {
            **base_context(me, False),
            "work": found,
            "show": show if show in worklist.FILTERS else "all",
            "sort": sort if sort in worklist.SORTS else "sla",
            "dir": "desc" if dir == "desc" else "asc",
            "view": view,
            "views": views_for(me.work, me.subject),
            "personal": personal_views(me.work, me.subject),
            "priorities": cases.PRIORITIES,
            "agents": agent_names(me.work) if found.rows else [],
            "since": me.work.now.isoformat(),
            "notice": "Task completed." if done else None,
        }
    return render(request, "inbox.html", context)


@router.get("/cases")
def case_list(
    request: Request,
    q: Word = "",
    view: Word = "",
    status: Word = "",
    priority: Word = "",
) -> Response:
    with acting(request) as me:
        agent(me)
        query = case_list_query(
            me.work,
            me.subject,
            view=view or None,
            text=q,
            priority=priority if priority in cases.PRIORITIES else None,
            status=status if status in ("open", "closed") else None,
        )
        rows = [
            summary_for(me.work, me.subject, c) for c in me.work.session.scalars(query.limit(100))
        ]
        context = {
            **base_context(me, False),
            "rows": rows,
            "q": q,
            "view": view,
            "status": status,
            "priority": priority,
            "priorities": cases.PRIORITIES,
            "base": "/cases",
        }
    return render(request, "cases.html", context)


def new_case_page(
    request: Request, me: Actor, portal: bool, chosen: str = "", **extra: Any
) -> Response:
    """The new-case form; the chosen case type's start form (``camunda:formField`` on its
    start event) is part of it - for customers only the fields the type opens to them."""
    kinds = case_acts.openable_types(me.work, me.subject)
    kind = next((k for k in kinds if k.key == chosen), kinds[0] if kinds else None)
    start_form = []
    if kind is not None and kind.current_version_id is not None:
        version = me.work.runtime.version(me.work.session, kind.current_version_id)
        start_form = [f.to_dict() for f in opening_form(version, customer=portal)]
    values = extra.pop("values", {})
    context = {
        **base_context(me, portal),
        "types": kinds,
        "chosen": kind.key if kind else "",
        "start_form": start_form,
        "given": task_form_data(values),
        "priorities": cases.PRIORITIES,
        "action": "/portal/new" if portal else "/cases/new",
        "values": values,
        "errors": {},
        **extra,
    }
    return render(request, "new_case.html", context, status=422 if extra.get("errors") else 200)


@router.get("/cases/new")
def new_case_form(request: Request, type: Word = "") -> Response:
    with acting(request) as me:
        return new_case_page(request, agent(me), False, type)


async def open_from_form(request: Request, portal: bool) -> Response:
    """Open a case from the new-case form (the description becomes the first post)."""
    form = await read_form(request)
    base = "/portal/cases" if portal else "/cases"

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            if (me.subject.portal is not None) != portal:
                raise NotAuthenticated("wrong area")
            opened = case_acts.open_case(
                me.work,
                me.subject,
                me.user,
                case_type=form.get("case_type", ""),
                title=form.get("subject", ""),
                priority=form.get("priority") or None,
                data=task_form_data(form),
            )
            if form.get("body", "").strip():
                case_acts.add_post(me.work, me.subject, me.user, opened.number, form["body"])
        return RedirectResponse(f"{base}/{opened.number}", status_code=303)

    try:
        return await run_in_threadpool(work)
    except InvalidInput as exc:
        problem = (str(exc), exc.errors)

    def again() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            return new_case_page(
                request,
                me,
                portal,
                form.get("case_type", ""),
                values=form,
                errors=problem[1],
                error=problem[0],
            )

    return await run_in_threadpool(again)


@router.post("/cases/new")
async def new_case(request: Request) -> Response:
    return await open_from_form(request, portal=False)


@router.get("/cases/{number}")
def case_view(
    request: Request,
    number: Number,
    internal: Word = "show",
    canned: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    account_q: Word = "",
    contact_q: Word = "",
) -> Response:
    """The case page; ``canned``: a canned reply filled in for this case, put in the reply
    box to edit before sending; ``account_q``, ``contact_q``: what the pickers look for."""
    with acting(request) as me:
        context = case_context(
            agent(me),
            number,
            base="/cases",
            portal=False,
            show_internal=internal != "hide",
            find={"account_q": account_q, "contact_q": contact_q},
        )
        context["canned_replies"] = canned_replies.list_replies(me.work, me.subject)
        if canned is not None:
            context["canned_id"] = canned
            context["draft"] = canned_replies.render_reply(
                me.work, me.subject, me.user, canned, number
            )
        if set(context["case"]["sections"]) <= {"case_details"}:  # a task user: their task
            case_id = cases.case_by_number(me.work, number).id
            mine = task_acts.open_tasks_for(me.work, me.subject, me.user, case_id, mine_only=True)
            if mine:
                return RedirectResponse(f"/tasks/{mine[0]['id']}", status_code=303)
    return render(request, "case.html", context)


async def post_from_form(request: Request, number: str, portal: bool) -> Response:
    """A reply from the case page or the portal, with the files chosen in its file input."""
    form, files = await read_upload(request)
    internal = not portal and form.get("internal") == "true"
    base = "/portal/cases" if portal else "/cases"

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            case_acts.add_post(
                me.work,
                me.subject,
                me.user,
                number,
                form.get("body", ""),
                internal=internal,
                files=files,
            )
        return RedirectResponse(f"{base}/{number}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/cases/{number}/posts")
async def add_post(request: Request, number: Number) -> Response:
    return await post_from_form(request, number, portal=False)


@router.post("/cases/{number}/close")
async def close(request: Request, number: Number) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            case_acts.close_case(me.work, me.subject, me.user, number, "closed by hand")
        return RedirectResponse(f"/cases/{number}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/cases/{number}/portal")
async def portal_visibility(request: Request, number: Number) -> Response:
    """Hide a case from the customer portal, or show it again (agents who may change it)."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            case_acts.set_hidden(me.work, me.subject, number, form.get("hidden") == "true")
        return RedirectResponse(f"/cases/{number}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/cases/tasks/{task_id}/{verb}")
async def act_on_task(request: Request, task_id: TaskId, verb: Verb) -> Response:
    return await task_action(request, task_id, verb, "/cases", portal=False)
