"""Every column type the models use round-trips exactly through prepared statements.

``store/fast.Prepared`` converts parameters and results with the column types' own
processors, taken from SQLAlchemy's public API (``type.dialect_impl(dialect)``).  If a
SQLAlchemy release changed what those give, the hot path would store or read values the
ORM would not; this test fails loudly then, on SQLite and on PostgreSQL.  A column type
the models start using without samples here fails it too, so it is covered first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.types import TypeEngine

import engine.store.access
import engine.store.credentials
import engine.store.kb
import engine.store.mailbox
import engine.store.outbox
import engine.store.sla  # noqa: F401 - registers every table on Base.metadata
from engine.runtime import Runtime
from engine.store.fast import Prepared, prepared_insert
from engine.store.models import Base
from engine.store.types import UTCDateTime

SAMPLES: dict[type[TypeEngine[Any]], list[Any]] = {
    BigInteger: [2**62, -(2**62), 0, None],
    Boolean: [True, False, None],
    Float: [0.1, -1.5e300, 0.0],
    Integer: [2**31 - 1, -(2**31), 0],
    JSON: [{"ü": ["✓", 2.5, None, True], "n": {"deep": [1, 2]}}, ["x", 'q"uote'], "text", 7],
    LargeBinary: [bytes(range(256)), b"", b"\x00\xff"],
    String: ["naïve ✓ 'single' \"double\" \\ %s ? :name", "", "x" * 320],
    Text: ["line one\nline two\r\n\ttabbed ✓ " * 200, ""],
    UTCDateTime: [
        datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ],
}


def _column(kind: type[TypeEngine[Any]]) -> Column[Any]:
    type_ = kind(500) if kind is String else kind()  # type: ignore[call-arg]
    return Column(kind.__name__.lower(), type_)


TABLE = Table(
    "round_trip",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    *(_column(kind) for kind in SAMPLES),
)
ROWS = [
    {
        "id": n,
        **{kind.__name__.lower(): values[n % len(values)] for kind, values in SAMPLES.items()},
    }
    for n in range(max(len(values) for values in SAMPLES.values()))
]
EXPECTED = [tuple(row.values()) for row in ROWS]


def test_every_column_type_of_the_models_has_samples():
    used = {
        type(column.type) for table in Base.metadata.tables.values() for column in table.columns
    }
    assert used - set(SAMPLES) == set(), "add samples for these column types"


def test_values_round_trip_exactly_through_prepared_statements(runtime: Runtime):
    TABLE.create(runtime.db)
    insert_one = prepared_insert(TABLE, list(ROWS[0]))
    read = Prepared(select(TABLE).order_by(TABLE.c.id))
    with runtime.unit() as work:
        insert_one.execute(work.session, ROWS[0])
        insert_one.execute_many(work.session, ROWS[1:])
    with runtime.unit() as work:
        prepared = read.rows(work.session, {})
        core = [tuple(row) for row in work.session.execute(select(TABLE).order_by(TABLE.c.id))]
    assert prepared == EXPECTED  # read back by the hot path: what was written
    assert core == EXPECTED  # read back by SQLAlchemy: stored as SQLAlchemy stores it
    assert all(row[-1] is None or row[-1].tzinfo is UTC for row in prepared)
