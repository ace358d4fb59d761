"""Database connections: one place that knows SQLite from PostgreSQL.

SQLite is the embedded default (a file in WAL mode, ``synchronous=NORMAL``, a busy
timeout so concurrent writers queue instead of failing, WAL checkpoints in the background
(``checkpoints.py``) and a 64 MB page cache).  PostgreSQL is reached
through psycopg 3.  ``CASEWORK_DB`` or ``--db`` picks the URL; a PostgreSQL URL may
carry ``?schema=NAME`` to keep several installations (or test runs) in one database.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import CursorResult, Delete, Engine, Update, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, SAWarning
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from ..errors import StoreUnavailable
from .checkpoints import BACKSTOP_PAGES, LOG_SIZE_LIMIT

DEFAULT_URL = "sqlite:///casework.db"
_MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(explicit: str | None = None) -> str:
    """The URL to use: the explicit one, else ``CASEWORK_DB``, else the SQLite default."""
    return explicit or os.environ.get("CASEWORK_DB") or DEFAULT_URL


#: Server settings of every PostgreSQL connection.  JIT compilation (on by default) starts
#: for any statement the planner thinks costly and takes about 10 ms, which here is more
#: than the statement: the visibility filter over 100k cases estimates high and runs in
#: 3 ms, 14 ms with JIT (``bench/search.py``).  Casework's statements are short: no JIT.
PG_SETTINGS = ("-cjit=off",)


def _normalise(url: str) -> tuple[URL, str | None]:
    parsed = make_url(url)
    schema = parsed.query.get("schema")
    if isinstance(schema, tuple):
        schema = schema[0]
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.difference_update_query(["schema"])
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed, schema


def _json_text(value: object) -> str:
    """JSON columns (audit entries, configuration) written by orjson: several times faster
    than the standard library on the audit rows every transition writes."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str | None = None, **kwargs: object) -> Engine:
    """Create an engine with the pragmas and search path Casework relies on.

    A URL that names no usable database (unparseable, an unknown dialect, a driver that
    is not installed) is :class:`~engine.errors.StoreUnavailable`; whether the database
    answers is found out on first use.
    """
    resolved = database_url(url)
    try:
        return _make_engine(resolved, **kwargs)
    except ArgumentError as exc:  # unparseable, or an unknown dialect (NoSuchModuleError)
        raise StoreUnavailable(
            f"not a database URL Casework can use ({exc}); for example "
            "sqlite:///casework.db or postgresql://user@host/db"
        ) from exc
    except ImportError as exc:
        shown = make_url(resolved).render_as_string(hide_password=True)
        raise StoreUnavailable(f"the database driver for {shown} is not installed ({exc})") from exc


def _make_engine(url: str, **kwargs: object) -> Engine:
    parsed, schema = _normalise(url)
    kwargs.setdefault("json_serializer", _json_text)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    given = parsed.query.get("options")  # the URL's own server settings are kept
    options = [*((given,) if isinstance(given, str) else given or ()), *PG_SETTINGS]
    if schema:
        options.append(f"-csearch_path={schema}")
    connect_args = {"options": " ".join(options)}
    return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A runtime's own thread checkpoints the WAL (see checkpoints.py); a commit does it
    # only as a backstop, and a restarted log is cut back to a bounded size.
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={LOG_SIZE_LIMIT}")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MB of page cache per connection
    cursor.close()


def changed_rows(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE; how many rows it changed.

    ``Session.execute`` is declared to return a plain ``Result``; for DML it returns the
    ``CursorResult`` that carries the row count.
    """
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(statement).__name__} returned no row count")
    return result.rowcount


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions never expire objects on commit: callers read results after the transaction."""
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Any:
    from alembic.config import Config  # imported here: only ``init``, starts and checks need it

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def _scripts() -> Any:
    """The migration scripts, read once per process: reading them executes every one of
    them, which a worker's start and each readiness check would otherwise pay again."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def schema_heads() -> set[str]:
    """The newest Alembic revisions this code knows."""
    return set(_scripts().get_heads())


def schema_revisions(engine: Engine) -> set[str]:
    """The revisions the database says it is at (empty for a database never initialised)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def known_revisions() -> set[str]:
    """Every Alembic revision this code knows, old and new."""
    return {s.revision for s in _scripts().walk_revisions()}


def check_known_schema(engine: Engine) -> set[str]:
    """Refuse a database this code must not touch: one at a schema revision it does not
    know (made by a newer version of Casework, or another application's Alembic table), or
    one that holds tables but no schema revision at all (another application's database).

    An older revision of ours is fine: :func:`upgrade` brings it forward.  The refusal is
    :class:`~engine.errors.StoreUnavailable` (exit code 7) with one line saying what was
    found.  Returns the revisions the database is at.
    """
    from sqlalchemy import inspect

    at = schema_revisions(engine)
    unknown = sorted(at - known_revisions())
    shown = engine.url.render_as_string(hide_password=True)
    if unknown:
        raise StoreUnavailable(
            f"the database {shown} is at schema revision {', '.join(unknown)}, which this "
            "version of Casework does not know (written by a newer version, or not a "
            "Casework database); nothing was changed"
        )
    if not at:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
        if tables:
            raise StoreUnavailable(
                f"the database {shown} holds tables ({', '.join(sorted(tables)[:3])}, ...) "
                "but no Casework schema revision: another application's database? "
                "nothing was changed"
            )
    return at


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision, after
    :func:`check_known_schema`."""
    if check_known_schema(engine) == schema_heads():
        return  # up to date, as at every start but the first after an upgrade
    from alembic import command  # imported here: only ``init`` and first starts need it

    config = _alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            schema = connection.execute(text("select current_schema()")).scalar()
            if schema is None:  # search_path names a schema that does not exist yet
                path = connection.execute(text("show search_path")).scalar() or ""
                name = path.split(",")[0].strip().strip('"')
                connection.execute(text(f'create schema if not exists "{name}"'))
        config.attributes["connection"] = connection
        with warnings.catch_warnings():
            # SQLite's batch migrations rebuild a table by reflecting it and the tables its
            # foreign keys name; SQLAlchemy cannot reflect the lower(email) indexes of
            # users and contacts and says so, although the rebuilt table never holds them.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
            )
            command.upgrade(config, "heads")
