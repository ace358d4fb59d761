"""Throw-away PostgreSQL schemas for tests and benches.

The PostgreSQL server outlives a run, so whoever needs a database makes a schema of its
own in it (``?schema=`` on the URL, which the store turns into the search path) and drops
it afterwards.  The test fixtures and the bench scripts share this one mechanism.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_URL = os.environ.get(
    "CASEWORK_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def unreachable(base: str) -> str | None:
    """Why the server at ``base`` cannot be used, or None when it answers."""
    try:
        engine = create_engine(base, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


class ScratchSchemas:
    """Schemas made on demand in the database at ``base`` and dropped together."""

    def __init__(self, base: str, prefix: str = "cw_test") -> None:
        self.base, self.prefix = base, prefix
        self._made: list[str] = []

    def new_url(self) -> str:
        """A URL for a new, empty schema (created by the store on first use)."""
        self._made.append(f"{self.prefix}_{uuid.uuid4().hex[:12]}")
        return f"{self.base}?schema={self._made[-1]}"

    def drop_all(self) -> None:
        if not self._made:
            return
        engine = create_engine(self.base)
        with engine.begin() as connection:
            for schema in self._made:
                connection.execute(text(f'drop schema if exists "{schema}" cascade'))
        engine.dispose()
        self._made.clear()


@contextmanager
def scratch_schema(base: str, prefix: str = "cw_test") -> Iterator[str]:
    """The URL of one new schema, dropped when the block ends."""
    schemas = ScratchSchemas(base, prefix)
    try:
        yield schemas.new_url()
    finally:
        schemas.drop_all()
