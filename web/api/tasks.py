"""The task inbox over JSON: my tasks and my groups' tasks, claim, release, hand over
(reassign or delegate), complete.

A task of a case the user may not see at all answers 404 like a forged id; a task the
user can see but is not a candidate for answers 403 (the engine says who it is for).
Everything goes through ``rules.task_acts``, so the inbox and the actions ask the same
decision as every other entry point.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from engine.run import summaries
from people.directory import user_by_name
from rules import task_acts
from rules.case_view import task_views

from ..answers import TaskAnswer, TaskSummary, errors, links
from ..auth import SIGNED_IN, Actor, acting
from ..schemas import CompleteTask, HandOver
from ..unit_routes import UnitRoute
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
    response_model_exclude_unset=True,
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
        return task_acts.inbox_rows(me.work, me.subject, me.user, scope=scope, limit=limit)


@router.get(
    "/{task_id}",
    summary="One task with its form",
    response_model=TaskSummary,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def show_task(request: Request, task_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return task_acts.show_task(me.work, me.subject, me.user, task_id)


def _answer(me: Actor, task: Any) -> dict[str, Any]:
    summary = task_views(me.work, me.subject, me.user, [summaries.task_summary(me.work, task)])[0]
    return {
        "task": summary,
        "open_tasks": task_acts.open_tasks_for(me.work, me.subject, me.user, task.case_id),
    }


@router.post(
    "/{task_id}/claim",
    summary="Take a task so others see it is being worked on",
    response_model=TaskAnswer,
    response_model_exclude_unset=True,
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
        return _answer(me, task_acts.claim(me.work, me.subject, me.user, task_id))


@router.post(
    "/{task_id}/release",
    summary="Give a claimed task back to its groups",
    response_model=TaskAnswer,
    response_model_exclude_unset=True,
    responses=errors(404, 409),
)
def release(request: Request, task_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return _answer(me, task_acts.release(me.work, me.subject, me.user, task_id))


@router.post(
    "/{task_id}/reassign",
    summary="Hand a task to another of its candidates (a candidate or an admin may)",
    response_model=TaskAnswer,
    response_model_exclude_unset=True,
    responses=errors(404, 409),
)
def reassign(request: Request, task_id: Id, body: HandOver) -> dict[str, Any]:
    return _hand_over(request, task_id, body, delegate=False)


@router.post(
    "/{task_id}/delegate",
    summary="Let another candidate work the task I hold; releasing it brings it back to me",
    response_model=TaskAnswer,
    response_model_exclude_unset=True,
    responses=errors(404, 409),
)
def delegate(request: Request, task_id: Id, body: HandOver) -> dict[str, Any]:
    return _hand_over(request, task_id, body, delegate=True)


def _hand_over(request: Request, task_id: int, body: HandOver, *, delegate: bool) -> dict[str, Any]:
    with acting(request) as me:
        to = user_by_name(me.work, body.to)
        task = task_acts.hand_over(me.work, me.subject, me.user, task_id, to, delegate=delegate)
        return _answer(me, task)


@router.post(
    "/{task_id}/complete",
    summary="Complete a task with its form data",
    response_model=TaskAnswer,
    response_model_exclude_unset=True,
    responses={
        **errors(404, 409),
        **links(200, Next=("claim", {"task_id": "$response.body#/open_tasks/0/id"})),
    },
)
def complete(request: Request, task_id: Id, body: CompleteTask) -> dict[str, Any]:
    with acting(request) as me:
        done = task_acts.complete(me.work, me.subject, me.user, task_id, body.data)
        answer = _answer(me, done.task)
        answer["case_status"] = done.case_status
        return answer
