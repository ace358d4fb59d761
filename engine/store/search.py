"""Full-text search in the database: one way to ask "which rows match these words" on each
database, kept beside the migration (0026) that builds the indexes it uses.

SQLite answers from external-content FTS5 tables (``search_cases``, ``search_posts``,
``search_contacts``) that triggers keep in step with their tables; PostgreSQL from GIN
indexes over ``to_tsvector`` expressions, written here exactly as they were indexed.  Both
stem English words for subjects and posts (``printers`` finds ``printer``) and match
contacts word by word (an address splits at ``@`` and ``.``).  Every word must match.

Nothing here decides who may see a hit: :mod:`rules.search` adds the visibility filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    column,
    func,
    literal_column,
    table,
    text,
)
from sqlalchemy.sql.elements import TextClause

from .kb import KbArticle
from .models import Case, Contact, StreamPost

#: The FTS5 tables (SQLite) and the content table each mirrors.
FTS_TABLES = {
    "search_cases": "cases",
    "search_posts": "stream_posts",
    "search_contacts": "contacts",
    "search_kb": "kb_articles",
}
#: Their shadow tables' suffixes: schema comparisons leave all of these alone.
_SHADOW = ("", "_data", "_idx", "_content", "_docsize", "_config")
#: Words longer than this are cut (no word in any language is longer; keeps queries bounded).
MAX_WORD = 60
MAX_WORDS = 12

_WORD = re.compile(r"\w+", re.UNICODE)


#: PostgreSQL's GIN indexes (built by migration 0026 over the expressions below).
GIN_INDEXES = (
    "ix_cases_search",
    "ix_stream_posts_search",
    "ix_contacts_search",
    "ix_kb_articles_search",
)


def is_search_table(name: str | None) -> bool:
    """Whether a table name belongs to the SQLite search index (not a model's table)."""
    return any(name == fts + suffix for fts in FTS_TABLES for suffix in _SHADOW)


def outside_models(name: str | None, kind: str, _parents: object = None) -> bool:
    """Whether a schema object belongs to the search index, which no model declares (an
    FTS5 table, its shadow tables, a GIN expression index): schema comparisons skip it."""
    if kind == "table":
        return is_search_table(name)
    return kind == "index" and name in GIN_INDEXES


def words(query: str) -> list[str]:
    """The words of a query, lower-cased, in order, without repeats; punctuation and search
    operators are dropped, so no input is ever read as query syntax."""
    seen: list[str] = []
    for word in _WORD.findall(query.lower()):
        word = word[:MAX_WORD]
        if word not in seen:
            seen.append(word)
    return seen[:MAX_WORDS]


def _fts(name: str) -> FromClause:
    return table(name, column("rowid"))


def _sqlite_match(name: str, found: list[str]) -> TextClause:
    # every word quoted: FTS5 reads a quoted string as a phrase, never as an operator
    expression = " ".join('"' + w.replace('"', '""') + '"' for w in found)
    return text(f"{name} MATCH :{name}_q").bindparams(**{f"{name}_q": expression})


#: The documents PostgreSQL matches, written exactly as migration 0026 indexed them (the
#: planner uses a GIN expression index only for the very same expression).
_PG_DOCUMENTS = {
    "cases": ("english", "to_tsvector('english', cases.subject)"),
    "stream_posts": ("english", "to_tsvector('english', stream_posts.body)"),
    "contacts": (
        "simple",
        "to_tsvector('simple', contacts.name || ' ' || "
        "translate(coalesce(contacts.email, ''), '@.', '  '))",
    ),
    # migration 0029 (the knowledge base)
    "kb_articles": (
        "english",
        "to_tsvector('english', kb_articles.title || ' ' || kb_articles.body)",
    ),
}


def _pg_match(table_name: str, found: list[str]) -> ColumnElement[bool]:
    config, document = _PG_DOCUMENTS[table_name]
    query = func.plainto_tsquery(literal_column(f"'{config}'"), " ".join(found))
    return literal_column(document).op("@@")(query)


@dataclass(frozen=True)
class Match:
    """How to find the rows of one table that hold every word: on SQLite, join ``fts`` on
    ``on`` and keep ``where``; on PostgreSQL only ``where`` (``fts`` and ``on`` are None)."""

    fts: FromClause | None
    on: ColumnElement[bool] | None
    where: ColumnElement[bool] | TextClause
    #: the matching table's id column (SQLite: the FTS rowid, which walks newest first)
    order: ColumnElement[int]


_IDS: dict[str, ColumnElement[int]] = {
    "cases": Case.id,  # type: ignore[dict-item]
    "stream_posts": StreamPost.id,  # type: ignore[dict-item]
    "contacts": Contact.id,  # type: ignore[dict-item]
    "kb_articles": KbArticle.id,  # type: ignore[dict-item]
}


def match(dialect: str, table_name: str, found: list[str]) -> Match:
    """The rows of ``table_name`` (cases, stream_posts, contacts or kb_articles) holding every
    word."""
    ids = _IDS[table_name]
    if dialect == "sqlite":
        name = next(fts for fts, content in FTS_TABLES.items() if content == table_name)
        fts = _fts(name)
        return Match(fts, fts.c.rowid == ids, _sqlite_match(name, found), fts.c.rowid)
    # "id + 0": newest first, but never by walking the primary key backwards and computing
    # to_tsvector for row after row until enough match (what the planner picks for a word
    # it thinks common); the GIN index finds the rows, a small sort orders them
    return Match(None, None, _pg_match(table_name, found), ids + literal_column("0"))


def match_any(dialect: str, table_name: str, found: list[str]) -> Match:
    """The rows of ``table_name`` holding any of the words, ``order`` their relevance
    (higher is better: more and rarer words), for suggestions rather than searches."""
    ids = _IDS[table_name]
    if dialect == "sqlite":
        name = next(fts for fts, content in FTS_TABLES.items() if content == table_name)
        fts = _fts(name)
        expression = " OR ".join('"' + w.replace('"', '""') + '"' for w in found)
        where = text(f"{name} MATCH :{name}_any").bindparams(**{f"{name}_any": expression})
        return Match(fts, fts.c.rowid == ids, where, -func.bm25(literal_column(name)))
    config, document = _PG_DOCUMENTS[table_name]
    query: ColumnElement[Any] = func.plainto_tsquery(literal_column(f"'{config}'"), found[0])
    for word in found[1:]:  # tsquery || tsquery: either one
        query = query.op("||")(func.plainto_tsquery(literal_column(f"'{config}'"), word))
    vector: ColumnElement[Any] = literal_column(document)
    return Match(None, None, vector.op("@@")(query), func.ts_rank(vector, query))


def rebuild(connection: Connection) -> None:
    """Rebuild SQLite's search index from the tables (after a restore, or a migration that
    recreated a table and with it dropped the triggers; re-run ``init`` for those).
    PostgreSQL's indexes need nothing."""
    if connection.dialect.name != "sqlite":
        return
    for fts in FTS_TABLES:
        connection.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
