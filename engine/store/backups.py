"""Copying the database to a file and back, while the application runs.

These are the database halves of ``run.py backup`` and ``restore``; the archive around them
(with the attached files and the manifest) is :mod:`engine.store.backup_archive`.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent
snapshot page by page through SQLite itself, so writers may go on meanwhile (WAL mode:
they are not even blocked) and the copy is one self-contained file, WAL folded in.
Restoring goes the same way in the other direction, into the live file, so processes
that hold it open see the restored content on their next transaction.

PostgreSQL: ``pg_dump --format=custom`` of the installation's schema (optionally at a
snapshot another transaction exported, so the dump and that transaction's reads agree) and
``pg_restore --clean --if-exists`` (the PostgreSQL client tools, run when they are on
``PATH``; otherwise the refusal names the command to run).  The password travels in the
environment (``PGPASSWORD``), never on the command line other users can read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from ..errors import Conflict, InvalidInput, StoreUnavailable
from .db import known_revisions


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise InvalidInput("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def copy_database(engine: Engine, target: Path, *, snapshot: str | None = None) -> str:
    """Copy the database behind ``engine`` into the new file ``target``; the method used.
    ``snapshot``: PostgreSQL only, a snapshot exported by a transaction still open."""
    if engine.dialect.name == "sqlite":
        return _sqlite_backup(_sqlite_path(engine), target)
    return _pg_dump(engine, target, snapshot)


def _sqlite_backup(source: Path, target: Path) -> str:
    if not source.exists():
        raise StoreUnavailable(f"there is no database file {source}")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # one step: a read transaction, so one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
        finally:
            dst.close()
    finally:
        src.close()
    return "sqlite online backup"


def restore_database(engine: Engine, source: Path) -> str:
    """Replace the database behind ``engine`` by the copy ``source`` (checked by the
    caller); the method used."""
    if engine.dialect.name == "sqlite":
        return _sqlite_restore(source, _sqlite_path(engine))
    return _pg_restore(engine, source)


def refuse_non_empty(engine: Engine) -> None:
    """Refuse (Conflict) a database that holds any table: restoring would replace it."""
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
    if tables:
        shown = engine.url.render_as_string(hide_password=True)
        raise Conflict(
            f"the database {shown} is not empty ({len(tables)} tables); "
            "pass --force to replace everything in it with the backup"
        )


def check_sqlite_copy(source: Path, shown: str) -> None:
    """The file is a SQLite database of a Casework schema revision this code knows
    (``shown``: how to name it in a refusal)."""
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as connection:
            rows = connection.execute("select version_num from alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{shown} is not a Casework backup ({exc})") from None
    check_revisions(shown, {r[0] for r in rows})


def check_revisions(shown: str, revisions: set[str]) -> None:
    """Refuse a copy at no schema revision or at one this code does not know."""
    unknown = revisions - known_revisions()
    if not revisions or unknown:
        found = ", ".join(sorted(unknown)) or "none"
        raise InvalidInput(
            f"{shown} is at schema revision {found}, which this version of Casework "
            "does not know; restore it with the version that made it"
        )


def _sqlite_restore(source: Path, target: Path) -> str:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # through SQLite, so open connections see the new content
        finally:
            dst.close()
    finally:
        src.close()
    return "sqlite online backup"


# --- PostgreSQL ---------------------------------------------------------------------


def _pg_target(engine: Engine) -> tuple[list[str], dict[str, str], str]:
    """Connection options for the client tools, their environment, and the schema."""
    url = engine.url
    with engine.connect() as connection:
        schema = connection.execute(text("select current_schema()")).scalar()
    if schema is None:  # search_path names a schema that does not exist (yet)
        schema = _search_path(engine)
    options = [
        f"--host={url.host or 'localhost'}",
        f"--port={url.port or 5432}",
        f"--username={url.username or os.environ.get('USER', 'postgres')}",
        f"--dbname={url.database or ''}",
    ]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return options, env, schema


def _search_path(engine: Engine) -> str:
    with engine.connect() as connection:
        path = connection.execute(text("show search_path")).scalar() or "public"
    return path.split(",")[0].strip().strip('"')


def _tool(name: str, command: list[str]) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreUnavailable(
            f"{name} (the PostgreSQL client tools) is not on PATH; install them, or run: "
            + " ".join(command)
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        problem = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise StoreUnavailable(f"{what} failed: {problem}")


def _pg_dump(engine: Engine, target: Path, snapshot: str | None) -> str:
    options, env, schema = _pg_target(engine)
    args = ["--format=custom", f"--schema={schema}", "--no-owner", f"--file={target}"]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    command = [_tool("pg_dump", ["pg_dump", *args, *options]), *args, *options]
    _run(command, env, "pg_dump")
    return "pg_dump --format=custom"


def _pg_restore(engine: Engine, source: Path) -> str:
    options, env, _ = _pg_target(engine)
    args = ["--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction"]
    command = [_tool("pg_restore", ["pg_restore", *args, *options, str(source)])]
    command += [*args, *options, str(source)]
    _run(command, env, "pg_restore")
    return "pg_restore"
