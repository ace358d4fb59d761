"""Child records of cases over JSON: list a case's children, add one, show, share, restrict,
check out and in, link, attach to a to-do - each through ``rules.child_records``.

A record the caller may not see is 404 (exactly like one that does not exist), an act they
may not take 403, a restriction the seed-004 guards refuse 409 naming every conflict."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from engine.run import child_records
from rules import child_records as acts

from ..answers import Answer, errors
from ..auth import SIGNED_IN, Actor, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute
from .params import CaseNumber, Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api",
    tags=["records"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 409, 422),
)
Name = Annotated[Text, Field(min_length=1, max_length=150)]


class Access(Answer):
    users: list[str]
    groups: list[str]
    propagated: list[str] = Field(description="put there by the case type's [children] switch")


class Record(Answer):
    """A record as the caller sees it; only ``id`` (and ``changed``) when their own change
    took them off its access list."""

    id: int
    kind: str | None = None
    title: str | None = None
    ref: str | None = None
    cases: list[str] | None = Field(None, description="its cases the caller may read")
    restricted: bool | None = None
    checked_out_to: str | None = None
    access: Access | None = None
    created_at: str | None = None
    history: list[dict[str, Any]] | None = Field(
        None, description="who added, shared, restricted it, and when"
    )
    carries: list[int] | None = Field(None, description="to-dos: the records attached to it")
    changed: bool | list[str] | None = None


class People(Strict):
    users: list[Name] = Field(default_factory=list, max_length=50)
    groups: list[Name] = Field(default_factory=list, max_length=50)


class NewRecord(People):
    kind: Literal["mail", "call", "note", "attachment", "todo"]
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    ref: Annotated[Text | None, Field(max_length=300)] = None
    also: list[CaseNumber] = Field(
        default_factory=list, max_length=20, description="more cases it belongs to"
    )


class Share(People):
    remove: bool = False


class CheckOut(Strict):
    to: Annotated[Text, Field(min_length=1, max_length=200, examples=["ACME Legal"])]


class Link(Strict):
    case: CaseNumber


def _answer(me: Actor, record_id: int, changed: bool | list[str] | None = None) -> dict[str, Any]:
    """The record as the caller may now see it (after unsharing oneself: just its id)."""
    item = child_records.record_by_id(me.work, record_id)
    if not acts.may_see(me.work, me.subject, item):
        return {"id": item.id, "changed": changed}
    return {**acts.describe(me.work, me.subject, item), "changed": changed}


@router.get(
    "/cases/{number}/records",
    summary="The child records of a case that the caller may see",
    response_model=list[Record],
    response_model_exclude_none=True,
)
def list_records(request: Request, number: CaseNumber) -> list[dict[str, Any]]:
    with acting(request) as me:
        items = acts.list_records(me.work, me.subject, number)
        return [acts.describe(me.work, me.subject, item) for item in items]


@router.post(
    "/cases/{number}/records",
    summary="Add a mail, call, note, attachment or to-do to a case (and more cases)",
    response_model=Record,
    response_model_exclude_none=True,
    status_code=201,
)
def add_record(request: Request, number: CaseNumber, body: NewRecord) -> dict[str, Any]:
    with acting(request) as me:
        item = acts.add_record(
            me.work,
            me.subject,
            me.user,
            [number, *body.also],
            kind=body.kind,
            title=body.title,
            ref=body.ref,
            users=body.users,
            groups=body.groups,
        )
        return _answer(me, item.id)


@router.get(
    "/records/{record_id}",
    summary="One child record: its cases, access list and state",
    response_model=Record,
    response_model_exclude_none=True,
)
def show_record(request: Request, record_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return acts.describe(me.work, me.subject, acts.record_for(me.work, me.subject, record_id))


@router.post(
    "/records/{record_id}/share",
    summary="Add users or groups to a record's access list (or take them off)",
    response_model=Record,
    response_model_exclude_none=True,
)
def share_record(request: Request, record_id: Id, body: Share) -> dict[str, Any]:
    with acting(request) as me:
        changed = acts.share_record(
            me.work, me.subject, record_id, users=body.users, groups=body.groups, remove=body.remove
        )
        return _answer(me, record_id, changed)


@router.post(
    "/records/{record_id}/restrict",
    summary="Restrict a record to its own grants (administrators; 409 names each conflict)",
    response_model=Record,
    response_model_exclude_none=True,
)
def restrict_record(request: Request, record_id: Id, body: People) -> dict[str, Any]:
    with acting(request) as me:
        acts.restrict_record(me.work, me.subject, record_id, users=body.users, groups=body.groups)
        return _answer(me, record_id)


@router.delete(
    "/records/{record_id}/restrict",
    summary="Lift a record's restriction (administrators)",
    response_model=Record,
    response_model_exclude_none=True,
)
def unrestrict_record(request: Request, record_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        acts.unrestrict_record(me.work, me.subject, record_id)
        return _answer(me, record_id)


@router.post(
    "/records/{record_id}/checkout",
    summary="Check a record out to another organisation",
    response_model=Record,
    response_model_exclude_none=True,
)
def check_out(request: Request, record_id: Id, body: CheckOut) -> dict[str, Any]:
    with acting(request) as me:
        acts.check_out(me.work, me.subject, record_id, body.to)
        return _answer(me, record_id)


@router.delete(
    "/records/{record_id}/checkout",
    summary="Check a record back in",
    response_model=Record,
    response_model_exclude_none=True,
)
def check_in(request: Request, record_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        acts.check_in(me.work, me.subject, record_id)
        return _answer(me, record_id)


@router.post(
    "/records/{record_id}/links",
    summary="Link a record to one more case",
    response_model=Record,
    response_model_exclude_none=True,
)
def link_record(request: Request, record_id: Id, body: Link) -> dict[str, Any]:
    with acting(request) as me:
        changed = acts.link_record(me.work, me.subject, record_id, body.case)
        return _answer(me, record_id, changed)


@router.put(
    "/records/{todo_id}/carries/{record_id}",
    summary="Attach a record to a to-do",
    response_model=Record,
    response_model_exclude_none=True,
)
def attach(request: Request, todo_id: Id, record_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        changed = acts.attach_to_todo(me.work, me.subject, todo_id, record_id)
        return _answer(me, todo_id, changed)
