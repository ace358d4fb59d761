"""Search and notification pages, for agents (``/search``, ``/notifications``) and in the
customer portal (``/portal/search``, ``/portal/notifications``): the same rules as the API
(``rules.search``, ``rules.notifications``) decide every hit and every notification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.errors import InvalidInput
from rules import notifications as notes
from rules.search import search

from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .agents import agent
from .common import base_context, read_form
from .portal import customer

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
Words = Annotated[str, Query(max_length=200)]


def _search_page(request: Request, q: str, portal: bool) -> Response:
    with acting(request) as me:
        (customer if portal else agent)(me)
        answer, problem = None, None
        if q.strip():
            try:
                answer = search(me.work, me.subject, q, limit=50)
            except InvalidInput as exc:
                problem = "; ".join(exc.errors.values()) or exc.message
        context = {
            **base_context(me, portal),
            "q": q,
            "answer": answer,
            "problem": problem,
            "base": "/portal/cases" if portal else "/cases",
        }
    return render(request, "search.html", context)


@router.get("/search")
def search_page(request: Request, q: Words = "") -> Response:
    return _search_page(request, q, portal=False)


@router.get("/portal/search")
def portal_search_page(request: Request, q: Words = "") -> Response:
    return _search_page(request, q, portal=True)


def _notifications_page(request: Request, portal: bool, unread: bool) -> Response:
    with acting(request) as me:
        (customer if portal else agent)(me)
        context = {
            **base_context(me, portal),
            "rows": notes.notifications(me.work, me.subject, unread=unread, limit=100),
            "only_unread": unread,
            "mail": notes.mail_preference(me.work, me.subject.user_id),
            "choices": notes.MAIL_CHOICES,
            "home": "/portal/notifications" if portal else "/notifications",
            "base": "/portal/cases" if portal else "/cases",
        }
    return render(request, "notifications.html", context)


@router.get("/notifications")
def notifications_page(request: Request, unread: bool = False) -> Response:
    return _notifications_page(request, portal=False, unread=unread)


@router.get("/portal/notifications")
def portal_notifications_page(request: Request, unread: bool = False) -> Response:
    return _notifications_page(request, portal=True, unread=unread)


async def _submit(request: Request, portal: bool) -> Response:
    form = await read_form(request)
    home = "/portal/notifications" if portal else "/notifications"
    with acting(request, form.get("csrf_token")) as me:
        (customer if portal else agent)(me)
        if "mail" in form:
            notes.set_mail_preference(me.work, me.subject, form["mail"])
        elif form.get("id", "all") == "all":
            notes.mark_read(me.work, me.subject, None)
        else:
            try:
                which = int(form["id"])
            except ValueError:
                raise InvalidInput("the form is not valid", {"id": "not a notification"}) from None
            if not 1 <= which <= 2**31 - 1:
                raise InvalidInput("the form is not valid", {"id": "not a notification"})
            notes.mark_read(me.work, me.subject, which)
    return RedirectResponse(home, status_code=303)


@router.post("/notifications")
async def notifications_submit(request: Request) -> Response:
    return await _submit(request, portal=False)


@router.post("/portal/notifications")
async def portal_notifications_submit(request: Request) -> Response:
    return await _submit(request, portal=True)
