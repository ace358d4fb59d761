"""The knowledge base's categories as one user may see and change them.

Anyone who reads the knowledge base browses it by the category tree; each category counts
only the articles the user may see (:func:`rules.kb.article_filter`), and a reader or a
portal customer is shown only the categories that hold such an article, here or below -
so a category of drafts, or of articles for another portal role, never even shows its
name in the portal.  Editors see the whole tree and are the only ones who add, move, rename
or remove a category.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.run import kb_categories as engine_categories
from engine.runtime import UnitOfWork
from engine.store.kb import KbArticle

from .kb import article_filter, kb_level, require_editor
from .subject import Subject


def categories(work: UnitOfWork, subject: Subject) -> list[dict[str, Any]]:
    """The category tree, depth first: each with its ``parent``, ``depth``, ``path``, the
    visible articles in it (``articles``) and in it and below (``total``)."""
    counts: dict[str, int] = {
        name: count
        for name, count in work.session.execute(
            select(KbArticle.category, func.count())
            .where(article_filter(work, subject))
            .group_by(KbArticle.category)
        )
    }
    nodes = engine_categories.tree(work)
    totals = {n.name: counts.get(n.name, 0) for n in nodes}
    for node in reversed(nodes):  # children come after their parent: add them upwards
        if node.parent is not None:
            totals[node.parent] += totals[node.name]
    everything = kb_level(work, subject) == "edit"
    return [
        {
            "name": n.name,
            "parent": n.parent,
            "depth": n.depth,
            "path": n.path,
            "articles": counts.get(n.name, 0),
            "total": totals[n.name],
        }
        for n in nodes
        if everything or totals[n.name] > 0
    ]


def add_category(
    work: UnitOfWork, subject: Subject, name: str, *, parent: str | None = None
) -> dict[str, Any]:
    """A new category at the top or inside ``parent`` (editors)."""
    require_editor(work, subject)
    row = engine_categories.add(work, name, parent=parent, actor_id=subject.user_id)
    return _one(work, subject, row.name)


def move_category(
    work: UnitOfWork, subject: Subject, name: str, *, parent: str | None
) -> dict[str, Any]:
    """Put a category inside ``parent`` or at the top (editors); a cycle is refused."""
    require_editor(work, subject)
    row = engine_categories.move(work, name, parent=parent, actor_id=subject.user_id)
    return _one(work, subject, row.name)


def rename_category(
    work: UnitOfWork, subject: Subject, name: str, *, new_name: str
) -> dict[str, Any]:
    """Give a category a new name, its articles following (editors); a name in use is a
    conflict."""
    require_editor(work, subject)
    row = engine_categories.rename(work, name, new_name, actor_id=subject.user_id)
    return _one(work, subject, row.name)


def remove_category(work: UnitOfWork, subject: Subject, name: str) -> None:
    """Remove an empty category (editors); one holding articles or categories is refused."""
    require_editor(work, subject)
    engine_categories.remove(work, name, actor_id=subject.user_id)


def _one(work: UnitOfWork, subject: Subject, name: str) -> dict[str, Any]:
    return next(c for c in categories(work, subject) if c["name"] == name)
