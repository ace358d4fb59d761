"""Administration of users from the web: invite one, open one to change their groups,
deactivate or reactivate them, or make a one-time link to set a new password.

Each act goes through ``rules.user_admin`` (administrators only; a customer joining an agent
group and deactivating the last administrator are refused there) behind the form's CSRF
token.  A refused form comes back with the problem next to its field.  An invitation or
reset is mailed to the user's address (``mail.invitations``, through the outbox); a user
without one gets the link shown once, on the user's page, for the administrator to hand
over.  Only its hash is kept.  The user's page names their open cases and tasks, which
wait for someone else once they are deactivated.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput, NotFound
from mail import invitations
from people import directory
from rules import user_admin
from rules.provider_users import is_customer

from ..auth import Actor, acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin/users", include_in_schema=False)


def _handed(
    request: Request, me: Actor, issued: invitations.Issued, mailed: str, shown: str
) -> Response:
    """The user's page after a link was made: where it was mailed, or the link itself."""
    name = issued.user.username
    if issued.mailed_to:
        return _user_page(request, me, name, notice=f"{mailed} {issued.mailed_to}.")
    secret = issued.url.rsplit("/", 1)[1]
    link = str(request.url_for("set_password_form", secret=secret))
    return _user_page(request, me, name, link=link, notice=f"{shown} it is shown only once.")


def _user_page(
    request: Request,
    me: Actor,
    username: str,
    *,
    errors: dict[str, str] | None = None,
    link: str | None = None,
    notice: str | None = None,
) -> Response:
    user = directory.user_by_name(me.work, username)
    member_of = directory.groups_of(me.work, user.id)
    groups = [g.name for g, _ in directory.list_groups(me.work)]
    context = {
        **base_context(me, False),
        "user": user,
        "customer": is_customer(me.work, user.id),
        "member_of": member_of,
        "other_groups": [name for name in groups if name not in member_of],
        "member_roles": directory.MEMBER_ROLES,
        "errors": errors or {},
        "link": link,
        "notice": notice,
        "assignments": user_admin.open_assignments(me.work, me.subject, username=username),
    }
    return render(request, "admin_user.html", context, status=422 if errors else 200)


#: The form field of each group's role on the invitation form: ``role:<group>`` is
#: empty (not a member), ``member`` or ``lead``.
ROLE_FIELD = "role:"


def _invite_page(
    request: Request,
    me: Actor,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    roles: dict[str, str] | None = None,
) -> Response:
    context = {
        **base_context(me, False),
        "values": values,
        "errors": errors or {},
        "groups": [g.name for g, _ in directory.list_groups(me.work)],
        "roles": roles or {},
        "role_field": ROLE_FIELD,
    }
    return render(request, "admin_invite.html", context, status=422 if errors else 200)


def _form_errors(exc: InvalidInput) -> dict[str, str]:
    """The refusal's problems by the invitation form's fields: the directory names the
    user name ``name``; a group's or role's problem goes beside the group picker."""
    fields = {"name": "username", "group": "groups", "role": "groups"}
    return {fields.get(str(k), str(k)): str(v) for k, v in exc.errors.items()}


@router.get("/new")
def invite_form(request: Request) -> Response:
    with acting(request) as me:
        user_admin.require_admin(me.subject)
        return _invite_page(request, me, {})


@router.post("/new")
async def invite(request: Request) -> Response:
    """Create the user without a password in the groups picked (member or lead) and mail
    the one-time link, or show it to hand over.  A refused invitation rolls back whole:
    its unit ends with the refusal, and the form comes back from a unit of its own."""
    form = await read_form(request)
    values = {k: form.get(k, "").strip() for k in ("username", "display_name", "email")}
    roles = {
        key.removeprefix(ROLE_FIELD): role
        for key, role in form.items()
        if key.startswith(ROLE_FIELD) and role
    }

    def work() -> Response:
        forged = sorted({r for r in roles.values() if r not in directory.MEMBER_ROLES})
        try:
            if forged:
                problem = f"{forged[0]!r} is not a role: member or lead"
                raise InvalidInput("the user was not invited", {"groups": problem})
            with acting(request, form.get("csrf_token")) as me:
                user_admin.require_admin(me.subject)
                issued = invitations.invite(
                    me.work,
                    me.subject,
                    request.app.state.mail,
                    username=values["username"],
                    display_name=values["display_name"],
                    email=values["email"],
                    groups=[g for g, role in roles.items() if role != "lead"],
                    leads=[g for g, role in roles.items() if role == "lead"],
                )
                name = issued.user.username
                return _handed(
                    request,
                    me,
                    issued,
                    f"{name} is invited: the link to set a password was mailed to",
                    f"{name} is invited but has no address to mail: hand over this link,",
                )
        except InvalidInput as exc:
            errors = _form_errors(exc)
        except NotFound as exc:  # a group that does not exist (any more)
            errors = {"groups": str(exc)}
        except Conflict as exc:
            errors = {"username": str(exc)}
        with acting(request, form.get("csrf_token")) as me:
            user_admin.require_admin(me.subject)
            return _invite_page(request, me, values, errors, roles)

    return await run_in_threadpool(work)


@router.get("/{username}")
def show(request: Request, username: str) -> Response:
    with acting(request) as me:
        user_admin.require_admin(me.subject)
        return _user_page(request, me, username)


@router.post("/{username}/{action}")
async def change(request: Request, username: str, action: str) -> Response:
    """Join or leave a group, deactivate or reactivate, or make a reset link."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            subject = me.subject
            user_admin.require_admin(subject)
            group = form.get("group", "")
            try:
                if action == "groups":
                    role = form.get("role") or None
                    user_admin.join_group(
                        me.work, subject, username=username, group=group, role=role
                    )
                elif action == "groups-remove":
                    user_admin.leave_group(me.work, subject, username=username, group=group)
                elif action in ("deactivate", "reactivate"):
                    active = action == "reactivate"
                    user_admin.switch_user(me.work, subject, username=username, active=active)
                elif action == "reset":
                    issued = invitations.reset_password(
                        me.work, subject, request.app.state.mail, username=username
                    )
                    ended = f"{username}'s password is forgotten and their sessions ended:"
                    return _handed(
                        request,
                        me,
                        issued,
                        f"{ended} the link to set a new one was mailed to",
                        f"{ended} hand over this link to set a new one,",
                    )
                else:
                    raise NotFound(f"no user action {action}")
            except InvalidInput as exc:
                errors = {str(k): str(v) for k, v in exc.errors.items()}
                return _user_page(request, me, username, errors=errors)
        return RedirectResponse(f"/admin/users/{username}", status_code=303)

    return await run_in_threadpool(work)


def user_rows(me: Actor) -> list[dict[str, Any]]:
    """Every user with their groups, for the overview's table."""
    groups: dict[str, list[str]] = {}
    for group, members in directory.list_groups(me.work):
        for name in members:
            groups.setdefault(name, []).append(group.name)
    return [
        {"user": u, "groups": groups.get(u.username, [])} for u in directory.list_users(me.work)
    ]
