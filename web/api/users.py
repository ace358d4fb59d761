"""Administering users over JSON beyond the directory: invite one by mail, mail a
password reset, and list what a user holds (their open cases and tasks).

Each act goes through ``mail.invitations`` and ``rules.user_admin`` - the doors of the
web's admin pages and of ``run.py users`` - so only administrators may, and the nonsense
(a customer into an agent group) is refused the same way.  The link is mailed; it is in
the answer only when there is no address to mail it to, for the administrator to hand
over.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from mail import invitations
from rules import user_admin

from ..answers import Answer, UserRow, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Invitation
from ..unit_routes import UnitRoute
from .directory import Name, user_row

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/users",
    tags=["directory"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)


class LinkIssued(UserRow):
    """The user a one-time password link was made for, and where it went."""

    mailed_to: str | None = Field(description="the address the link was mailed to")
    link: str | None = Field(description="the link itself, only when it was not mailed")


class Assignment(Answer):
    kind: str = Field(description="case or task")
    case: str
    what: str


def _issued(issued: invitations.Issued) -> dict[str, Any]:
    return {
        **user_row(issued.user),
        "mailed_to": issued.mailed_to,
        "link": None if issued.mailed_to else issued.url,
    }


@router.post(
    "/invite",
    status_code=201,
    summary="Invite a user (administrators): created without a password, in the groups "
    "named, and mailed a one-time link to set one",
    response_model=LinkIssued,
    responses=errors(404, 409),
)
def invite(request: Request, body: Invitation) -> dict[str, Any]:
    with acting(request) as me:
        issued = invitations.invite(
            me.work,
            me.subject,
            request.app.state.mail,
            username=body.username,
            display_name=body.display_name,
            email=body.email,
            groups=body.groups,
            leads=body.leads,
        )
        return _issued(issued)


@router.post(
    "/{username}/reset",
    summary="Reset a user's password (administrators): it is forgotten, their sessions end, "
    "and they are mailed a one-time link to set a new one",
    response_model=LinkIssued,
    responses=errors(404),
)
def reset(request: Request, username: Name) -> dict[str, Any]:
    with acting(request) as me:
        issued = invitations.reset_password(
            me.work, me.subject, request.app.state.mail, username=username
        )
        return _issued(issued)


@router.get(
    "/{username}/assignments",
    summary="The open cases assigned to a user and the open tasks they hold (administrators)",
    response_model=list[Assignment],
    responses=errors(404),
)
def assignments(request: Request, username: Name) -> list[dict[str, str]]:
    with acting(request) as me:
        return user_admin.open_assignments(me.work, me.subject, username=username)
