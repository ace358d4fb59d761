"""The inbox's own doors over JSON: an agent's personal saved views and bulk actions.

Both go through the rules the inbox page uses: ``rules.saved_views`` (a view is the
user's own; a role view named in it must be one offered to them) and
``rules.bulk_acts.act_on_each`` (each case through the case page's door, in a unit of
its own, so a refused case is named with its reason and leaves the others done; a case
the caller may not see is "not found" like one that does not exist).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from engine.errors import Forbidden
from engine.runtime import UnitOfWork
from rules import bulk_acts, saved_views
from rules.subject import Subject

from ..answers import Answer, errors
from ..auth import SIGNED_IN, Actor, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute
from .canned import Removed
from .params import Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api",
    tags=["inbox"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)


class NewView(Strict):
    """The inbox's filter and sort to keep under a name (saving a name again replaces it)."""

    name: Annotated[Text, Field(min_length=1, max_length=80)]
    show: Literal["all", "mine", "groups", "unassigned", "at_risk", "breached"] | None = None
    sort: (
        Literal["key", "subject", "type", "priority", "sla", "due", "assignee", "activity"] | None
    ) = None
    dir: Literal["asc", "desc"] | None = None
    view: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="a role view offered to the caller's groups"
    )


class SavedView(Answer):
    id: int
    name: str
    params: dict[str, str]


class Bulk(Strict):
    act: Literal["assign", "priority", "close"]
    value: Annotated[Text, Field(max_length=200)] = Field(
        "", description="assign: user name (empty: nobody); priority: the priority; close: outcome"
    )
    cases: Annotated[
        list[Annotated[Text, Field(max_length=40)]], Field(min_length=1, max_length=100)
    ]


class BulkOutcome(Answer):
    case: str
    done: bool
    reason: str | None = Field(None, description="why the case was refused")
    kind: str | None = Field(None, description="not_found, forbidden, conflict or invalid_input")


def _agent(me: Actor) -> Subject:
    if me.subject.portal is not None:
        raise Forbidden("the inbox is for agents")
    return me.subject


def _view(found: Any) -> dict[str, Any]:
    return {"id": found.id, "name": found.name, "params": found.params}


@router.get("/views", summary="My personal inbox views", response_model=list[SavedView])
def list_views(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        return [_view(v) for v in saved_views.personal_views(me.work, _agent(me))]


@router.post(
    "/views",
    status_code=201,
    summary="Save a personal inbox view (a name saved again is replaced)",
    response_model=SavedView,
    responses=errors(404),
)
def save_view(request: Request, body: NewView) -> dict[str, Any]:
    params = body.model_dump(exclude={"name"}, exclude_none=True)
    with acting(request) as me:
        return _view(saved_views.save_personal_view(me.work, _agent(me), body.name, params))


@router.delete(
    "/views/{view_id}",
    summary="Delete one of my personal inbox views",
    response_model=Removed,
    responses=errors(404),
)
def delete_view(request: Request, view_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        saved_views.delete_personal_view(me.work, _agent(me), view_id)
    return {"id": view_id, "removed": True}


@router.post(
    "/cases/bulk",
    tags=["cases"],
    summary="Assign, set the priority of or close many cases: each case on its own, "
    "refusals named with their reason",
    response_model=list[BulkOutcome],
)
def bulk(request: Request, body: Bulk) -> list[dict[str, Any]]:
    @contextmanager
    def as_caller() -> Iterator[tuple[UnitOfWork, Subject]]:
        with acting(request) as me:
            yield me.work, _agent(me)

    outcomes = bulk_acts.act_on_each(as_caller, body.act, body.value.strip(), body.cases)
    return [asdict(o) for o in outcomes]
