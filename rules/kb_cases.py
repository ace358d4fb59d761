"""The knowledge base beside a case: articles linked to it, articles suggested by its
words, and an article's text to insert into a reply.

Each asks the case's decision first (a case the user may not see is "not found") and then
:func:`rules.kb.article_filter`, so a customer is never suggested, shown or handed the text
of an article that is a draft or not shown to their portal role.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.errors import Conflict, Forbidden
from engine.run import kb as engine_kb
from engine.runtime import UnitOfWork
from engine.store import search as store
from engine.store.kb import KbArticle
from engine.store.models import Case, StreamPost

from .case_acts import case_for_action
from .checks import reads_internal_posts
from .kb import article_filter, listed, visible_article
from .subject import Subject

#: Words too common to suggest an article by.
_COMMON_WORDS = (
    "the and for with from that this have has not but are was were you your our can cannot "
    "please help need again when what why how into out all any its hello thanks"
)
_COMMON = frozenset(_COMMON_WORDS.split())
SUGGESTIONS = 5


def linked(work: UnitOfWork, subject: Subject, number: str) -> list[dict[str, Any]]:
    """The articles linked to a case the user may read, those the user may see."""
    case, _ = case_for_action(work, subject, number, "read")
    ids = engine_kb.linked_ids(work, case.id)
    rows = work.session.scalars(
        select(KbArticle).where(KbArticle.id.in_(ids), article_filter(work, subject))
    ).all()
    by_id = {a.id: a for a in rows}
    return listed(work, subject, [by_id[i] for i in ids if i in by_id])


def set_link(
    work: UnitOfWork, subject: Subject, number: str, ref: str, *, present: bool
) -> tuple[bool, list[dict[str, Any]]]:
    """Relate an article to a case, or stop (those who work the case - agents who may
    post internally - and may see the article); audited on the case."""
    case, _ = case_for_action(work, subject, number, "post_internal")
    article = visible_article(work, subject, ref)
    changed = engine_kb.set_link(work, case, article, present=present, actor_id=subject.user_id)
    return changed, linked(work, subject, number)


def _case_words(work: UnitOfWork, subject: Subject, case: Case) -> list[str]:
    first = select(StreamPost.body).where(StreamPost.case_id == case.id)
    if not reads_internal_posts(subject):
        first = first.where(StreamPost.internal.is_(False))
    description = work.session.scalar(first.order_by(StreamPost.id).limit(1)) or ""
    found: list[str] = []
    for word in store.words(case.subject) + store.words(description):
        if len(word) > 2 and word not in _COMMON and not word.isdigit() and word not in found:
            found.append(word)
    return found[: store.MAX_WORDS]


def suggestions(
    work: UnitOfWork, subject: Subject, number: str, *, limit: int = SUGGESTIONS
) -> list[dict[str, Any]]:
    """Published articles the user may see that share words with the case's subject and
    description (its first post), the best matches first; none already linked to it."""
    case, _ = case_for_action(work, subject, number, "read")
    found = _case_words(work, subject, case)
    if not found:
        return []
    m = store.match_any(work.session.get_bind().dialect.name, "kb_articles", found)
    query = select(KbArticle).where(
        article_filter(work, subject),
        KbArticle.state == "published",  # meant for the customer's eyes: never a draft
        KbArticle.id.not_in(engine_kb.linked_ids(work, case.id)),
    )
    if m.fts is not None and m.on is not None:
        query = query.join(m.fts, m.on)
    rows = work.session.scalars(
        query.where(m.where).order_by(m.order.desc(), KbArticle.id.desc()).limit(limit)
    ).all()
    return listed(work, subject, list(rows))


def reply_text(work: UnitOfWork, subject: Subject, ref: str) -> dict[str, Any]:
    """A published article's text to put into a reply (a draft or archived one is not
    for customers' eyes: refused)."""
    article = visible_article(work, subject, ref)
    if article.state != "published":
        raise Conflict(
            f"article {engine_kb.ref(article)} is {article.state}; only published articles "
            "go into replies"
        )
    text = f"{article.title}\n\n{article.body.strip()}\n"
    return {"id": engine_kb.ref(article), "title": article.title, "text": text}


def case_card(work: UnitOfWork, subject: Subject, number: str) -> dict[str, Any]:
    """The case page's knowledge base card: linked and suggested articles, for those who
    read the case (a task user who sees only its summary gets none)."""
    try:
        return {
            "linked": linked(work, subject, number),
            "suggested": suggestions(work, subject, number),
        }
    except Forbidden:
        return {"linked": [], "suggested": []}
