"""Tables of the knowledge base: articles, who may read or edit them, and their cases.

An article moves ``draft → published → archived`` (and back to draft to rework it); its
category names a row of ``kb_categories``, which may sit inside a parent category (a
tree: ``engine.run.kb_categories`` refuses a cycle).  Customers see a published article
only when it is shown to their portal role (``kb_article_roles``); agents read and edit
by a group permission (``kb_permissions``).  The search index over title and body is
built by migration 0029 beside the other search indexes (:mod:`engine.store.search`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class KbArticle(Base):
    """One article; ``row_version`` keeps two editors from overwriting each other."""

    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(10), default="markdown")  # text | markdown
    category: Mapped[str] = mapped_column(String(100), default="", index=True)
    state: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class KbCategory(Base):
    """A category of articles; ``parent_id`` puts it inside another one.  Names are unique
    across the whole tree, so an article names its category by name alone."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), index=True)
    created_at: Mapped[datetime]


class KbArticleRole(Base):
    """The article is shown in the portal to customers of this portal role."""

    __tablename__ = "kb_article_roles"
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    portal_role_id: Mapped[int] = mapped_column(
        ForeignKey("portal_roles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KbPermission(Base):
    """A group's members read (``read``) or also write and publish (``edit``) articles."""

    __tablename__ = "kb_permissions"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(10))  # read | edit


class KbCaseLink(Base):
    """An article related to a case (the case's "knowledge base" card)."""

    __tablename__ = "kb_case_links"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
