"""Prepared statements for the hottest writes, executed on the DBAPI cursor.

Each transition of a case writes a handful of rows (the case, its task rows, audit
entries).  Through SQLAlchemy's execution layer every such statement costs tens of
microseconds of Python before the database sees it; a case's lifecycle runs about
twenty of them.  A :class:`Prepared` statement is an ordinary SQLAlchemy Core
statement, compiled once per dialect; its parameters are converted by the column
types' own bind processors (so values are stored exactly as SQLAlchemy would store
them) and it runs on the DBAPI cursor of the session's current transaction.  Hot
reads use :meth:`Prepared.rows`, which converts each column with its type's own result
processor (a datetime comes back as the same aware datetime the ORM would give).  Both
kinds of processor come from SQLAlchemy's public API (``type.dialect_impl(dialect)``),
fetched once per statement and dialect (``tests/engine/store/test_round_trip.py`` checks
every column type the models use against the ORM, on both databases).
Anything not on the hot path keeps using SQLAlchemy as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, String, cast, literal, null, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import DateTime, TypeEngine

_CONNECTION = "casework.prepared_connection"  # session.info key: (transaction, dbapi, dialect)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional order (qmark), or None for named styles
    defaults: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    columns: tuple[TypeEngine[Any], ...]  # the dialect's type of each result column


class Prepared:
    """A Core statement compiled once per dialect and run on the raw cursor."""

    def __init__(self, statement: ClauseElement | Callable[[str], ClauseElement]) -> None:
        """``statement``, or a function of the dialect's name building it (for the
        dialect-specific constructs, such as an upsert)."""
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._results: dict[str, tuple[Callable[[Any], Any] | None, ...]] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        with self._lock:
            statement = self.statement
            if not isinstance(statement, ClauseElement):
                statement = statement(dialect.name)
            compiled = statement.compile(dialect=dialect)
            if not isinstance(compiled, SQLCompiler):
                raise TypeError("only SQL statements can be prepared, not DDL")
            if any(bind.expanding for bind in compiled.binds.values()):
                raise TypeError("a prepared statement cannot expand IN lists; use the session")
            processors = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = _shared_datetime(bind.type, dialect, processor)
            positional = (
                compiled.positiontup if dialect.paramstyle in ("qmark", "numeric") else None
            )
            columns = tuple(
                column.type.dialect_impl(dialect)
                for column in getattr(statement, "selected_columns", ())
            )
            found = _Compiled(
                compiled.string,
                tuple(positional) if positional else None,
                compiled.construct_params(_check=False),
                processors,
                columns,
            )
            self._compiled[dialect.name] = found
        return found

    @staticmethod
    def _values(compiled: _Compiled, params: dict[str, Any]) -> dict[str, Any]:
        values = {**compiled.defaults, **params}
        for name, processor in compiled.processors.items():
            values[name] = processor(values[name])
        return values

    def _args(self, compiled: _Compiled, params: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = self._values(compiled, params)
        if compiled.names is not None:
            return [values[name] for name in compiled.names]
        return values

    def _batch(
        self, compiled: _Compiled, rows: list[dict[str, Any]]
    ) -> Sequence[Sequence[Any]] | Sequence[dict[str, Any]]:
        batch = [self._values(compiled, row) for row in rows]
        if compiled.names is None:
            return batch
        return [[values[name] for name in compiled.names] for values in batch]

    @staticmethod
    def _cursor(session: Session) -> tuple[DBAPICursor, Dialect]:
        if session.new or session.dirty or session.deleted:
            session.flush()  # rows the ORM still holds must exist before ours refer to them
        bind = session.bind
        if isinstance(bind, Connection):  # a unit of work's: its transaction is the unit's
            return _dbapi(bind).cursor(), bind.dialect
        transaction = session.get_transaction()
        known = session.info.get(_CONNECTION)
        if known is None or known[0] is not transaction:  # once per transaction
            connection = session.connection()
            known = (transaction, _dbapi(connection), connection.dialect)
            session.info[_CONNECTION] = known
        return known[1].cursor(), known[2]

    def execute(self, session: Session, params: dict[str, Any]) -> DBAPICursor:
        """Run once; returns the DBAPI cursor (for ``rowcount`` or ``fetchone``)."""
        cursor, dialect = self._cursor(session)
        compiled = self._compile(dialect)
        cursor.execute(compiled.sql, self._args(compiled, params))
        return cursor

    def insert_id(self, session: Session, params: dict[str, Any]) -> int:
        """Run an ``INSERT ... RETURNING id``; the new row's id."""
        row = self.execute(session, params).fetchone()
        if row is None:
            raise RuntimeError("the INSERT returned no id")
        new_id: int = row[0]
        return new_id

    def rows(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT; every row with its columns converted as SQLAlchemy would."""
        cursor, dialect = self._cursor(session)
        compiled = self._compile(dialect)
        cursor.execute(compiled.sql, self._args(compiled, params))
        results = self._results.get(dialect.name)
        if results is None:
            # A type may need the driver's type code of the column (a PostgreSQL float or
            # numeric column does), which only the executed cursor knows.  The codes of a
            # statement's columns are constants, so the processors are fetched once.
            results = tuple(
                impl.result_processor(dialect, described[1])
                for impl, described in zip(compiled.columns, cursor.description, strict=True)
            )
            self._results[dialect.name] = results
        fetched = cursor.fetchall()
        cursor.close()
        if not any(results):
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if convert is None else convert(value)
                for convert, value in zip(results, row, strict=True)
            )
            for row in fetched
        ]

    def first(self, session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(session, params)
        return found[0] if found else None

    def execute_many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        cursor, dialect = self._cursor(session)
        compiled = self._compile(dialect)
        cursor.executemany(compiled.sql, self._batch(compiled, rows))
        cursor.close()


#: one remembering converter per dialect and datetime type, shared by every statement
_DATETIME_CONVERTERS: dict[tuple[str, type, bool], Callable[[Any], Any]] = {}


def _shared_datetime(
    kind: TypeEngine[Any], dialect: Dialect, processor: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """For a DateTime column (or a decorator of one, ``UTCDateTime``): one converter shared
    by all statements, answering at once for the same object as last time.

    A unit of work stamps most rows it writes with one moment (``work.now``), and turning
    an aware datetime into what the driver takes (to UTC, then text on SQLite) was a few
    percent of a case's lifecycle, repeated for the same object statement after
    statement.  Anything else keeps its own processor.
    """
    base = getattr(kind, "impl_instance", kind)
    if not isinstance(base, DateTime):
        return processor
    key = (dialect.name, type(kind), bool(base.timezone))
    with _DATETIME_LOCK:
        return _DATETIME_CONVERTERS.setdefault(key, _remember_last(processor))


_DATETIME_LOCK = threading.Lock()


def _remember_last(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, answering at once for the same object as last time.  The cell holds
    one (value, result) pair, replaced as a whole, so threads sharing the converter never
    see one value with another's result; the pair keeps the value alive, so its identity
    cannot pass to a new object."""
    last: list[tuple[Any, Any]] = [(object(), None)]

    def converted(value: Any) -> Any:
        seen, result = last[0]
        if value is seen:
            return result
        result = convert(value)
        last[0] = (value, result)
        return result

    return converted


def _dbapi(connection: Connection) -> DBAPIConnection:
    """The DBAPI connection under an open SQLAlchemy connection."""
    raw = connection.connection.dbapi_connection
    if raw is None:  # only once the connection is closed or invalidated
        raise RuntimeError("the session's database connection is closed")
    return raw


def tagged(kind: str, *numbers: Any, text: Any = None) -> Select[Any]:
    """One part of a tagged ``UNION ALL``: a tag, three integers and a text, NULL where
    unused.  Several small reads keyed alike become one statement, one round trip (on
    PostgreSQL each statement is one); the caller sorts the rows by their tag."""
    if len(numbers) > 3:
        raise ValueError("a tagged row holds at most three integers")
    padded = [*numbers, *[None] * (3 - len(numbers))]
    return select(
        literal(kind, String).label("kind"),
        *(cast(null() if n is None else n, Integer).label(f"n{i}") for i, n in enumerate(padded)),
        cast(null() if text is None else text, String).label("text"),
    )


def prepared_insert(table: Any, columns: Sequence[str], *, returning: Any = None) -> Prepared:
    """``INSERT INTO table (columns) VALUES (:columns)`` [``RETURNING``], prepared."""
    from sqlalchemy import bindparam, insert

    statement = insert(table).values({name: bindparam(name) for name in columns})
    if returning is not None:
        statement = statement.returning(returning)
    return Prepared(statement)
