"""The administrators' page of failed background work: ``/admin/jobs``.

The same list and actions as ``run.py jobs failed|retry|discard`` (``casework.jobs``), from
HTML forms with the CSRF token of the other admin forms; only administrators
(``rules.job_acts``).  After an action the page is shown again, the job gone from it (or,
for mail that failed to be taken in again, with its new reason).
"""

from __future__ import annotations

import argparse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from casework import jobs
from engine.errors import NotFound

from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin/jobs", include_in_schema=False)


@router.get("")
def failed(request: Request) -> Response:
    with acting(request) as me:
        rows = jobs.failed_jobs(me.work, me.subject)
        context = {**base_context(me, False), "jobs": rows, "kinds": jobs.KINDS}
    return render(request, "jobs.html", context)


@router.post("/{job}/{action}")
async def act(request: Request, job: str, action: str) -> Response:
    """Retry or discard one failed job, then back to the list."""
    form = await read_form(request)
    try:
        job_id = jobs.parse_job_id(job)
    except argparse.ArgumentTypeError:
        raise NotFound(f"no job {job}") from None
    if action not in ("retry", "discard"):
        raise NotFound(f"no job action {action}")

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            if action == "retry":
                domain = request.app.state.mail.domain
                jobs.retry(me.work, me.subject, job_id, actor_id=me.user.id, domain=domain)
            else:
                jobs.discard(me.work, me.subject, job_id, actor_id=me.user.id)
        return RedirectResponse("/admin/jobs", status_code=303)

    return await run_in_threadpool(work)
