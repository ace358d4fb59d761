"""The knowledge base over JSON: articles (list, search, read, write, publish, archive),
an article as reply text, and the articles linked to or suggested for a case - each
through ``rules.kb`` / ``rules.kb_cases``.  An article the caller may not see answers 404
like one that does not exist; a customer gets only published articles shown to their
portal role, and never an article's state, author or portal roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from engine.errors import InvalidInput
from engine.run.kb import MAX_BODY
from rules import kb, kb_cases, kb_categories
from rules.search import MAX_LIMIT

from ..answers import Answer, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute
from .params import CaseNumber

router = APIRouter(
    route_class=UnitRoute,
    tags=["knowledge base"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 409, 422),
)
ArticleRef = Annotated[str, Path(max_length=20, pattern=r"^(KB-)?\d{1,12}$", examples=["KB-12"])]
Format = Literal["markdown", "text"]
State = Literal["draft", "published", "archived"]
RoleNames = Annotated[
    list[Annotated[Text, Field(min_length=1, max_length=150)]], Field(max_length=100)
]


class ArticleSummary(Answer):
    """An article in a list; ``state`` and ``updated_at`` only for agents."""

    id: str = Field(examples=["KB-12"])
    title: str
    category: str
    format: str
    published_at: datetime | None
    state: str | None = None
    updated_at: datetime | None = None


class Article(ArticleSummary):
    """One article; agents also get its author, portal roles, the cases linked to it that
    they may read, whether they may edit it and the states it may move to."""

    body: str
    author: str | None = None
    portal_roles: list[str] | None = None
    cases: list[str] | None = None
    editable: bool | None = None
    next_states: list[str] | None = None
    changed: list[str] | None = None


class Articles(Answer):
    articles: list[ArticleSummary]


class ArticleHit(ArticleSummary):
    snippet: str


class ArticleSearch(Answer):
    query: str
    words: list[str]
    more: bool
    articles: list[ArticleHit]


class CaseArticles(Answer):
    number: str
    articles: list[ArticleSummary]
    changed: bool | None = None


class ReplyText(Answer):
    id: str
    title: str
    text: str


class NewArticle(Strict):
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    body: Annotated[Text, Field(min_length=1, max_length=MAX_BODY)]
    format: Format = "markdown"
    category: Annotated[Text, Field(max_length=100)] = ""
    portal_roles: RoleNames = Field(default_factory=list)


class ArticleEdit(Strict):
    """What to change; ``portal_roles`` replaces the roles shown the article ([] : none)."""

    title: Annotated[Text | None, Field(min_length=1, max_length=300)] = None
    body: Annotated[Text | None, Field(min_length=1, max_length=MAX_BODY)] = None
    format: Format | None = None
    category: Annotated[Text | None, Field(max_length=100)] = None
    portal_roles: RoleNames | None = None


class StateChange(Strict):
    state: State


@router.get(
    "/api/kb",
    summary="The articles I may see",
    response_model=Articles,
    response_model_exclude_unset=True,
)
def list_articles(
    request: Request,
    state: State | None = None,
    category: Annotated[Text | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    with acting(request) as me:
        return {"articles": kb.list_articles(me.work, me.subject, state=state, category=category)}


@router.post(
    "/api/kb",
    summary="Write a new draft article (editors)",
    response_model=Article,
    response_model_exclude_unset=True,
)
def add_article(request: Request, body: NewArticle) -> dict[str, Any]:
    with acting(request) as me:
        return kb.add(me.work, me.subject, **body.model_dump())


@router.get(
    "/api/kb/search",
    summary="Articles I may see holding every word, newest first",
    response_model=ArticleSearch,
    response_model_exclude_unset=True,
)
def search_articles(
    request: Request,
    q: Annotated[Text, Query(max_length=200)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> dict[str, Any]:
    with acting(request) as me:
        return kb.search(me.work, me.subject, q, limit=limit)


class Category(Answer):
    """A category in tree order: ``total`` counts the articles I may see in it and below."""

    name: str
    parent: str | None
    depth: int
    path: str = Field(examples=["Printers / Laser"])
    articles: int
    total: int


class Categories(Answer):
    categories: list[Category]


CategoryName = Annotated[Text, Field(min_length=1, max_length=100)]


class NewCategory(Strict):
    name: CategoryName
    parent: CategoryName | None = None


class CategoryChange(Strict):
    """A new ``name`` and/or the ``parent`` it will sit inside (``null``: the top); a field
    left out stays as it is."""

    name: CategoryName | None = None
    parent: CategoryName | None = None


class RemovedCategory(Answer):
    name: str
    removed: bool


@router.get(
    "/api/kb/categories",
    summary="The category tree, with the articles I may see in each",
    response_model=Categories,
)
def list_categories(request: Request) -> dict[str, Any]:
    with acting(request) as me:
        return {"categories": kb_categories.categories(me.work, me.subject)}


@router.post(
    "/api/kb/categories",
    summary="Add a category, at the top or inside another (editors)",
    response_model=Category,
)
def add_category(request: Request, body: NewCategory) -> dict[str, Any]:
    with acting(request) as me:
        return kb_categories.add_category(me.work, me.subject, body.name, parent=body.parent)


@router.patch(
    "/api/kb/categories/{name}",
    summary="Rename a category, or put it inside another or at the top (editors; a name in "
    "use answers 409, a cycle 422)",
    response_model=Category,
)
def change_category(
    request: Request, name: Annotated[str, Path(max_length=100)], body: CategoryChange
) -> dict[str, Any]:
    if not body.model_fields_set:
        raise InvalidInput("nothing to change", {"body": "give a name, a parent or both"})
    with acting(request) as me:
        row = None
        if "parent" in body.model_fields_set:
            row = kb_categories.move_category(me.work, me.subject, name, parent=body.parent)
        if body.name is not None:
            row = kb_categories.rename_category(me.work, me.subject, name, new_name=body.name)
        if row is None:
            raise InvalidInput("nothing to change", {"name": "must not be null"})
        return row


@router.delete(
    "/api/kb/categories/{name}",
    summary="Remove an empty category (editors; one holding articles or categories answers "
    "409 naming them)",
    response_model=RemovedCategory,
)
def remove_category(request: Request, name: Annotated[str, Path(max_length=100)]) -> dict[str, Any]:
    with acting(request) as me:
        kb_categories.remove_category(me.work, me.subject, name)
    return {"name": name, "removed": True}


@router.get(
    "/api/kb/{ref}",
    summary="One article",
    response_model=Article,
    response_model_exclude_unset=True,
)
def show_article(request: Request, ref: ArticleRef) -> dict[str, Any]:
    with acting(request) as me:
        return kb.show(me.work, me.subject, ref)


@router.patch(
    "/api/kb/{ref}",
    summary="Change an article (editors)",
    response_model=Article,
    response_model_exclude_unset=True,
)
def edit_article(request: Request, ref: ArticleRef, body: ArticleEdit) -> dict[str, Any]:
    changes = body.model_dump(exclude={"portal_roles"})
    with acting(request) as me:
        return kb.edit(me.work, me.subject, ref, changes=changes, portal_roles=body.portal_roles)


@router.post(
    "/api/kb/{ref}/state",
    summary="Publish, archive or return an article to draft (editors; valid moves only)",
    response_model=Article,
    response_model_exclude_unset=True,
)
def move_article(request: Request, ref: ArticleRef, body: StateChange) -> dict[str, Any]:
    with acting(request) as me:
        return kb.set_state(me.work, me.subject, ref, body.state)


@router.get(
    "/api/kb/{ref}/reply",
    summary="A published article as the text of a reply",
    response_model=ReplyText,
)
def reply_text(request: Request, ref: ArticleRef) -> dict[str, Any]:
    with acting(request) as me:
        return kb_cases.reply_text(me.work, me.subject, ref)


@router.get(
    "/api/cases/{number}/articles",
    summary="The articles linked to a case that I may see",
    response_model=CaseArticles,
    response_model_exclude_unset=True,
)
def case_articles(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        return {"number": number, "articles": kb_cases.linked(me.work, me.subject, number)}


def _link(request: Request, number: str, ref: str, present: bool) -> dict[str, Any]:
    with acting(request) as me:
        changed, rows = kb_cases.set_link(me.work, me.subject, number, ref, present=present)
        return {"number": number, "articles": rows, "changed": changed}


@router.put(
    "/api/cases/{number}/articles/{ref}",
    summary="Link an article to a case (agents who work the case); audited",
    response_model=CaseArticles,
    response_model_exclude_unset=True,
)
def link_article(request: Request, number: CaseNumber, ref: ArticleRef) -> dict[str, Any]:
    return _link(request, number, ref, True)


@router.delete(
    "/api/cases/{number}/articles/{ref}",
    summary="Unlink an article from a case; audited",
    response_model=CaseArticles,
    response_model_exclude_unset=True,
)
def unlink_article(request: Request, number: CaseNumber, ref: ArticleRef) -> dict[str, Any]:
    return _link(request, number, ref, False)


@router.get(
    "/api/cases/{number}/suggestions",
    summary="Published articles I may see matching the case's subject and description",
    response_model=CaseArticles,
    response_model_exclude_unset=True,
)
def suggestions(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        return {"number": number, "articles": kb_cases.suggestions(me.work, me.subject, number)}
