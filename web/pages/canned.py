"""The canned replies page (``/canned``): each of my groups with its replies; where I lead
the group (or administer), forms to add, change and remove them, elsewhere the texts to read.

Every form posts to a handler that calls the same ``rules.canned_replies`` function as the
CLI and the API, which decides; the page only offers the forms where that decision would
allow them.  A reply of another group is "not found", another group's form "forbidden",
and a refused name or text comes back on the page above the lists, named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput
from engine.runtime import UnitOfWork
from rules import Subject, canned_replies

from ..auth import acting
from ..errors import status_of
from ..render import render
from ..unit_routes import UnitRoute
from .agents import agent
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
ReplyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _page(
    request: Request, *, error: str = "", status: int = 200, csrf: str | None = None
) -> Response:
    with acting(request, csrf) as me:
        agent(me)
        context = {
            **base_context(me, False),
            "shelves": canned_replies.shelves(me.work, me.subject),
            "variables": canned_replies.VARIABLES,
            "problem": error,
        }
    return render(request, "canned.html", context, status=status)


@router.get("/canned")
def canned_page(request: Request) -> Response:
    return _page(request)


#: One change: the unit of work, the acting subject and the submitted form.
Act = Callable[[UnitOfWork, Subject, dict[str, str]], object]


async def _change(request: Request, act: Act) -> Response:
    """Run ``act(work, subject, form)`` in one unit; back to the page, or the page with the
    refusal (422 for a bad name or text, 409 for a name the group uses already)."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            act(agent(me).work, me.subject, form)
        return RedirectResponse("/canned", status_code=303)

    try:
        return await run_in_threadpool(work)
    except (InvalidInput, Conflict) as exc:
        problems = exc.errors if isinstance(exc, InvalidInput) else {}
        message = "; ".join([exc.message, *(f"{k}: {v}" for k, v in problems.items())])
        status = status_of(exc)
    token = form.get("csrf_token")
    return await run_in_threadpool(lambda: _page(request, error=message, status=status, csrf=token))


@router.post("/canned")
async def add_reply(request: Request) -> Response:
    return await _change(
        request,
        lambda work, subject, form: canned_replies.add_reply(
            work,
            subject,
            group=form.get("group", ""),
            name=form.get("name", ""),
            body=form.get("body", ""),
        ),
    )


@router.post("/canned/{reply_id}")
async def edit_reply(request: Request, reply_id: ReplyId) -> Response:
    return await _change(
        request,
        lambda work, subject, form: canned_replies.update_reply(
            work, subject, reply_id, name=form.get("name"), body=form.get("body")
        ),
    )


@router.post("/canned/{reply_id}/remove")
async def remove_reply(request: Request, reply_id: ReplyId) -> Response:
    return await _change(
        request,
        lambda work, subject, form: canned_replies.remove_reply(work, subject, reply_id),
    )
