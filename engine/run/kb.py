"""The knowledge base's trusted functions: write, move between states, and link articles.

They check the article's own state and input but not who asks; ``rules.kb`` asks first.
Every change is one conditional UPDATE on the article's row version (two editors at once:
one gets :class:`~engine.errors.Conflict`) and one audit entry with before and after.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import CursorResult, delete, select, update

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.access import PortalRole
from engine.store.kb import KbArticle, KbArticleRole, KbCaseLink
from engine.store.models import Case

from . import kb_categories

STATES = ("draft", "published", "archived")
FORMATS = ("markdown", "text")
#: state → the states it may move to (a published article goes back to draft for rework)
TRANSITIONS = {"draft": ("published",), "published": ("archived", "draft"), "archived": ("draft",)}
MAX_BODY = 100_000
_REF = re.compile(r"(?:KB-)?([0-9]{1,12})", re.IGNORECASE)


def ref(article: KbArticle) -> str:
    """How people name an article: ``KB-12``."""
    return f"KB-{article.id}"


def article_by_ref(work: UnitOfWork, text: str) -> KbArticle:
    """The article ``KB-12`` (or ``12``); anything else is simply not found."""
    found = _REF.fullmatch((text or "").strip())
    article = work.session.get(KbArticle, int(found.group(1))) if found else None
    if article is None:
        raise NotFound(f"no article {text}")
    return article


def role_ids(work: UnitOfWork, names: list[str]) -> list[int]:
    """The portal roles named (``all``: every one), refusing unknown names by name."""
    if "all" in names:
        return list(work.session.scalars(select(PortalRole.id).order_by(PortalRole.id)))
    rows: dict[str, int] = {
        name: role_id
        for name, role_id in work.session.execute(
            select(PortalRole.name, PortalRole.id).where(PortalRole.name.in_(names))
        )
    }
    unknown = sorted(set(names) - set(rows))
    if unknown:
        raise InvalidInput("invalid portal roles", {"portal": f"no portal role {unknown[0]!r}"})
    return sorted(set(rows.values()))


def roles_of(work: UnitOfWork, article_id: int) -> list[str]:
    """The names of the portal roles the article is shown to."""
    return list(
        work.session.scalars(
            select(PortalRole.name)
            .join(KbArticleRole, KbArticleRole.portal_role_id == PortalRole.id)
            .where(KbArticleRole.article_id == article_id)
            .order_by(PortalRole.name)
        )
    )


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if "title" in values:
        values["title"] = " ".join(values["title"].split())
        if not values["title"]:
            errors["title"] = "is required"
        elif len(values["title"]) > 300:
            errors["title"] = "must be at most 300 characters"
    if "body" in values:
        if not values["body"].strip():
            errors["body"] = "is required"
        elif len(values["body"]) > MAX_BODY:
            errors["body"] = f"must be at most {MAX_BODY} characters"
    if "format" in values and values["format"] not in FORMATS:
        errors["format"] = f"must be one of {', '.join(FORMATS)}"
    if "category" in values:
        values["category"] = " ".join(values["category"].split())
        if len(values["category"]) > 100:
            errors["category"] = "must be at most 100 characters"
        elif "/" in values["category"]:
            errors["category"] = "must not hold a / (choose the category inside another one)"
    if errors:
        raise InvalidInput("invalid article", errors)
    return values


def _set_roles(work: UnitOfWork, article_id: int, ids: list[int]) -> None:
    work.session.execute(delete(KbArticleRole).where(KbArticleRole.article_id == article_id))
    for role_id in ids:
        work.session.add(KbArticleRole(article_id=article_id, portal_role_id=role_id))
    work.session.flush()


def _record(
    work: UnitOfWork, article: KbArticle, action: str, actor_id: int | None, before: Any, after: Any
) -> None:
    audit.record(
        work,
        actor_id=actor_id,
        entity="kb_article",
        entity_id=ref(article),
        action=action,
        before=before,
        after=after,
    )


def create(
    work: UnitOfWork,
    *,
    title: str,
    body: str,
    format: str = "markdown",
    category: str = "",
    portal_roles: list[str] | None = None,
    actor_id: int | None,
) -> KbArticle:
    """A new draft article (never visible to customers until published); a category name
    not yet known becomes a new top-level category."""
    values = _checked({"title": title, "body": body, "format": format, "category": category})
    ids = role_ids(work, portal_roles or [])
    kb_categories.ensure(work, values["category"], actor_id=actor_id)
    article = KbArticle(
        **values,
        state="draft",
        author_id=actor_id,
        created_at=work.now,
        updated_at=work.now,
        row_version=1,
    )
    work.session.add(article)
    work.session.flush()
    _set_roles(work, article.id, ids)
    after = {**values, "portal_roles": roles_of(work, article.id)}
    _record(work, article, "created", actor_id, None, after)
    return article


def _store(work: UnitOfWork, article: KbArticle, values: dict[str, Any]) -> None:
    """One UPDATE of the article, only if nobody changed it since it was read."""
    result = work.session.execute(
        update(KbArticle)
        .where(KbArticle.id == article.id, KbArticle.row_version == article.row_version)
        .values(**values, updated_at=work.now, row_version=article.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    if not isinstance(result, CursorResult) or result.rowcount != 1:
        raise Conflict(
            f"article {ref(article)} was changed by someone else at the same moment; "
            "reload it and try again"
        )
    work.session.refresh(article)


def edit(
    work: UnitOfWork,
    article: KbArticle,
    *,
    changes: dict[str, Any],
    portal_roles: list[str] | None = None,
    actor_id: int | None,
) -> dict[str, Any]:
    """Change title, body, format or category, and/or whom the portal shows it to;
    answers what changed (nothing: empty)."""
    values = _checked({k: v for k, v in changes.items() if v is not None})
    changed = {k: v for k, v in values.items() if getattr(article, k) != v}
    before = {k: getattr(article, k) for k in changed}
    if portal_roles is not None:
        old = roles_of(work, article.id)
        _set_roles(work, article.id, role_ids(work, portal_roles))
        new = roles_of(work, article.id)
        if new != old:
            before["portal_roles"], changed["portal_roles"] = old, new
    if not changed:
        return {}
    if "category" in changed:
        kb_categories.ensure(work, changed["category"], actor_id=actor_id)
    _store(work, article, {k: v for k, v in changed.items() if k != "portal_roles"})
    _record(work, article, "edited", actor_id, before, changed)
    return changed


def move(work: UnitOfWork, article: KbArticle, state: str, *, actor_id: int | None) -> None:
    """Move the article to ``state`` along :data:`TRANSITIONS`; anything else is a conflict
    naming where it may go."""
    if state not in STATES:
        raise InvalidInput("invalid state", {"state": f"one of {', '.join(STATES)}"})
    allowed = TRANSITIONS[article.state]
    if state not in allowed:
        raise Conflict(
            f"article {ref(article)} is {article.state}; it can only become " + " or ".join(allowed)
        )
    before = article.state
    values: dict[str, Any] = {"state": state}
    if state == "published":
        values["published_at"] = work.now
    _store(work, article, values)
    _record(work, article, state, actor_id, {"state": before}, {"state": state})


def linked_ids(work: UnitOfWork, case_id: int) -> list[int]:
    """The ids of the articles linked to a case, in the order they were linked."""
    return list(
        work.session.scalars(
            select(KbCaseLink.article_id)
            .where(KbCaseLink.case_id == case_id)
            .order_by(KbCaseLink.created_at, KbCaseLink.article_id)
        )
    )


def set_link(
    work: UnitOfWork, case: Case, article: KbArticle, *, present: bool, actor_id: int | None
) -> bool:
    """Relate the article to the case or stop relating it; whether anything changed.
    Audited on the case."""
    link = work.session.get(KbCaseLink, (case.id, article.id))
    if (link is not None) == present:
        return False
    if present:
        work.session.add(
            KbCaseLink(
                case_id=case.id, article_id=article.id, linked_by=actor_id, created_at=work.now
            )
        )
    else:
        work.session.delete(link)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action="article_linked" if present else "article_unlinked",
        after={"article": ref(article), "title": article.title},
    )
    return True


def all_roles(work: UnitOfWork) -> list[str]:
    """The names of every portal role, for an editor choosing whom to show an article."""
    return list(work.session.scalars(select(PortalRole.name).order_by(PortalRole.name)))
