"""Customers for administrators: customer groups with their contacts, adding either, and
changing a contact's name and address.

Kept to the customer groups and contacts the rules already know; each act goes through
``rules.user_admin`` (administrators only), which refuses an agent's login as a contact.
A refused form comes back with what was typed and the problem next to its field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput, NotFound
from engine.store.models import Contact, CustomerGroup, User
from people import directory
from rules import user_admin

from ..auth import Actor, acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin/customers", include_in_schema=False)
CONTACT_FIELDS = ("name", "email", "customer_group", "username")


def _page(
    request: Request,
    me: Actor,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    session = me.work.session
    groups = list(session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))
    names = {g.id: g.name for g in groups}
    contacts: dict[int, list[Any]] = {}
    for contact, username in session.execute(
        select(Contact, User.username)
        .outerjoin(User, User.id == Contact.user_id)
        .order_by(Contact.name, Contact.id)
    ):
        contacts.setdefault(contact.customer_group_id, []).append((contact, username))
    context = {
        **base_context(me, False),
        "groups": [
            {"group": g, "parent": names.get(g.parent_id or 0), "contacts": contacts.get(g.id, [])}
            for g in groups
        ],
        "typed": typed or {},
        "errors": errors or {},
    }
    return render(request, "admin_customers.html", context, status=422 if errors else 200)


def _problems(exc: InvalidInput | Conflict | NotFound, field: str) -> dict[str, str]:
    if isinstance(exc, InvalidInput) and exc.errors:
        return {str(k): str(v) for k, v in exc.errors.items()}
    return {field: str(exc)}


@router.get("")
def overview(request: Request) -> Response:
    with acting(request) as me:
        user_admin.require_admin(me.subject)
        return _page(request, me)


@router.post("/groups")
async def add_group(request: Request) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            user_admin.require_admin(me.subject)
            name = form.get("group_name", "").strip()
            try:
                if not name or len(name) > 200:
                    raise InvalidInput("not saved", {"group_name": "is required"})
                directory.add_customer_group(
                    me.work, name=name, parent=form.get("parent") or None, actor_id=me.user.id
                )
            except (InvalidInput, Conflict, NotFound) as exc:
                return _page(request, me, typed=form, errors=_problems(exc, "group_name"))
        return RedirectResponse("/admin/customers", status_code=303)

    return await run_in_threadpool(work)


@router.post("/contacts")
async def add_contact(request: Request) -> Response:
    form = await read_form(request)
    values = {k: form.get(k, "").strip() for k in CONTACT_FIELDS}

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            try:
                user_admin.add_contact(
                    me.work,
                    me.subject,
                    name=values["name"],
                    customer_group=values["customer_group"],
                    email=values["email"],
                    username=values["username"],
                )
            except (InvalidInput, NotFound) as exc:
                return _page(request, me, typed=values, errors=_problems(exc, "username"))
        return RedirectResponse("/admin/customers", status_code=303)

    return await run_in_threadpool(work)


def _contact_page(
    request: Request, me: Actor, contact: Contact, typed: dict[str, str], errors: dict[str, str]
) -> Response:
    context = {**base_context(me, False), "contact": contact, "typed": typed, "errors": errors}
    return render(request, "admin_contact.html", context, status=422 if errors else 200)


@router.get("/contacts/{contact_id}")
def contact_form(request: Request, contact_id: int) -> Response:
    with acting(request) as me:
        user_admin.require_admin(me.subject)
        contact = me.work.session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        typed = {"name": contact.name, "email": contact.email or ""}
        return _contact_page(request, me, contact, typed, {})


@router.post("/contacts/{contact_id}")
async def edit_contact(request: Request, contact_id: int) -> Response:
    form = await read_form(request)
    typed = {k: form.get(k, "").strip() for k in ("name", "email")}

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            try:
                user_admin.edit_contact(
                    me.work, me.subject, contact_id, name=typed["name"], email=typed["email"]
                )
            except InvalidInput as exc:
                contact = me.work.session.get(Contact, contact_id)
                assert contact is not None  # edit_contact said NotFound otherwise
                return _contact_page(request, me, contact, typed, _problems(exc, "name"))
        return RedirectResponse("/admin/customers", status_code=303)

    return await run_in_threadpool(work)
