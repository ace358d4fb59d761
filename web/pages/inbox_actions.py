"""What the inbox does besides listing: act on the selected cases (bulk), save the current
filter and sort as a personal view, and the live refresh (server-sent events).

Bulk actions run each case in its own unit of work through ``rules.bulk_acts`` (the case
page's doors), so the one decision checks every case and a refusal leaves the others
done; the result page counts what was done and names each refusal.  The event stream
polls the work list every few seconds and names only cases the user may see.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from engine.errors import CaseworkError
from rules import bulk_acts, worklist
from rules.saved_views import PERSONAL_KEYS, delete_personal_view, save_personal_view

from ..auth import NotAuthenticated, acting
from ..render import render
from .agents import agent
from .common import base_context, read_form

router = APIRouter(include_in_schema=False)
ViewId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: how often the stream looks for changes, and how long one stream lasts (the browser's
#: EventSource then reconnects by itself, re-authenticated)
POLL_SECONDS = 2.0
STREAM_SECONDS = 55.0


def _inbox_link(form: dict[str, str]) -> str:
    """The inbox with the filter and sort the form came from."""
    kept = {k: form[k] for k in PERSONAL_KEYS if form.get(k)}
    return "/?" + urlencode(kept) if kept else "/"


@router.post("/inbox/bulk")
async def bulk(request: Request) -> Response:
    """Assign, set the priority of or close every selected case the decision allows."""
    form = await read_form(request)
    numbers = list(dict.fromkeys(str(n)[:40] for n in (await request.form()).getlist("case")))
    act = form.get("act", "")
    value = {"assign": form.get("to", ""), "priority": form.get("priority", "")}.get(
        act, form.get("outcome", "")
    )

    def check() -> str:
        with acting(request, form.get("csrf_token")) as me:
            agent(me)
            bulk_acts.check_request(me.work, act, value.strip(), numbers)
            return me.user.username

    def one(number: str) -> str | None:
        try:
            with acting(request, form.get("csrf_token")) as me:
                bulk_acts.act_on_case(me.work, me.subject, number, act, value.strip())
        except CaseworkError as exc:  # this case's unit is rolled back; the others stand
            return bulk_acts.refusal(exc, username, number)
        return None

    def result(done: list[str], refused: list[tuple[str, str]]) -> Response:
        with acting(request, form.get("csrf_token")) as me:
            context = {
                **base_context(me, False),
                "act": act,
                "done": done,
                "refused": refused,
                "back": _inbox_link(form),
            }
        return render(request, "bulk_result.html", context)

    username = await run_in_threadpool(check)
    done, refused = [], []
    for number in numbers:
        why = await run_in_threadpool(one, number)
        if why is None:
            done.append(number)
        else:
            refused.append((number, why))
    return await run_in_threadpool(result, done, refused)


@router.post("/inbox/views")
async def save_view(request: Request) -> Response:
    """Save the inbox's current filter and sort under a name of the user's own."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            params = {k: form.get(k, "") for k in PERSONAL_KEYS}
            save_personal_view(me.work, agent(me).subject, form.get("name", ""), params)
        return RedirectResponse(_inbox_link(form), status_code=303)

    return await run_in_threadpool(work)


@router.post("/inbox/views/{view_id}/delete")
async def delete_view(request: Request, view_id: ViewId) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            delete_personal_view(me.work, agent(me).subject, view_id)
        return RedirectResponse("/", status_code=303)

    return await run_in_threadpool(work)


@router.get("/inbox/events")
async def inbox_events(request: Request, since: Annotated[datetime, Query()]) -> Response:
    """Server-sent events: ``inbox`` with the count and numbers of the cases of the work
    list changed since the page was drawn, whenever that list changes."""
    after = since if since.tzinfo else since.replace(tzinfo=UTC)

    def changed() -> list[str] | None:
        try:
            with acting(request) as me:
                return worklist.changed_since(me.work, agent(me).subject, me.user, after)
        except NotAuthenticated:
            return None  # signed out (or the session ended) meanwhile: the stream ends

    first = await run_in_threadpool(changed)
    if first is None:
        raise NotAuthenticated("log in first")

    async def events() -> AsyncIterator[str]:
        yield "retry: 5000\n\n"
        sent: list[str] = []
        found: list[str] | None = first
        end = time.monotonic() + STREAM_SECONDS
        while found is not None:
            if found != sent:
                sent = found
                data = json.dumps({"count": len(found), "cases": found})
                yield f"event: inbox\ndata: {data}\n\n"
            if time.monotonic() >= end:
                return
            await asyncio.sleep(POLL_SECONDS)
            found = await run_in_threadpool(changed)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
