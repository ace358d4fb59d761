"""Canned replies over JSON: the ones I may insert, managing a group's (its leads and
administrators), and one filled in for a case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from rules import canned_replies

from ..answers import Answer, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute
from .params import CASE_NUMBER, Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/canned-replies",
    tags=["canned replies"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)
Name = Annotated[Text, Field(min_length=1, max_length=canned_replies.MAX_NAME)]
CaseQuery = Annotated[str, Query(max_length=40, pattern=CASE_NUMBER)]
Body = Annotated[Text, Field(min_length=1, max_length=canned_replies.MAX_BODY)]


class CannedReply(Answer):
    id: int
    group: str
    name: str
    body: str = Field(description="a Jinja2 template over the variables of rendered replies")
    updated_at: datetime


class Rendered(Answer):
    id: int
    case: str
    text: str


class NewCannedReply(Strict):
    group: Annotated[Text, Field(min_length=1, max_length=150)]
    name: Name
    body: Body


class CannedReplyChange(Strict):
    name: Name | None = None
    body: Body | None = None


@router.get(
    "", summary="The canned replies I may insert (my groups')", response_model=list[CannedReply]
)
def list_replies(
    request: Request, group: Annotated[Text | None, Query(max_length=150)] = None
) -> list[dict[str, Any]]:
    with acting(request) as me:
        return canned_replies.list_replies(me.work, me.subject, group)


@router.post(
    "",
    status_code=201,
    summary="Add a canned reply to a group (its leads, administrators); unknown variables "
    "are refused",
    description="Variables: "
    + "; ".join(f"`{k}`: {v}" for k, v in canned_replies.VARIABLES.items()),
    response_model=CannedReply,
    responses=errors(409),
)
def add_reply(request: Request, body: NewCannedReply) -> dict[str, Any]:
    with acting(request) as me:
        return canned_replies.add_reply(
            me.work, me.subject, group=body.group, name=body.name, body=body.body
        )


@router.get("/{reply_id}", summary="One canned reply", response_model=CannedReply)
def show_reply(request: Request, reply_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return canned_replies.show_reply(me.work, me.subject, reply_id)


@router.patch(
    "/{reply_id}",
    summary="Change a canned reply's name or text",
    response_model=CannedReply,
    responses=errors(409),
)
def update_reply(request: Request, reply_id: Id, body: CannedReplyChange) -> dict[str, Any]:
    with acting(request) as me:
        return canned_replies.update_reply(
            me.work, me.subject, reply_id, name=body.name, body=body.body
        )


class Removed(Answer):
    id: int
    removed: bool


@router.delete("/{reply_id}", summary="Remove a canned reply", response_model=Removed)
def remove_reply(request: Request, reply_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        canned_replies.remove_reply(me.work, me.subject, reply_id)
    return {"id": reply_id, "removed": True}


@router.get(
    "/{reply_id}/render",
    summary="A canned reply filled in for a case I may read",
    response_model=Rendered,
)
def render_reply(request: Request, reply_id: Id, case: CaseQuery) -> dict[str, Any]:
    with acting(request) as me:
        text = canned_replies.render_reply(me.work, me.subject, me.user, reply_id, case)
        return {"id": reply_id, "case": case, "text": text}
