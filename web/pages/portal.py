"""The customer portal: log in, open a case, follow one's cases and reply.

Everything a customer sees goes through the same rules as the API: the case list is
the portal visibility filter (own cases, or all of the customer's with the "all"
level; never cases hidden from the portal) and the stream has no internal posts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rules.case_lists import case_list_query
from rules.case_view import customer_summary

from ..auth import Actor, NotAuthenticated, acting
from ..render import render
from ..unit_routes import UnitRoute
from .agents import Number, TaskId, Verb, Word, new_case_page, open_from_form, post_from_form
from .common import add_login_routes, base_context, case_context, task_action

router = APIRouter(route_class=UnitRoute, prefix="/portal", include_in_schema=False)
add_login_routes(router, "/portal", portal=True)


def customer(me: Actor) -> Actor:
    if me.subject.portal is None:
        raise NotAuthenticated("the portal is for customers")
    return me


@router.get("")
def my_cases(request: Request) -> Response:
    with acting(request) as me:
        customer(me)
        query = case_list_query(me.work, me.subject).limit(200)
        rows = [customer_summary(me.work, c) for c in me.work.session.scalars(query)]
        context = {
            **base_context(me, True),
            "rows": rows,
            "priorities": (),
            "base": "/portal/cases",
        }
    return render(request, "portal_cases.html", context)


@router.get("/new")
def new_case_form(request: Request, type: Word = "") -> Response:
    with acting(request) as me:
        return new_case_page(request, customer(me), True, type)


@router.post("/new")
async def new_case(request: Request) -> Response:
    return await open_from_form(request, portal=True)


@router.get("/cases/{number}")
def case_view(request: Request, number: Number) -> Response:
    with acting(request) as me:
        context = case_context(customer(me), number, base="/portal/cases", portal=True)
    return render(request, "case.html", context)


@router.post("/cases/{number}/posts")
async def reply(request: Request, number: Number) -> Response:
    return await post_from_form(request, number, portal=True)


@router.post("/cases/tasks/{task_id}/{verb}")
async def act_on_task(request: Request, task_id: TaskId, verb: Verb) -> Response:
    return await task_action(request, task_id, verb, "/portal/cases", portal=True)
