"""Administration pages: case types and their versions, groups and memberships, the users
(each opened on its own page, ``admin_users.py``), and the group mailboxes with how their
polling goes (status, last error, next try) and a switch to disable or enable each.
Everyone's API tokens are on the Tokens page (``web/pages/account.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from casework import jobs
from engine.errors import NotFound
from engine.store.models import CaseType, CaseTypeVersion
from mail import credentials, mailbox_health
from mail.mailboxes import list_mailboxes, set_active
from people import directory
from rules import user_admin

from ..api.directory import require_admin
from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .admin_users import user_rows
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin", include_in_schema=False)


@router.get("")
def overview(request: Request) -> Response:
    with acting(request) as me:
        require_admin(me)
        versions: dict[int, list[CaseTypeVersion]] = {}
        for version in me.work.session.scalars(
            select(CaseTypeVersion).order_by(CaseTypeVersion.number)
        ):
            versions.setdefault(version.case_type_id, []).append(version)
        context = {
            **base_context(me, False),
            "types": [
                {
                    "kind": kind,
                    "versions": versions.get(kind.id, []),
                    "roles": _roles_of(versions.get(kind.id, []), kind.current_version_id),
                }
                for kind in me.work.session.scalars(select(CaseType).order_by(CaseType.key))
            ],
            "failed_jobs": len(jobs.failed_jobs(me.work, me.subject)),
            "groups": directory.list_groups(me.work),
            "leads": directory.group_leads(me.work),
            "member_roles": directory.MEMBER_ROLES,
            "users": user_rows(me),
            "mailboxes": [
                {
                    "box": box,
                    "status": mailbox_health.status(box),
                    "password": credentials.describe(box.imap_password),
                }
                for box in list_mailboxes(me.work)
            ],
        }
    return render(request, "admin.html", context)


def _roles_of(versions: list[CaseTypeVersion], current_id: int | None) -> list[dict[str, Any]]:
    """Each role of the current version: the lanes that play it and the groups that hold it
    (a designer changes them in the case type's TOML and deploys a new version)."""
    current = next((v for v in versions if v.id == current_id), None)
    if current is None:
        return []
    settings = current.config.get("case_type") or {}
    lanes: dict[str, str] = settings.get("lanes") or {}
    roles: dict[str, list[str]] = settings.get("roles") or {}
    return [
        {
            "role": role,
            "lanes": sorted(lane for lane, played in lanes.items() if played == role),
            "groups": groups,
        }
        for role, groups in sorted(roles.items())
    ]


@router.post("/{action}")
async def change(request: Request, action: str) -> Response:
    """Add a group, add or remove a member as ``member`` or ``lead`` (a customer is refused
    an agent group; adding an existing member sets the role), disable or enable a mailbox;
    then back to the overview."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            require_admin(me)
            who = me.user.id
            if action == "groups":
                directory.add_group(me.work, name=form.get("name", ""), actor_id=who)
            elif action == "members":
                user_admin.join_group(
                    me.work,
                    me.subject,
                    username=form.get("username", ""),
                    group=form.get("group", ""),
                    role=form.get("role") or None,
                )
            elif action == "members-remove":
                user_admin.leave_group(
                    me.work,
                    me.subject,
                    username=form.get("username", ""),
                    group=form.get("group", ""),
                )
            elif action in ("mailbox-enable", "mailbox-disable"):
                set_active(me.work, form.get("name", ""), action == "mailbox-enable", actor_id=who)
            else:
                raise NotFound(f"no admin action {action}")
        return RedirectResponse("/admin", status_code=303)

    return await run_in_threadpool(work)
