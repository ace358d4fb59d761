"""The knowledge base as one user may see and change it: the only door of every KB act.

Who sees which article, decided in SQL (:func:`article_filter`) so that a list, a search,
a suggestion and a single article by id all ask the same question:

* administrators, and members of a group with the ``edit`` KB permission: every article;
* members of a group with the ``read`` KB permission: published articles;
* a portal customer: published articles shown to their portal role, nothing else;
* anyone else: nothing.

An article the user may not see answers "not found", exactly like one that does not
exist; one they see but may not change answers "forbidden".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, select, true

from engine import audit
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.run import kb as engine_kb
from engine.run import kb_categories
from engine.runtime import UnitOfWork
from engine.store import search as store
from engine.store.access import PortalMembership
from engine.store.kb import KbArticle, KbArticleRole, KbCaseLink, KbPermission
from engine.store.models import Case, User
from people.directory import group_by_name

from .levels import Level
from .search import MAX_LIMIT, snippet
from .subject import Subject
from .visibility import case_filter

#: A group's KB permission; ``none`` removes it.
PERMISSIONS = ("none", "read", "edit")


def kb_level(work: UnitOfWork, subject: Subject) -> str:
    """``edit``, ``read`` or ``none``: what the user's groups give them (administrators
    edit; customers have none of their own, the portal role decides for them)."""
    if subject.is_admin:
        return "edit"
    if subject.portal is not None or not subject.group_ids:
        return "none"
    levels = set(
        work.session.scalars(
            select(KbPermission.level).where(KbPermission.group_id.in_(subject.group_ids))
        )
    )
    return "edit" if "edit" in levels else "read" if "read" in levels else "none"


def permit(work: UnitOfWork, *, group: str, level: str, actor_id: int | None = None) -> None:
    """Give a group's members the KB permission ``read`` or ``edit`` (``none``: take it)."""
    if level not in PERMISSIONS:
        raise InvalidInput("invalid permission", {"level": f"one of {', '.join(PERMISSIONS)}"})
    grp = group_by_name(work, group)
    row = work.session.get(KbPermission, grp.id)
    if level == "none" and row is not None:
        work.session.delete(row)
    elif level != "none" and row is None:
        work.session.add(KbPermission(group_id=grp.id, level=level))
    elif row is not None:
        row.level = level
    audit.record(
        work,
        actor_id=actor_id,
        entity="permission",
        entity_id=f"{group}:kb",
        action="kb",
        after={"group": group, "level": level},
    )


def _portal_role(work: UnitOfWork, subject: Subject) -> int | None:
    return work.session.scalar(
        select(PortalMembership.portal_role_id).where(PortalMembership.user_id == subject.user_id)
    )


def article_filter(work: UnitOfWork, subject: Subject) -> ColumnElement[bool]:
    """The articles ``subject`` may see, as a condition on :class:`KbArticle`."""
    published = KbArticle.state == "published"
    if subject.portal is not None:
        role = _portal_role(work, subject)
        if role is None:
            return false()
        shown = exists().where(
            KbArticleRole.article_id == KbArticle.id, KbArticleRole.portal_role_id == role
        )
        return and_(published, shown)
    level = kb_level(work, subject)
    return true() if level == "edit" else published if level == "read" else false()


def visible_article(work: UnitOfWork, subject: Subject, ref: str) -> KbArticle:
    article = engine_kb.article_by_ref(work, ref)
    seen = work.session.scalar(
        select(KbArticle.id).where(KbArticle.id == article.id, article_filter(work, subject))
    )
    if seen is None:
        raise NotFound(f"no article {ref}")
    return article


def require_editor(work: UnitOfWork, subject: Subject) -> None:
    """Refuse ("forbidden") anyone who may not write articles."""
    if kb_level(work, subject) != "edit":
        raise Forbidden(f"{subject.username} may not edit knowledge base articles")


def _editable(work: UnitOfWork, subject: Subject, ref: str) -> KbArticle:
    article = visible_article(work, subject, ref)
    require_editor(work, subject)
    return article


def _summary(article: KbArticle, customer: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": engine_kb.ref(article),
        "title": article.title,
        "category": article.category,
        "format": article.format,
        "published_at": article.published_at,
    }
    if not customer:
        answer["state"] = article.state
        answer["updated_at"] = article.updated_at
    return answer


def listed(work: UnitOfWork, subject: Subject, rows: list[KbArticle]) -> list[dict[str, Any]]:
    return [_summary(a, subject.portal is not None) for a in rows]


def list_articles(
    work: UnitOfWork, subject: Subject, *, state: str | None = None, category: str | None = None
) -> list[dict[str, Any]]:
    """The articles the user may see, by category and title (optionally of one state, or
    of one category and every category inside it)."""
    if state is not None and state not in engine_kb.STATES:
        raise InvalidInput("invalid state", {"state": f"one of {', '.join(engine_kb.STATES)}"})
    query = select(KbArticle).where(article_filter(work, subject))
    if state is not None:
        query = query.where(KbArticle.state == state)
    if category:
        query = query.where(KbArticle.category.in_(kb_categories.within(work, category)))
    rows = work.session.scalars(query.order_by(KbArticle.category, KbArticle.title)).all()
    return listed(work, subject, list(rows))


def show(work: UnitOfWork, subject: Subject, ref: str) -> dict[str, Any]:
    """One article as the user may see it: customers get its text only; agents also its
    state, portal roles, author and the cases it is linked to that they may read."""
    article = visible_article(work, subject, ref)
    answer = {**_summary(article, subject.portal is not None), "body": article.body}
    if subject.portal is None:
        author = work.session.get(User, article.author_id) if article.author_id else None
        answer["author"] = author.username if author else None
        answer["portal_roles"] = engine_kb.roles_of(work, article.id)
        answer["cases"] = _linked_cases(work, subject, article.id)
        answer["editable"] = kb_level(work, subject) == "edit"
        answer["next_states"] = list(engine_kb.TRANSITIONS[article.state])
    return answer


def _linked_cases(work: UnitOfWork, subject: Subject, article_id: int) -> list[str]:
    return list(
        work.session.scalars(
            select(Case.number)
            .join(KbCaseLink, KbCaseLink.case_id == Case.id)
            .where(KbCaseLink.article_id == article_id, case_filter(subject, Level.READ))
            .order_by(Case.id)
        )
    )


def add(
    work: UnitOfWork,
    subject: Subject,
    *,
    title: str,
    body: str,
    format: str = "markdown",
    category: str = "",
    portal_roles: list[str] | None = None,
) -> dict[str, Any]:
    """A new draft article (editors)."""
    require_editor(work, subject)
    article = engine_kb.create(
        work,
        title=title,
        body=body,
        format=format,
        category=category,
        portal_roles=portal_roles,
        actor_id=subject.user_id,
    )
    return show(work, subject, engine_kb.ref(article))


def edit(
    work: UnitOfWork,
    subject: Subject,
    ref: str,
    *,
    changes: dict[str, Any],
    portal_roles: list[str] | None = None,
) -> dict[str, Any]:
    """Change an article (editors); answers it as it is now, with what changed."""
    article = _editable(work, subject, ref)
    changed = engine_kb.edit(
        work, article, changes=changes, portal_roles=portal_roles, actor_id=subject.user_id
    )
    return {**show(work, subject, ref), "changed": sorted(changed)}


def set_state(work: UnitOfWork, subject: Subject, ref: str, state: str) -> dict[str, Any]:
    """Publish, archive or return an article to draft (editors; valid transitions only)."""
    article = _editable(work, subject, ref)
    engine_kb.move(work, article, state, actor_id=subject.user_id)
    return show(work, subject, ref)


def search(work: UnitOfWork, subject: Subject, text: str, *, limit: int = 20) -> dict[str, Any]:
    """Articles the user may see holding every word of ``text`` (title or body), newest
    first, at most ``limit``; ``more`` says whether more of them exist."""
    found = store.words(text)
    if not found:
        raise InvalidInput("nothing to search for", {"q": "give at least one word"})
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("invalid limit", {"limit": f"a whole number from 1 to {MAX_LIMIT}"})
    m = store.match(work.session.get_bind().dialect.name, "kb_articles", found)
    query = select(KbArticle).where(article_filter(work, subject))
    if m.fts is not None and m.on is not None:
        query = query.join(m.fts, m.on)
    query = query.where(m.where).order_by(m.order.desc()).limit(limit + 1)
    rows = list(work.session.scalars(query))
    hits = [
        {**summary, "snippet": snippet(article.body, found)}
        for article, summary in zip(rows[:limit], listed(work, subject, rows[:limit]), strict=True)
    ]
    return {"query": text, "words": found, "more": len(rows) > limit, "articles": hits}
