"""Changing a case over JSON: subject and priority, assignee (reassign or delegate), case
type, cancel, reopen, collaborators - each through ``rules.case_acts`` (the one access
decision: a case the caller may not see is 404, one they may not change this way 403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import Field

from engine.run import cases
from people.directory import user_by_name
from rules import case_acts
from rules.case_view import summary_for

from ..answers import Answer, CaseSummary, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute
from .params import CaseNumber

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/cases",
    tags=["cases"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 409, 422),
)
UserName = Annotated[Text, Path(min_length=1, max_length=150)]


class CaseEdit(Strict):
    """What to change; at least one of them."""

    subject: Annotated[Text | None, Field(min_length=1, max_length=500)] = None
    priority: cases.Priority | None = None


class Assignment(Strict):
    """``to`` a user by name (null: nobody); ``delegate`` passes on a case assigned to the
    caller (they stay a collaborator), otherwise it is a manager's reassignment."""

    to: Annotated[Text | None, Field(min_length=1, max_length=150)]
    delegate: bool = False


class Move(Strict):
    case_type: Annotated[Text, Field(min_length=1, max_length=50, examples=["BILLING"])]


class Cancel(Strict):
    reason: Annotated[Text, Field(max_length=2000)] = ""


class Moved(Answer):
    number: str
    moved_to: str
    visible: bool = Field(description="whether the caller still sees the case")


class Collaborators(Answer):
    number: str
    collaborators: list[str]
    changed: bool | None = None


def _summary(me: Any, number: str) -> dict[str, Any]:
    return summary_for(me.work, me.subject, cases.case_by_number(me.work, number))


@router.patch(
    "/{number}",
    summary="Change a case's subject or priority (managers)",
    response_model=CaseSummary,
    response_model_exclude_unset=True,
)
def edit_case(request: Request, number: CaseNumber, body: CaseEdit) -> dict[str, Any]:
    with acting(request) as me:
        case_acts.edit_case(me.work, me.subject, number, title=body.subject, priority=body.priority)
        return _summary(me, number)


@router.post(
    "/{number}/assignee",
    summary="Assign a case (managers), or delegate the case assigned to me",
    response_model=CaseSummary,
    response_model_exclude_unset=True,
)
def assign_case(request: Request, number: CaseNumber, body: Assignment) -> dict[str, Any]:
    with acting(request) as me:
        to = user_by_name(me.work, body.to) if body.to is not None else None
        case_acts.assign_case(me.work, me.subject, number, to, delegate=body.delegate)
        return _summary(me, number)


@router.post(
    "/{number}/move",
    summary="Move a case to another case type; access follows the new type at once",
    response_model=Moved,
)
def move_case(request: Request, number: CaseNumber, body: Move) -> dict[str, Any]:
    with acting(request) as me:
        case_acts.move_case(me.work, me.subject, number, body.case_type)
        visible = case_acts.case_visible(me.work, me.subject, number)
        return {"number": number, "moved_to": body.case_type, "visible": visible}


@router.post(
    "/{number}/cancel",
    summary="Cancel a case: its open tasks are withdrawn and it closes as cancelled",
    response_model=CaseSummary,
    response_model_exclude_unset=True,
)
def cancel_case(request: Request, number: CaseNumber, body: Cancel) -> dict[str, Any]:
    with acting(request) as me:
        case_acts.cancel_case(me.work, me.subject, number, body.reason)
        return _summary(me, number)


@router.post(
    "/{number}/reopen",
    summary="Reopen a closed case, within its case type's grace period",
    response_model=CaseSummary,
    response_model_exclude_unset=True,
)
def reopen_case(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        case_acts.reopen_case(me.work, me.subject, number)
        return _summary(me, number)


@router.get(
    "/{number}/collaborators",
    summary="Who collaborates on a case (read and stream access from that alone)",
    response_model=Collaborators,
    response_model_exclude_unset=True,
)
def list_collaborators(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        people = case_acts.collaborators_of(me.work, me.subject, number)
        return {"number": number, "collaborators": people}


def _set(request: Request, number: str, username: str, present: bool) -> dict[str, Any]:
    with acting(request) as me:
        user = user_by_name(me.work, username)
        changed, people = case_acts.set_collaborator(
            me.work, me.subject, number, user, present=present
        )
        return {"number": number, "collaborators": people, "changed": changed}


@router.put(
    "/{number}/collaborators/{username}",
    summary="Add a collaborator (managers)",
    response_model=Collaborators,
)
def add_collaborator(request: Request, number: CaseNumber, username: UserName) -> dict[str, Any]:
    return _set(request, number, username, True)


@router.delete(
    "/{number}/collaborators/{username}",
    summary="Remove a collaborator (managers; not the assignee)",
    response_model=Collaborators,
)
def remove_collaborator(request: Request, number: CaseNumber, username: UserName) -> dict[str, Any]:
    return _set(request, number, username, False)
