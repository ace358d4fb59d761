"""How PostgreSQL finds the newest posts holding some words that one user may read.

Two ways, chosen by how many cases the user may read (both keep the one visibility filter,
:func:`rules.visibility.case_filter`, on every case a post is returned for):

* Who may read at most :data:`FEW_CASES` cases (a customer, an agent of a small group) gets
  their readable cases listed first and only the posts of those cases searched: the newest
  matches of a common word are nearly all on cases they may not read, and filtering them
  away one batch after the other would read most of the posts.
* Who may read more gets the matching posts newest first, from the GIN index within windows
  of the newest post ids (the index then intersects the primary key's range instead of
  handing over every match of a common word to be sorted), then their cases filtered by
  primary key -- never a join the planner may turn into a scan of every case when it
  misjudges how many posts match.
"""

from __future__ import annotations

from sqlalchemy import ARRAY, ColumnElement, Integer, any_, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute

from engine.runtime import UnitOfWork
from engine.store import search as store
from engine.store.models import Case, StreamPost

from .levels import Level
from .subject import Subject
from .visibility import case_filter

#: A user who may read at most this many cases gets the posts of exactly those searched.
FEW_CASES = 3_000
#: The first window is the newest this many post ids, each next one 8 times larger.
FIRST_WINDOW = 20_000
#: At most this many matches are taken from one window at a time.
BATCH = 2_000
_CHUNK = 5_000


def few_cases(work: UnitOfWork, subject: Subject) -> list[int] | None:
    """The ids of the cases the subject may read when they are at most :data:`FEW_CASES`,
    else None (found out by reading one more than that, never all of them).  SQLite's
    search asks it for customers too (:mod:`rules.search`)."""
    if subject.is_admin:  # sees every case but a few restricted ones
        return None
    readable = select(Case.id).where(case_filter(subject, Level.READ)).limit(FEW_CASES + 1)
    if work.session.get_bind().dialect.name == "postgresql":
        # one array in one row: thousands of one-id rows cost more to fetch than to find
        found = work.session.scalar(select(func.array_agg(readable.subquery().c.id)))
        ids = list(found or [])
    else:
        ids = list(work.session.scalars(readable))
    return ids if len(ids) <= FEW_CASES else None


def among(
    column: ColumnElement[int] | InstrumentedAttribute[int], ids: list[int]
) -> ColumnElement[bool]:
    """``column = ANY(:ids)``: one array parameter, whose size the planner sees."""
    return column == any_(bindparam("few_ids", ids, type_=ARRAY(Integer)))


def post_ids(
    work: UnitOfWork,
    subject: Subject,
    found: list[str],
    customer: bool,
    wanted: int,
    few: list[int] | None,
) -> list[int]:
    """Ids of the newest ``wanted`` posts holding the words that the subject may read
    (``few``: their readable cases from :func:`few_cases`, or None when many)."""
    m = store.match("postgresql", "stream_posts", found)
    if few is not None:
        if not few:
            return []
        mine = select(StreamPost.id).where(among(StreamPost.case_id, few), m.where)
        if customer:
            mine = mine.where(StreamPost.internal.is_(False))
        return list(work.session.scalars(mine.order_by(m.order.desc()).limit(wanted)))
    top = work.session.scalar(select(func.max(StreamPost.id)))
    if top is None:
        return []
    chosen: list[int] = []
    high, width = top, FIRST_WINDOW
    while len(chosen) < wanted and high > 0:
        low = max(0, high - width)
        below = high + 1
        while len(chosen) < wanted:  # the window's matches, a batch at a time
            query = select(StreamPost.id, StreamPost.case_id).where(
                m.where, StreamPost.id > low, StreamPost.id < below
            )
            if customer:
                query = query.where(StreamPost.internal.is_(False))
            rows = work.session.execute(query.order_by(m.order.desc()).limit(BATCH)).all()
            visible = _readable(work, subject, {case_id for _, case_id in rows})
            chosen += [post_id for post_id, case_id in rows if case_id in visible]
            if len(rows) < BATCH:
                break
            below = rows[-1][0]
        high, width = low, width * 8
    return chosen[:wanted]


def _readable(work: UnitOfWork, subject: Subject, cases: set[int]) -> set[int]:
    """Which of ``cases`` the subject may read, by primary key in chunks (each one array
    parameter: thousands of ``IN`` parameters cost more to write out than to look up)."""
    ordered, visible = sorted(cases), set[int]()
    for start in range(0, len(ordered), _CHUNK):
        visible.update(
            work.session.scalars(
                select(Case.id).where(
                    among(Case.id, ordered[start : start + _CHUNK]),
                    case_filter(subject, Level.READ),
                )
            )
        )
    return visible
