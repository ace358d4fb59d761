"""``run.py backup``, ``run.py restore`` and ``run.py db upgrade``: the database's life.

``backup FILE`` writes one archive of the database, copied while the application runs
(SQLite: the online backup API; PostgreSQL: ``pg_dump``), and of every attached file it
refers to, with a manifest of checksums; ``restore FILE`` puts both back (refused on a
database that holds tables unless ``--force``, and for a damaged archive or one lacking a
file, with nothing changed), and ``db upgrade`` brings the schema to this code's revision,
saying from which.  A database at a revision this code does not know is refused
by all of them, and by ``serve`` and ``worker`` at start (exit code 7).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from casework.config import AppConfig
from engine.store import backup_archive
from engine.store.db import check_known_schema, make_engine, schema_revisions, upgrade
from engine.store.files import FileStore

from .output import done


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "backup",
        help="archive the database (copied while it runs) and its attached files into FILE",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=cmd_backup)
    p = commands.add_parser(
        "restore",
        help="put the database and attached files of a backup back (refused if it holds data)",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace a database that holds tables")
    p.set_defaults(handler=cmd_restore)
    db = commands.add_parser("db", help="the database schema").add_subparsers(
        dest="action", required=True
    )
    p = db.add_parser("upgrade", help="upgrade the schema to this version's (after a backup)")
    p.set_defaults(handler=cmd_upgrade)


def cmd_backup(args: argparse.Namespace) -> int:
    config = AppConfig.from_args(args)
    engine = make_engine(config.database_url)
    try:
        check_known_schema(engine)
        store = config.files or FileStore.beside(config.database_url)
        made = backup_archive.backup(engine, store, args.file, force=args.force)
    finally:
        engine.dispose()
    done(
        f"backed up to {made.file} ({made.bytes:,} bytes, {made.method}, "
        f"{made.files} attached files)",
        as_json=args.json,
        file=str(made.file),
        bytes=made.bytes,
        method=made.method,
        files=made.files,
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    config = AppConfig.from_args(args)
    engine = make_engine(config.database_url)
    try:
        store = config.files or FileStore.beside(config.database_url)
        made = backup_archive.restore(engine, store, args.file, force=args.force)
        at = sorted(schema_revisions(engine))
    finally:
        engine.dispose()
    done(
        f"restored {made.file} ({made.method}, {made.files} attached files into "
        f"{store.root}); schema at {', '.join(at)} "
        "(`run.py db upgrade` brings it to this version's)",
        as_json=args.json,
        file=str(made.file),
        method=made.method,
        files=made.files,
        schema=at,
    )
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    try:
        before = sorted(schema_revisions(engine))
        upgrade(engine)
        after = sorted(schema_revisions(engine))
    finally:
        engine.dispose()
    was, now = ", ".join(before) or "empty", ", ".join(after)
    message = f"schema already at {now}" if before == after else f"schema upgraded: {was} -> {now}"
    done(message, as_json=args.json, before=before, after=after)
    return 0
