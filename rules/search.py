"""Full-text search as one user may see it: case subjects, stream posts and contacts.

Every hit passes the same filters as the lists (:func:`rules.visibility.case_filter` at the
read level, the rule of internal posts, :func:`rules.checks.contact_filter`) inside the
database query itself, so a case, post or contact the user may not see never shapes the
answer: no hit, no snippet, no count, not even whether "more" exist.  Customers search the
subjects and public posts of the cases they see in the portal, never contacts.

The database finds the words (:mod:`engine.store.search`); hits come newest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from engine.errors import InvalidInput
from engine.runtime import UnitOfWork
from engine.store import search as store
from engine.store.models import Case, Contact, CustomerGroup, StreamPost, User

from . import search_pg
from .checks import contact_filter, reads_internal_posts
from .levels import Level
from .subject import Subject
from .visibility import case_filter

KINDS = ("cases", "posts", "contacts")
#: the ids of the cases a user may read when they are few (PostgreSQL), else None
Few = list[int] | None
MAX_LIMIT = 100
SNIPPET = 160


def _wanted(subject: Subject, kinds: Sequence[str]) -> list[str]:
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInput(
            f"unknown kind of search hit {unknown[0]!r}", {"kind": f"one of {', '.join(KINDS)}"}
        )
    chosen = [k for k in KINDS if k in kinds] or list(KINDS)
    if subject.portal is not None:  # customers search their cases, never the directory
        chosen = [k for k in chosen if k != "contacts"]
    return chosen


def _narrowed(query: Select[Any], m: store.Match) -> Select[Any]:
    if m.fts is not None and m.on is not None:
        query = query.join(m.fts, m.on)
    return query.where(m.where).order_by(m.order.desc())


def snippet(body: str, found: list[str], width: int = SNIPPET) -> str:
    """A window of ``body`` around the first word of the search (or its start), on one line."""
    flat = " ".join(body.split())
    at = len(flat)
    for word in found:  # stems match "printers" for "printer": look for the word's root
        root = word[: max(3, len(word) - 3)]
        hit = re.search(r"\b" + re.escape(root), flat, re.IGNORECASE)
        if hit:
            at = min(at, hit.start())
    near_start = at == len(flat) or at < width // 3
    start = 0 if near_start else flat.rfind(" ", 0, at - width // 3) + 1
    text = flat[start : start + width]
    if start + width < len(flat):
        text = text.rsplit(" ", 1)[0] + " …"
    return ("… " if start else "") + text


def _cases(
    work: UnitOfWork, subject: Subject, dialect: str, found: list[str], limit: int, few: Few
) -> tuple[list[dict[str, Any]], bool]:
    query = select(Case.id, Case.number, Case.subject, Case.status, Case.updated_at).where(
        case_filter(subject, Level.READ)
    )
    if few is not None:  # the few readable cases by primary key, not all matches
        query = query.where(_among(dialect, Case.id, few))
    query = _narrowed(query, store.match(dialect, "cases", found)).limit(limit + 1)
    rows = work.session.execute(query).all()
    hits = [
        {"kind": "case", "number": r.number, "subject": r.subject, "status": r.status}
        for r in rows[:limit]
    ]
    return hits, len(rows) > limit


def _posts(
    work: UnitOfWork, subject: Subject, dialect: str, found: list[str], limit: int, few: Few
) -> tuple[list[dict[str, Any]], bool]:
    query = (
        select(
            StreamPost.id,
            StreamPost.body,
            StreamPost.internal,
            StreamPost.created_at,
            StreamPost.author_id,
            Case.number,
            Case.subject,
            User.username,
        )
        .join(Case, Case.id == StreamPost.case_id)
        .outerjoin(User, User.id == StreamPost.author_id)
        .where(case_filter(subject, Level.READ))
    )
    customer = not reads_internal_posts(subject)
    if customer:  # internal posts never reach customers, not even as a search hit
        query = query.where(StreamPost.internal.is_(False))
    if dialect == "sqlite" and few is not None:  # their few posts, each looked up in FTS5
        m = store.match(dialect, "stream_posts", found)
        assert m.fts is not None and m.on is not None
        holds = select(m.fts.c.rowid).where(m.on, m.where).exists()
        query = query.where(_among(dialect, StreamPost.case_id, few), holds)
        query = query.order_by(StreamPost.id.desc()).limit(limit + 1)
    elif dialect == "sqlite":  # FTS5 walks its matches newest first and stops early
        query = _narrowed(query, store.match(dialect, "stream_posts", found)).limit(limit + 1)
    else:  # the filters above stay on: the ids are checked twice, never trusted
        ids = search_pg.post_ids(work, subject, found, customer, limit + 1, few)
        query = query.where(StreamPost.id.in_(ids)).order_by(StreamPost.id.desc())
    rows = work.session.execute(query).all()
    hits = []
    for r in rows[:limit]:
        hit: dict[str, Any] = {
            "kind": "post",
            "id": r.id,
            "case": r.number,
            "case_subject": r.subject,
            "created_at": r.created_at,
            "snippet": snippet(r.body, found),
        }
        if customer:  # the portal names people who work the case by no name
            hit["author"] = "you" if r.author_id == subject.user_id else None
        else:
            hit["author"] = r.username
            hit["internal"] = r.internal
        hits.append(hit)
    return hits, len(rows) > limit


def _contacts(
    work: UnitOfWork, subject: Subject, dialect: str, found: list[str], limit: int, few: Few
) -> tuple[list[dict[str, Any]], bool]:
    query = (
        select(Contact.id, Contact.name, Contact.email, CustomerGroup.name.label("customer"))
        .join(CustomerGroup, CustomerGroup.id == Contact.customer_group_id)
        .where(contact_filter(subject))
    )
    query = _narrowed(query, store.match(dialect, "contacts", found)).limit(limit + 1)
    rows = work.session.execute(query).all()
    hits = [
        {"kind": "contact", "id": r.id, "name": r.name, "email": r.email, "customer": r.customer}
        for r in rows[:limit]
    ]
    return hits, len(rows) > limit


def _among(dialect: str, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids``: one array parameter on PostgreSQL."""
    return search_pg.among(column, ids) if dialect == "postgresql" else column.in_(ids)


_SEARCHES = {"cases": _cases, "posts": _posts, "contacts": _contacts}


def search(
    work: UnitOfWork,
    subject: Subject,
    text: str,
    *,
    kinds: Sequence[str] = (),
    limit: int = 20,
) -> dict[str, Any]:
    """Hits for ``text`` of each kind (all kinds when ``kinds`` is empty), newest first, at
    most ``limit`` of each; ``more`` names the kinds that had more visible hits."""
    found = store.words(text)
    if not found:
        raise InvalidInput("nothing to search for", {"q": "give at least one word"})
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("invalid limit", {"limit": f"a whole number from 1 to {MAX_LIMIT}"})
    dialect = work.session.get_bind().dialect.name
    answer: dict[str, Any] = {"query": text, "words": found, "more": []}
    chosen = _wanted(subject, kinds)
    few = None  # the user's readable cases, when they are few
    # SQLite asks only for a customer's: their cases are found through their own user and
    # contacts (indexes), and FTS5, handing over a common word's matches newest first,
    # would walk most of them before 20 of the customer's turned up (130 ms at 1M posts;
    # their own posts looked up one by one: 3 ms).  An agent's cases would take a pass over
    # every case, and the walk finds theirs soon enough.
    if chosen != ["contacts"] and (dialect == "postgresql" or subject.portal is not None):
        few = search_pg.few_cases(work, subject)
    for kind in chosen:
        hits, more = _SEARCHES[kind](work, subject, dialect, found, limit, few)
        answer[kind] = hits
        if more:
            answer["more"].append(kind)
    for kind in KINDS:
        answer.setdefault(kind, [])
    return answer
