"""Notifications over JSON: my notifications (still visible to me) with the unread count,
marking them read, how they are mailed, and following a case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from rules import notifications as notes

from ..answers import errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict
from ..unit_routes import UnitRoute
from .params import CaseNumber, Id
from .search_answers import Following, MailPreference, MarkedRead, NotificationList

router = APIRouter(
    route_class=UnitRoute,
    tags=["notifications"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)


class MailChoice(Strict):
    mail: Literal["each", "digest", "none"]


@router.get(
    "/api/notifications",
    summary="My notifications, newest first, and how many are unread",
    response_model=NotificationList,
    response_model_exclude_unset=True,
)
def list_notifications(
    request: Request,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=notes.MAX_LIMIT)] = 50,
) -> dict[str, Any]:
    with acting(request) as me:
        return {
            "unread": notes.unread_count(me.work, me.subject),
            "notifications": notes.notifications(me.work, me.subject, unread=unread, limit=limit),
        }


@router.post(
    "/api/notifications/{notification_id}/read",
    summary="Mark one of my notifications read",
    response_model=MarkedRead,
)
def read_notification(request: Request, notification_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return {"read": notes.mark_read(me.work, me.subject, notification_id)}


@router.post(
    "/api/notifications/read", summary="Mark all my notifications read", response_model=MarkedRead
)
def read_all_notifications(request: Request) -> dict[str, Any]:
    with acting(request) as me:
        return {"read": notes.mark_read(me.work, me.subject, None)}


@router.get(
    "/api/notifications/mail",
    summary="How my notifications are mailed",
    response_model=MailPreference,
)
def mail_preference(request: Request) -> dict[str, Any]:
    with acting(request) as me:
        return {"mail": notes.mail_preference(me.work, me.subject.user_id)}


@router.put(
    "/api/notifications/mail",
    summary="Choose how my notifications are mailed: each, digest or none",
    response_model=MailPreference,
)
def set_mail_preference(request: Request, body: MailChoice) -> dict[str, Any]:
    with acting(request) as me:
        return {"mail": notes.set_mail_preference(me.work, me.subject, body.mail)}


@router.put(
    "/api/cases/{number}/follow", summary="Follow a case I may read", response_model=Following
)
def follow_case(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        notes.follow(me.work, me.subject, number)
        return {"case": number, "following": True}


@router.delete(
    "/api/cases/{number}/follow", summary="Stop following a case", response_model=Following
)
def unfollow_case(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        notes.unfollow(me.work, me.subject, number)
        return {"case": number, "following": False}
