"""Prepared statements for the hottest writes, executed on the DBAPI cursor.

Each transition of a case writes a handful of rows (the case, its task rows, audit
entries).  Through SQLAlchemy's execution layer every such statement costs tens of
microseconds of Python before the database sees it; a case's lifecycle runs about
twenty of them.  A :class:`Prepared` statement is an ordinary SQLAlchemy Core
statement, compiled once per dialect; its parameters are converted by the column
types' own bind processors (so values are stored exactly as SQLAlchemy would store
them) and it runs on the DBAPI cursor of the session's current transaction.  Reads,
and anything not on the hot path, keep using SQLAlchemy as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional order (qmark), or None for named styles
    defaults: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]


class Prepared:
    """A Core statement compiled once per dialect and run on the raw cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        with self._lock:
            compiled = self.statement.compile(dialect=dialect)
            processors = {}
            for name, bind in compiled.binds.items():
                processor = bind.type._cached_bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            positional = (
                compiled.positiontup if dialect.paramstyle in ("qmark", "numeric") else None
            )
            found = _Compiled(
                compiled.string,
                tuple(positional) if positional else None,
                compiled.construct_params(_check=False),
                processors,
            )
            self._compiled[dialect.name] = found
        return found

    def _args(self, compiled: _Compiled, params: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**compiled.defaults, **params}
        for name, processor in compiled.processors.items():
            values[name] = processor(values[name])
        if compiled.names is not None:
            return [values[name] for name in compiled.names]
        return values

    @staticmethod
    def _cursor(session: Session) -> tuple[Any, Dialect]:
        if session.new or session.dirty or session.deleted:
            session.flush()  # rows the ORM still holds must exist before ours refer to them
        connection = session.connection()
        return connection.connection.dbapi_connection.cursor(), connection.dialect

    def execute(self, session: Session, params: dict[str, Any]) -> Any:
        """Run once; returns the DBAPI cursor (for ``rowcount`` or ``fetchone``)."""
        cursor, dialect = self._cursor(session)
        compiled = self._compile(dialect)
        cursor.execute(compiled.sql, self._args(compiled, params))
        return cursor

    def execute_many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        cursor, dialect = self._cursor(session)
        compiled = self._compile(dialect)
        cursor.executemany(compiled.sql, [self._args(compiled, row) for row in rows])
        cursor.close()


def prepared_insert(table: Any, columns: Sequence[str], *, returning: Any = None) -> Prepared:
    """``INSERT INTO table (columns) VALUES (:columns)`` [``RETURNING``], prepared."""
    from sqlalchemy import bindparam, insert

    statement = insert(table).values({name: bindparam(name) for name in columns})
    if returning is not None:
        statement = statement.returning(returning)
    return Prepared(statement)
