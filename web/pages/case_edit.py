"""The case page's editing forms: subject and priority, assignee, case type, collaborators,
close with an outcome, cancel, reopen, merge into another case and links to related cases -
each through ``rules.case_acts`` or ``rules.case_links``.  A refused
change (bad input, a conflict) shows the case page again with one line saying why;
nothing is stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput
from people.directory import user_by_name
from rules import case_acts, case_links

from ..api.params import CASE_NUMBER
from ..auth import Actor, NotAuthenticated, acting
from ..render import render
from .common import case_context, read_form

router = APIRouter(include_in_schema=False)
Number = Annotated[str, Path(max_length=40, pattern=CASE_NUMBER)]
Verb = Annotated[
    str,
    Path(pattern="^(edit|assign|delegate|move|cancel|reopen|collaborators|outcome|merge|links)$"),
]


def _number(form: dict[str, str], field: str) -> str:
    """A case number typed into a form (``c-12`` is ``C-12``); anything else is bad input."""
    value = form.get(field, "").strip().upper()
    if not re.fullmatch(CASE_NUMBER, value):
        raise InvalidInput("not a case number", {field: "a case number such as C-000123"})
    return value


def _act(me: Actor, number: str, verb: str, form: dict[str, str]) -> None:
    work, subject = me.work, me.subject
    acts: dict[str, Callable[[], object]] = {
        "edit": lambda: case_acts.edit_case(
            work,
            subject,
            number,
            title=form.get("subject"),
            priority=form.get("priority") or None,
        ),
        "assign": lambda: case_acts.assign_case(
            work, subject, number, user_by_name(work, form["to"]) if form.get("to") else None
        ),
        "delegate": lambda: case_acts.assign_case(
            work, subject, number, user_by_name(work, form.get("to", "")), delegate=True
        ),
        "move": lambda: case_acts.move_case(work, subject, number, form.get("case_type", "")),
        "cancel": lambda: case_acts.cancel_case(work, subject, number, form.get("reason", "")),
        "reopen": lambda: case_acts.reopen_case(work, subject, number),
        "outcome": lambda: case_acts.close_with_outcome(
            work, subject, number, form.get("outcome", "")
        ),
        "collaborators": lambda: case_acts.set_collaborator(
            work,
            subject,
            number,
            user_by_name(work, form.get("user", "")),
            present=form.get("op") != "remove",
        ),
        "merge": lambda: case_links.merge_case(work, subject, number, _number(form, "into")),
        "links": lambda: (
            case_links.unlink_case(work, subject, number, _number(form, "other"))
            if form.get("op") == "remove"
            else case_links.link_case(
                work, subject, number, _number(form, "other"), form.get("kind") or "related"
            )
        ),
    }
    acts[verb]()


@router.post("/cases/{number}/{verb}")
async def edit_case(request: Request, number: Number, verb: Verb) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            if me.subject.portal is not None:
                raise NotAuthenticated("customers use the portal")
            _act(me, number, verb, form)
            visible = case_acts.case_visible(me.work, me.subject, number)
        return RedirectResponse(f"/cases/{number}" if visible else "/cases", status_code=303)

    try:
        return await run_in_threadpool(work)
    except (InvalidInput, Conflict) as exc:
        problems = exc.errors if isinstance(exc, InvalidInput) else {}
        message = "; ".join([str(exc), *(f"{k}: {v}" for k, v in problems.items())])
        status = 422 if isinstance(exc, InvalidInput) else 409

    def again() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            context = case_context(me, number, base="/cases", portal=False)
            context["edit_error"] = message
        return render(request, "case.html", context, status=status)

    return await run_in_threadpool(again)
