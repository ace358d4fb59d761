"""The focused task page for task users (specialists): the case summary their role may
see and their task's form, nothing else.

A specialist holds no role on the case beyond the task (rule ``task_user``): the full case
page would be nearly empty for them, so ``/tasks/{id}`` shows what they need to do the
work.  The task must be visible (else 404, like a missing id) and theirs to act on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import task_queries
from rules import task_acts
from rules.case_view import case_page

from ..auth import Actor, acting
from ..render import render
from ..unit_routes import UnitRoute
from .agents import TaskId, agent
from .common import base_context, read_form, task_form_data

router = APIRouter(route_class=UnitRoute, include_in_schema=False)


def task_context(me: Actor, task_id: int) -> dict[str, Any]:
    """The task (which must be the user's to act on) and its case's summary."""
    task = task_acts.show_task(me.work, me.subject, me.user, task_id)
    if task["state"] != "open" or not task_queries.is_eligible(me.work, task_id, me.user):
        raise NotFound(f"no open task {task_id} of yours")
    summary = case_page(me.work, me.subject, me.user, task["case"])
    return {**base_context(me, False), "task": task, "case": summary}


@router.get("/tasks/{task_id}")
def task_view(request: Request, task_id: TaskId) -> Response:
    with acting(request) as me:
        context = task_context(agent(me), task_id)
    return render(request, "task.html", context)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: TaskId) -> Response:
    """Complete the task; a bad form shows the page again with the messages beside the
    fields and what was typed kept, and nothing is stored."""
    form = await read_form(request)
    given = task_form_data(form)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            task_acts.complete(me.work, me.subject, me.user, task_id, given)
        return RedirectResponse("/?done=1", status_code=303)

    try:
        return await run_in_threadpool(work)
    except (InvalidInput, Conflict) as exc:
        problem = (str(exc), exc.errors if isinstance(exc, InvalidInput) else {})

    def again() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            context = task_context(agent(me), task_id)
        context.update(error=problem[0], problems=problem[1], given=given)
        return render(request, "task.html", context, status=422)

    return await run_in_threadpool(again)
