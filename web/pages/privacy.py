"""The administrators' page for a person's data on request: ``/admin/people``.

The same acts as ``run.py contact erase|export`` (``rules.privacy_acts``), from one HTML
form with the CSRF token of the other admin forms: *Export* downloads everything stored
about the person as JSON, *Preview* counts what an erasure would change, *Erase* does it
(the person's address typed a second time, so a slip of the mouse erases nobody).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from engine.errors import InvalidInput, NotFound
from rules import privacy_acts

from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin/people", include_in_schema=False)


@router.get("")
def people(request: Request) -> Response:
    with acting(request) as me:
        privacy_acts.require_privacy_admin(me.subject, "erase")
        context = base_context(me, False)
    return render(request, "people.html", {**context, "person": "", "result": None})


@router.post("/{action}")
async def act(request: Request, action: str) -> Response:
    """Export, preview or erase the person the form names."""
    if action not in ("export", "preview", "erase"):
        raise NotFound(f"no such action on a person's data: {action}")
    form = await read_form(request)
    person = str(form.get("person") or "").strip()

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            if action == "export":
                data = privacy_acts.export_person(me.work, me.subject, person)
                return _download(data)
            if action == "erase" and str(form.get("confirm") or "").strip() != person:
                privacy_acts.require_privacy_admin(me.subject, "erase")
                raise InvalidInput(
                    "type the person's address or id again to erase them",
                    {"confirm": "does not match"},
                )
            result = privacy_acts.erase_person(
                me.work, me.subject, person, dry_run=action == "preview"
            )
            context = {**base_context(me, False), "person": person, "result": result}
        return render(request, "people.html", context)

    return await run_in_threadpool(work)


def _download(data: dict[str, Any]) -> Response:
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="person-export.json"'},
    )
