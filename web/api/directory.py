"""Users, groups, memberships, contacts and case types over JSON.

Reading the directory is open to every agent (they assign and mention people);
changing it is for administrators.  Contacts follow the contact visibility rule.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from engine.errors import Forbidden, NotFound
from engine.store.models import CaseType, CaseTypeVersion, Contact
from people import directory, logins, passwords
from rules import contact_filter, parties, user_admin
from rules.case_acts import openable_types

from ..answers import (
    CaseTypeRow,
    ContactRow,
    GroupRow,
    Me,
    MemberRemoved,
    Membership,
    UserRow,
    VersionRow,
    errors,
    links,
)
from ..auth import SIGNED_IN, Actor, acting
from ..schemas import Member, NewGroup, NewUser, PasswordReset, Text, UserActive
from ..unit_routes import UnitRoute
from .params import Id

Search = Annotated[Text | None, Query(max_length=200, description="words to look for")]

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api",
    tags=["directory"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)
Name = Annotated[Text, Path(min_length=1, max_length=150)]


def require_admin(me: Actor) -> None:
    if not me.subject.is_admin:
        raise Forbidden(f"{me.user.username} is not an administrator")


def require_agent(me: Actor) -> None:
    if me.subject.portal is not None:
        raise Forbidden("the directory is for agents")


def user_row(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
    }


@router.get("/me", summary="Who I am", response_model=Me)
def me_(request: Request) -> dict[str, Any]:
    with acting(request) as me:
        groups = directory.groups_of(me.work, me.user.id)
        return {**user_row(me.user), "groups": groups, "portal": me.subject.portal is not None}


@router.get("/users", summary="Every user", response_model=list[UserRow])
def list_users(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        require_agent(me)
        return [user_row(u) for u in directory.list_users(me.work)]


@router.post(
    "/users",
    status_code=201,
    summary="Create a user (administrators); a password must meet the policy",
    response_model=UserRow,
    responses={
        **errors(409),
        **links(201, Password=("reset_password", {"username": "$response.body#/username"})),
    },
)
def add_user(request: Request, body: NewUser) -> dict[str, Any]:
    with acting(request) as me:
        require_admin(me)
        user = directory.add_user(me.work, **body.model_dump(), actor_id=me.user.id)
        return user_row(user)


@router.post(
    "/users/{username}/password",
    summary="Set a user's password (administrators); all their sessions end",
    response_model=UserRow,
    responses=errors(404),
)
async def reset_password(request: Request, username: Name, body: PasswordReset) -> dict[str, Any]:
    def reset() -> dict[str, Any]:
        with acting(request) as me:  # refused before any hashing work is done
            require_admin(me)
            directory.user_by_name(me.work, username)
        new_hash = passwords.hash_new(body.new_password, username=username, field="new_password")
        with acting(request) as me:
            require_admin(me)
            user = directory.user_by_name(me.work, username)
            logins.replace_password(me.work, user, new_hash, actor_id=me.user.id, reset=True)
            return user_row(user)

    return await run_in_threadpool(reset)


@router.post(
    "/users/{username}/active",
    summary="Deactivate or reactivate a user (administrators); a deactivated user's sessions "
    "and API tokens stop working at once, and the last active administrator stays active",
    response_model=UserRow,
    responses=errors(404),
)
def set_active(request: Request, username: Name, body: UserActive) -> dict[str, Any]:
    with acting(request) as me:
        user = user_admin.switch_user(me.work, me.subject, username=username, active=body.active)
        return user_row(user)


@router.get("/groups", summary="Every group with its members", response_model=list[GroupRow])
def list_groups(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        require_agent(me)
        return [
            {"id": g.id, "name": g.name, "description": g.description, "members": members}
            for g, members in directory.list_groups(me.work)
        ]


@router.post(
    "/groups",
    status_code=201,
    summary="Create a group (administrators)",
    response_model=GroupRow,
    responses={
        **errors(409),
        **links(201, Member=("add_member", {"name": "$response.body#/name"})),
    },
)
def add_group(request: Request, body: NewGroup) -> dict[str, Any]:
    with acting(request) as me:
        require_admin(me)
        group = directory.add_group(me.work, **body.model_dump(), actor_id=me.user.id)
        return {"id": group.id, "name": group.name, "description": group.description}


@router.post(
    "/groups/{name}/members",
    status_code=201,
    summary="Add a member (administrators)",
    response_model=Membership,
    responses={
        **errors(404, 409),
        **links(
            201,
            Remove=(
                "remove_member",
                {"name": "$response.body#/group", "username": "$response.body#/username"},
            ),
        ),
    },
)
def add_member(request: Request, name: Name, body: Member) -> dict[str, str]:
    with acting(request) as me:
        user_admin.join_group(
            me.work, me.subject, username=body.username, group=name, role=body.role
        )
        return {"group": name, "username": body.username}


@router.delete(
    "/groups/{name}/members/{username}",
    summary="Remove a member (administrators)",
    response_model=MemberRemoved,
    responses=errors(404, 409),
)
def remove_member(request: Request, name: Name, username: Name) -> dict[str, str]:
    with acting(request) as me:
        require_admin(me)
        directory.remove_member(me.work, username=username, group=name, actor_id=me.user.id)
        return {"group": name, "removed": username}


def contact_row(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "customer_group_id": contact.customer_group_id,
    }


@router.get(
    "/contacts",
    summary="Contacts I may see",
    response_model=list[ContactRow],
    responses=links(200, Show=("show_contact", {"contact_id": "$response.body#/0/id"})),
)
def list_contacts(request: Request, q: Search = None) -> list[dict[str, Any]]:
    """``q``: only contacts whose name or address holds every word (the first 500)."""
    with acting(request) as me:
        query = (
            select(Contact)
            .where(contact_filter(me.subject), parties.matching(q, Contact.name, Contact.email))
            .order_by(Contact.id)
            .limit(500)
        )
        return [contact_row(c) for c in me.work.session.scalars(query)]


@router.get(
    "/contacts/{contact_id}",
    summary="One contact",
    response_model=ContactRow,
    responses=errors(404),
)
def show_contact(request: Request, contact_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        query = select(Contact).where(Contact.id == contact_id, contact_filter(me.subject))
        contact = me.work.session.scalar(query)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        return contact_row(contact)


@router.get(
    "/case-types",
    tags=["case types"],
    summary="Case types, and whether I may open them",
    response_model=list[CaseTypeRow],
    responses=links(200, Versions=("list_versions", {"key": "$response.body#/0/key"})),
)
def list_case_types(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        openable = {k.id for k in openable_types(me.work, me.subject)}
        kinds = me.work.session.scalars(select(CaseType).order_by(CaseType.key))
        return [
            {"key": k.key, "name": k.name, "prefix": k.prefix, "may_open": k.id in openable}
            for k in kinds
            if k.id in openable or me.subject.portal is None
        ]


@router.get(
    "/case-types/{key}/versions",
    tags=["case types"],
    summary="Deployed versions",
    response_model=list[VersionRow],
    responses=errors(404),
)
def list_versions(
    request: Request, key: Annotated[Text, Path(min_length=1, max_length=50)]
) -> list[dict[str, Any]]:
    with acting(request) as me:
        require_agent(me)
        kind = me.work.session.scalar(select(CaseType).where(CaseType.key == key))
        if kind is None:
            raise NotFound(f"no case type {key}")
        rows = me.work.session.scalars(
            select(CaseTypeVersion)
            .where(CaseTypeVersion.case_type_id == kind.id)
            .order_by(CaseTypeVersion.number)
        )
        return [
            {
                "id": v.id,
                "number": v.number,
                "current": v.id == kind.current_version_id,
                "deployed_at": v.deployed_at,
                "view_only": bool(v.config.get("view_only")),
            }
            for v in rows
        ]
