"""The agents' triage page: mail held because it names a case its sender takes no part in.

The same decisions as ``/api/triage`` (see ``web/api/triage.py``), from HTML forms.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput
from mail import triage
from mail.settings import MailSettings
from rules.pages import case_for_action, require_openable, workable_type_keys

from ..api.params import Id
from ..api.triage import held_row, visible_mailbox
from ..auth import acting
from ..render import render
from ..routing import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/triage", include_in_schema=False)
_NUMBER = r"^[A-Z][A-Z0-9]*-\d{1,12}$"


@router.get("")
def held(request: Request) -> Response:
    with acting(request) as me:
        keys = workable_type_keys(me.work, me.subject)
        rows = [held_row(row, box) for row, box in triage.held(me.work, case_types=keys)]
        context = {**base_context(me, False), "held": rows}
    return render(request, "triage.html", context)


@router.post("/{inbound_id}/open")
async def open_case(request: Request, inbound_id: Id) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            mailbox = visible_mailbox(me, inbound_id)
            require_openable(me.work, me.subject, mailbox.case_type_key)
            outcome = triage.open_case_for(
                me.work, inbound_id, agent=me.user, domain=MailSettings.from_env().domain
            )
        return RedirectResponse(f"/cases/{outcome.case_number}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/{inbound_id}/thread")
async def thread(request: Request, inbound_id: Id) -> Response:
    form = await read_form(request)
    number = form.get("case", "").strip().upper()

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            visible_mailbox(me, inbound_id)
            if not re.match(_NUMBER, number):
                raise InvalidInput(
                    "cannot add the message", {"case": "a case number, e.g. C-000123"}
                )
            case_for_action(me.work, me.subject, number, "post")
            triage.thread_into(
                me.work,
                inbound_id,
                number=number,
                agent=me.user,
                domain=MailSettings.from_env().domain,
            )
        return RedirectResponse(f"/cases/{number}", status_code=303)

    return await run_in_threadpool(work)
