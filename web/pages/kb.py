"""Knowledge base pages: for agents the list with search and the category tree (``/kb``,
``?category=``; editors add, move, rename and remove categories there), an article, and the editor
(``/kb/new``, ``/kb/{ref}/edit``); in the portal the list with search and the categories
holding articles for the customer, and an article (``/portal/kb``); on the case page,
linking an article and inserting one into the reply.
The same rules as the API (``rules.kb``, ``rules.kb_cases``) decide every article shown."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import kb as engine_kb
from rules import kb, kb_cases, kb_categories

from ..article_html import article_html
from ..auth import Actor, acting
from ..errors import status_of
from ..render import render
from ..unit_routes import UnitRoute
from .agents import agent
from .common import base_context, case_context, read_form
from .portal import customer

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
Ref = Annotated[str, Path(max_length=20, pattern=r"^(KB-)?\d{1,12}$")]
Number = Annotated[str, Path(max_length=40)]
Words = Annotated[str, Query(max_length=200)]


def _list_page(
    request: Request,
    q: str,
    category: str,
    portal: bool,
    *,
    error: str = "",
    status: int = 200,
    csrf: str | None = None,
) -> Response:
    """The list (of one category and those inside it, or of all) beside the category tree,
    or the search results; only the categories holding an article the user may see."""
    with acting(request, csrf) as me:
        (customer if portal else agent)(me)
        found, problem = None, None
        if q.strip():
            try:
                found = kb.search(me.work, me.subject, q, limit=50)
            except InvalidInput as exc:
                problem = "; ".join(exc.errors.values()) or exc.message
        tree = kb_categories.categories(me.work, me.subject)
        shown = next((c for c in tree if c["name"] == category), None)
        listed = kb.list_articles(me.work, me.subject, category=shown["name"]) if shown else []
        context = {
            **base_context(me, portal),
            "q": q,
            "found": found,
            "problem": problem or error,
            "tree": tree,
            "category": shown,
            "articles": kb.list_articles(me.work, me.subject) if not category else listed,
            "home": "/portal/kb" if portal else "/kb",
            "editor": not portal and kb.kb_level(me.work, me.subject) == "edit",
        }
    return render(request, "kb_list.html", context, status=status)


@router.get("/kb")
def kb_list(request: Request, q: Words = "", category: Words = "") -> Response:
    return _list_page(request, q, category, portal=False)


@router.get("/portal/kb")
def portal_kb_list(request: Request, q: Words = "", category: Words = "") -> Response:
    return _list_page(request, q, category, portal=True)


@router.post("/kb/categories")
async def kb_category(request: Request) -> Response:
    """The list page's category forms: add a category (``op=add``), put one inside another
    or at the top (``op=move``), rename it (``op=rename``, ``new_name``) or remove an empty
    one (``op=remove``); a refusal comes back on the page, named, with its status."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            name, parent, op = form.get("name", ""), form.get("parent") or None, form.get("op")
            unit, subject = agent(me).work, me.subject
            if op == "move":
                kb_categories.move_category(unit, subject, name, parent=parent)
            elif op == "rename":
                name = form.get("new_name", "")
                kb_categories.rename_category(unit, subject, form.get("name", ""), new_name=name)
            elif op == "remove":
                kb_categories.remove_category(unit, subject, name)
                return RedirectResponse("/kb", status_code=303)
            else:
                kb_categories.add_category(unit, subject, name, parent=parent)
        return RedirectResponse(f"/kb?{urlencode({'category': name.strip()})}", status_code=303)

    try:
        return await run_in_threadpool(work)
    except (InvalidInput, NotFound, Conflict) as exc:
        problems = exc.errors if isinstance(exc, InvalidInput) else {}
        message = "; ".join([str(exc), *(f"{k}: {v}" for k, v in problems.items())])
        status = status_of(exc)
    token = form.get("csrf_token")
    return await run_in_threadpool(
        _list_page, request, "", "", False, error=message, status=status, csrf=token
    )


def _article_page(request: Request, ref: str, portal: bool) -> Response:
    with acting(request) as me:
        (customer if portal else agent)(me)
        article = kb.show(me.work, me.subject, ref)
        context = {
            **base_context(me, portal),
            "article": article,
            "html": article_html(article["body"]) if article["format"] == "markdown" else None,
            "home": "/portal/kb" if portal else "/kb",
        }
    return render(request, "kb_article.html", context)


@router.get("/kb/new")
def kb_new(request: Request) -> Response:
    with acting(request) as me:
        context = _editor_context(agent(me), None, {})
    return render(request, "kb_edit.html", context)


@router.get("/kb/{ref}")
def kb_article(request: Request, ref: Ref) -> Response:
    return _article_page(request, ref, portal=False)


@router.get("/portal/kb/{ref}")
def portal_kb_article(request: Request, ref: Ref) -> Response:
    return _article_page(request, ref, portal=True)


def _editor_context(me: Actor, ref: str | None, given: dict[str, Any]) -> dict[str, Any]:
    article = kb.show(me.work, me.subject, ref) if ref else {}
    kb.require_editor(me.work, me.subject)
    return {
        **base_context(me, False),
        "article": {**article, **given},
        "ref": ref,
        "roles": engine_kb.all_roles(me.work),
        "categories": kb_categories.categories(me.work, me.subject),
        "formats": engine_kb.FORMATS,
    }


@router.get("/kb/{ref}/edit")
def kb_edit(request: Request, ref: Ref) -> Response:
    with acting(request) as me:
        context = _editor_context(agent(me), ref, {})
    return render(request, "kb_edit.html", context)


def _fields(form: dict[str, str], roles: list[str]) -> dict[str, Any]:
    return {
        "title": form.get("title", ""),
        "body": form.get("body", ""),
        "format": form.get("format", "markdown"),
        "category": form.get("category", ""),
        "portal_roles": roles,
    }


async def _save(request: Request, ref: str | None) -> Response:
    raw = await request.form()
    roles = [str(v) for v in raw.getlist("portal_role")]
    form = await read_form(request)
    fields = _fields(form, roles)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            agent(me)
            if ref is None:
                saved = kb.add(me.work, me.subject, **fields)
            else:
                changes = {k: v for k, v in fields.items() if k != "portal_roles"}
                saved = kb.edit(me.work, me.subject, ref, changes=changes, portal_roles=roles)
        return RedirectResponse(f"/kb/{saved['id']}", status_code=303)

    try:
        return await run_in_threadpool(work)
    except (InvalidInput, Conflict) as exc:
        problems = exc.errors if isinstance(exc, InvalidInput) else {}
        message = "; ".join([str(exc), *(f"{k}: {v}" for k, v in problems.items())])

    def again() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            context = _editor_context(agent(me), ref, fields)
        return render(request, "kb_edit.html", {**context, "error": message}, status=422)

    return await run_in_threadpool(again)


@router.post("/kb/new")
async def kb_create(request: Request) -> Response:
    return await _save(request, None)


@router.post("/kb/{ref}/edit")
async def kb_save(request: Request, ref: Ref) -> Response:
    return await _save(request, ref)


@router.post("/kb/{ref}/state")
async def kb_state(request: Request, ref: Ref) -> Response:
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            saved = kb.set_state(agent(me).work, me.subject, ref, form.get("state", ""))
        return RedirectResponse(f"/kb/{saved['id']}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/cases/{number}/articles")
async def case_link(request: Request, number: Number) -> Response:
    """Link (``op=link``) or unlink an article from the case page's knowledge base card."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            present = form.get("op") != "unlink"
            kb_cases.set_link(
                agent(me).work, me.subject, number, form.get("article", ""), present=present
            )
        return RedirectResponse(f"/cases/{number}#knowledge-base", status_code=303)

    return await run_in_threadpool(work)


@router.post("/cases/{number}/reply-with-article")
async def case_insert(request: Request, number: Number) -> Response:
    """The reply form's "Insert article" button: the case page again, the article's text
    added to what was typed (nothing is posted until the agent sends it).  The reply form
    is multipart, so its file field comes along, unused."""
    form = await read_form(request, skip_files=True)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            text = kb_cases.reply_text(agent(me).work, me.subject, form.get("article", ""))
            context = case_context(me, number, base="/cases", portal=False)
        typed = form.get("body", "").rstrip()
        context["reply_body"] = (typed + "\n\n" if typed else "") + text["text"]
        return render(request, "case.html", context)

    return await run_in_threadpool(work)
