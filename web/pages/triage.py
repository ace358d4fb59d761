"""The agents' triage page: mail held because it names a case its sender takes no part in.

The same decisions as ``/api/triage`` (see ``web/api/triage.py``), from HTML forms.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

import mail.held
from engine.errors import InvalidInput
from rules.case_lists import require_triage_decision, workable_type_keys

from ..api.params import CASE_NUMBER, Id
from ..api.triage import held_row
from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .agents import agent
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/triage", include_in_schema=False)


@router.get("")
def held(request: Request) -> Response:
    with acting(request) as me:
        agent(me)  # customers have the portal
        keys = workable_type_keys(me.work, me.subject)
        rows = [held_row(row, box) for row, box in mail.held.held(me.work, case_types=keys)]
        context = {**base_context(me, False), "held": rows}
    return render(request, "triage.html", context)


@router.post("/{inbound_id}/open")
async def open_case(request: Request, inbound_id: Id) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            require_triage_decision(me.work, me.subject, inbound_id, into=None)
            outcome = mail.held.open_case_for(
                me.work, inbound_id, agent=me.user, domain=request.app.state.mail.domain
            )
        return RedirectResponse(f"/cases/{outcome.case_number}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/{inbound_id}/thread")
async def thread(request: Request, inbound_id: Id) -> Response:
    form = await read_form(request)
    number = form.get("case", "").strip().upper()

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            if not re.fullmatch(CASE_NUMBER, number):
                raise InvalidInput(
                    "cannot add the message", {"case": "a case number, e.g. C-000123"}
                )
            require_triage_decision(me.work, me.subject, inbound_id, into=number)
            mail.held.thread_into(
                me.work,
                inbound_id,
                number=number,
                agent=me.user,
                domain=request.app.state.mail.domain,
            )
        return RedirectResponse(f"/cases/{number}", status_code=303)

    return await run_in_threadpool(work)
