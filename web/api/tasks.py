"""The task inbox over JSON: my tasks and my groups' tasks, claim, release, complete.

A task of a case the user cannot see at all answers 404 like a forged id; a task the
user can see but is not a candidate for answers 403 (the engine says who it is for).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from engine.run import summaries as views
from engine.run import tasks
from rules.pages import require_visible_task

from ..answers import TaskAnswer, TaskSummary, errors, links
from ..auth import SIGNED_IN, Actor, acting
from ..routing import UnitRoute
from ..schemas import CompleteTask
from .params import Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/tasks",
    tags=["tasks"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)


@router.get(
    "",
    summary="Open tasks: mine (claimed), groups (unclaimed, for my groups), or all",
    response_model=list[TaskSummary],
    responses=links(
        200,
        Show=("show_task", {"task_id": "$response.body#/0/id"}),
        Claim=("claim", {"task_id": "$response.body#/0/id"}),
        Case=("show_case", {"number": "$response.body#/0/case"}),
    ),
)
def inbox(
    request: Request,
    scope: Literal["all", "mine", "groups"] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    with acting(request) as me:
        return views.task_summaries(
            me.work, tasks.inbox(me.work, me.user, scope=scope, limit=limit)
        )


@router.get(
    "/{task_id}",
    summary="One task with its form",
    response_model=TaskSummary,
    responses=errors(404),
)
def show_task(request: Request, task_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        require_visible_task(me.work, me.user, task_id)
        return views.task_summary(me.work, tasks.get_task(me.work, task_id))


def _answer(me: Actor, task: Any) -> dict[str, Any]:
    summary = views.task_summary(me.work, task)
    return {
        "task": summary,
        "open_tasks": views.task_summaries(me.work, tasks.case_tasks(me.work, task.case_id)),
    }


@router.post(
    "/{task_id}/claim",
    summary="Take a task so others see it is being worked on",
    response_model=TaskAnswer,
    responses={
        **errors(404, 409),
        **links(
            200,
            Complete=("complete", {"task_id": "$request.path.task_id"}),
            Release=("release", {"task_id": "$request.path.task_id"}),
        ),
    },
)
def claim(request: Request, task_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        require_visible_task(me.work, me.user, task_id)
        return _answer(me, tasks.claim(me.work, task_id=task_id, user=me.user))


@router.post(
    "/{task_id}/release",
    summary="Give a claimed task back to its groups",
    response_model=TaskAnswer,
    responses=errors(404, 409),
)
def release(request: Request, task_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        require_visible_task(me.work, me.user, task_id)
        return _answer(me, tasks.release(me.work, task_id=task_id, user=me.user))


@router.post(
    "/{task_id}/complete",
    summary="Complete a task with its form data",
    response_model=TaskAnswer,
    responses={
        **errors(404, 409),
        **links(200, Next=("claim", {"task_id": "$response.body#/open_tasks/0/id"})),
    },
)
def complete(request: Request, task_id: Id, body: CompleteTask) -> dict[str, Any]:
    with acting(request) as me:
        require_visible_task(me.work, me.user, task_id)
        done = tasks.complete(me.work, task_id=task_id, user=me.user, data=body.data)
        answer = _answer(me, done.task)
        answer["case_status"] = done.case_status
        return answer
