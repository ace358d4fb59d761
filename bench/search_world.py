"""The world the search bench searches: cases over case types, customers and groups, stream
posts of Zipf-distributed words, and one user of each kind of searcher.

Every row goes into the product's own tables with the columns the product writes.  On
PostgreSQL the cases and posts are made by the server itself (``INSERT ... SELECT`` over
``generate_series``, words drawn from a vocabulary array), with the tables' secondary
indexes -- the GIN search indexes included -- dropped during the load and rebuilt after,
as an operator would for an import: 1M posts load in about a minute.  On SQLite they are
inserted in batches (the triggers fill FTS5 as in production).

Word frequencies follow Zipf's law (word of rank k in about 1/k of the draws): a few words
are in most posts, most words are rare.  Who sees what:

* ``admin`` -- an administrator: every case but the restricted ones granted to others.
* ``agent_big`` -- group "service": 5 of 10 case types (write) x 20 of 40 customers, a
  quarter of the cases, and the restricted cases granted to the group.
* ``agent_small`` -- group "billing": 1 case type x 1 customer (1 in 400 cases), and
  collaborator on a few cases elsewhere.
* ``customer`` -- a portal contact ("own" role) named on 20 cases, some hidden from the
  portal; a fifth of all posts are internal, which customers never find.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from bench.bulk_case_types import insert_case_types
from engine.runtime import Runtime
from engine.store.access import (
    CaseAccess,
    CaseCollaborator,
    CaseGrant,
    CaseTypePermission,
    CustomerPermission,
    PortalMembership,
    PortalRole,
)
from engine.store.models import (
    Case,
    Contact,
    CustomerGroup,
    Group,
    Membership,
    StreamPost,
    User,
)

N_TYPES, N_CUSTOMERS, N_CONTACTS, VOCABULARY, WORDS_PER_POST = 10, 40, 2_000, 5_000, 12
POSTS_PER_CASE, CUSTOMER_CASES, N_USERS = 10, 20, 12
#: user ids of the searchers (see the module's docstring)
SEARCHERS = {"admin": 1, "agent_big": 2, "agent_small": 3, "customer": 4}
_T = {m.__name__: m.__table__ for m in (CustomerGroup, Group, User)}


def vocabulary(rnd: random.Random) -> list[str]:
    """Made-up words (2-4 syllables), shortest first: rank 1 is the most frequent."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rnd.choice(syllables) for _ in range(rnd.randint(2, 4))))
    return sorted(words, key=lambda w: (len(w), w))


def populate(rt: Runtime, n_posts: int, words: list[str], seed: int = 11) -> None:
    """Fill the empty store of ``rt`` with the world above and ``n_posts`` posts."""
    rnd = random.Random(seed)
    n_cases = max(CUSTOMER_CASES * 2, n_posts // POSTS_PER_CASE)
    now = datetime.now(UTC)
    with rt.db.begin() as c:
        _people(c, rnd, words, now)
    if rt.db.dialect.name == "postgresql":
        _pg_bulk(rt, n_cases, n_posts, words, now)
    else:
        _sqlite_rows(rt, n_cases, n_posts, words, now, rnd)
    with rt.db.begin() as c:
        _access(c, n_cases, rnd)


def _people(c: Connection, rnd: random.Random, words: list[str], now: datetime) -> None:
    c.execute(
        insert(_T["CustomerGroup"]),
        [{"id": i + 1, "name": f"customer-{i}"} for i in range(N_CUSTOMERS)],
    )
    insert_case_types(c, N_TYPES, key="T", prefix="S", now=now)
    c.execute(
        insert(_T["Group"]),
        [
            {"id": 1, "name": "service", "created_at": now},
            {"id": 2, "name": "billing", "created_at": now},
        ],
    )
    c.execute(
        insert(CaseTypePermission.__table__),
        [{"group_id": 1, "case_type_id": k, "level": "write"} for k in range(1, 6)]
        + [{"group_id": 2, "case_type_id": 1, "level": "read"}],
    )
    c.execute(
        insert(CustomerPermission.__table__),
        [{"group_id": 1, "customer_group_id": k} for k in range(1, 21)]
        + [{"group_id": 2, "customer_group_id": 1}],
    )
    c.execute(
        insert(_T["User"]),
        [
            {
                "id": i + 1,
                "username": f"user{i}",
                "display_name": "",
                "is_admin": i + 1 == SEARCHERS["admin"],
                "is_active": True,
                "created_at": now,
            }
            for i in range(N_USERS)
        ],
    )
    c.execute(
        insert(Membership.__table__),
        [
            {"user_id": SEARCHERS["agent_big"], "group_id": 1, "created_at": now},
            {"user_id": SEARCHERS["agent_small"], "group_id": 2, "created_at": now},
        ],
    )
    c.execute(
        insert(Contact.__table__),
        [
            {
                "id": i + 1,
                "name": " ".join(rnd.choices(words, k=2)).title(),
                "email": f"{rnd.choice(words)}@{rnd.choice(words)}.example",
                "customer_group_id": (i % N_CUSTOMERS) + 1,
                "user_id": SEARCHERS["customer"] if i == 0 else None,
            }
            for i in range(N_CONTACTS)
        ],
    )
    c.execute(
        insert(PortalRole.__table__),
        [
            {
                "id": 1,
                "name": "own",
                "view_level": "own",
                "edit_level": "own",
                "parent_visibility": False,
            }
        ],
    )
    c.execute(
        insert(PortalMembership.__table__),
        [{"user_id": SEARCHERS["customer"], "portal_role_id": 1}],
    )


def _access(c: Connection, n_cases: int, rnd: random.Random) -> None:
    """1% of the cases restricted (half of them granted to "service"), a few hidden from the
    portal (two of the customer's among them), "billing"'s agent collaborating on 30."""
    restricted = rnd.sample(range(1, n_cases + 1), max(2, n_cases // 100))
    own = [_own_case(k, n_cases) for k in range(1, CUSTOMER_CASES + 1)]
    hidden = set(own[:2]) | set(rnd.sample(range(1, n_cases + 1), max(2, n_cases // 200)))
    rows: dict[int, dict[str, Any]] = {}
    for case_id in restricted:
        rows[case_id] = {"case_id": case_id, "restricted": True, "hidden_from_portal": False}
    for case_id in hidden:
        rows.setdefault(case_id, {"case_id": case_id, "restricted": False})
        rows[case_id]["hidden_from_portal"] = True
    c.execute(insert(CaseAccess.__table__), list(rows.values()))
    c.execute(
        insert(CaseGrant.__table__),
        [{"case_id": k, "group_id": 1, "level": "read"} for k in restricted[::2]],
    )
    c.execute(
        insert(CaseCollaborator.__table__),
        [
            {"case_id": k, "user_id": SEARCHERS["agent_small"]}
            for k in rnd.sample(range(1, n_cases + 1), 30)
        ],
    )


def _own_case(k: int, n_cases: int) -> int:
    """The id of the customer's k-th case (1-based), spread evenly over all cases."""
    return k * (n_cases // CUSTOMER_CASES)


def _pg_bulk(rt: Runtime, n_cases: int, n_posts: int, words: list[str], now: datetime) -> None:
    """Cases and posts made by the server, the secondary indexes rebuilt after the load."""
    draw = "w[floor(exp(random() * ln(cardinality(w))))::int]"  # P(rank k) ~ 1/k

    def sentence(n: int) -> str:
        return " || ' ' || ".join([draw] * n)

    step = n_cases // CUSTOMER_CASES
    raw = rt.db.raw_connection()
    try:
        cur = raw.cursor()
        indexes = _drop_indexes(cur, ("cases", "stream_posts"))
        cur.execute(
            f"""INSERT INTO cases (id, number, subject, status, case_type_id, version_id,
                 customer_group_id, main_contact_id, raiser_id, priority, created_at,
                 updated_at, workflow_state, row_version)
            SELECT g, 'S-' || lpad(g::text, 7, '0'), {sentence(5)}, 'open', t, t,
                   mod(c - 1, {N_CUSTOMERS}) + 1, c, NULL, 'normal', at, at, '', 1
            FROM (SELECT g, 1 + floor(random() * {N_TYPES})::int AS t,
                         CASE WHEN mod(g, {step}) = 0 AND g <= {step * CUSTOMER_CASES} THEN 1
                              ELSE 2 + floor(random() * {N_CONTACTS - 1})::int END AS c,
                         %(now)s - make_interval(mins => {n_cases} - g) AS at
                  FROM generate_series(1, {n_cases}) g) s, (SELECT %(w)s::text[] AS w) v""",
            {"now": now, "w": words},
        )
        cur.execute(
            f"""INSERT INTO stream_posts (id, case_id, author_id, body, internal, created_at)
            SELECT g, 1 + floor(random() * {n_cases})::int,
                   CASE WHEN random() < 0.3 THEN NULL
                        ELSE 5 + floor(random() * {N_USERS - 4})::int END,
                   {sentence(WORDS_PER_POST)}, random() < 0.2,
                   %(now)s - make_interval(secs => {n_posts} - g)
            FROM generate_series(1, {n_posts}) g, (SELECT %(w)s::text[] AS w) v""",
            {"now": now, "w": words},
        )
        for table in ("cases", "stream_posts"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        cur.execute("SET maintenance_work_mem = '256MB'")
        for definition in indexes:
            cur.execute(definition)
        raw.commit()
    finally:
        raw.close()


def _drop_indexes(cur: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' indexes that back no constraint; their definitions, to rebuild."""
    cur.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                             WHERE k.conname = i.indexname
                               AND k.connamespace = current_schema()::regnamespace)""",
        (list(tables),),
    )
    found = cur.fetchall()
    for name, _ in found:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def _sqlite_rows(
    rt: Runtime, n_cases: int, n_posts: int, words: list[str], now: datetime, rnd: random.Random
) -> None:
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    step = n_cases // CUSTOMER_CASES
    with rt.db.begin() as c:
        cases = []
        for g in range(1, n_cases + 1):
            own = g % step == 0 and g <= step * CUSTOMER_CASES
            contact = 1 if own else rnd.randint(2, N_CONTACTS)
            kind = rnd.randint(1, N_TYPES)
            at = now - timedelta(minutes=n_cases - g)
            cases.append(
                {
                    "id": g,
                    "number": f"S-{g:07d}",
                    "subject": " ".join(rnd.choices(words, cum_weights=cumulative, k=5)),
                    "status": "open",
                    "case_type_id": kind,
                    "version_id": kind,
                    "customer_group_id": ((contact - 1) % N_CUSTOMERS) + 1,
                    "main_contact_id": contact,
                    "priority": "normal",
                    "created_at": at,
                    "updated_at": at,
                    "workflow_state": "",
                    "row_version": 1,
                }
            )
            if len(cases) == 20_000 or g == n_cases:
                c.execute(insert(Case.__table__), cases)
                cases = []
        posts = []
        for g in range(1, n_posts + 1):
            posts.append(
                {
                    "id": g,
                    "case_id": rnd.randint(1, n_cases),
                    "author_id": None if rnd.random() < 0.3 else rnd.randint(5, N_USERS),
                    "body": " ".join(rnd.choices(words, cum_weights=cumulative, k=WORDS_PER_POST)),
                    "internal": rnd.random() < 0.2,
                    "created_at": now - timedelta(seconds=n_posts - g),
                }
            )
            if len(posts) == 50_000 or g == n_posts:
                c.execute(insert(StreamPost.__table__), posts)
                posts = []
