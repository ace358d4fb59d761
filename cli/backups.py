"""``run.py backup``, ``run.py restore`` and ``run.py db upgrade``: the database's life.

``backup FILE`` copies the database while the application runs (SQLite: the online backup
API; PostgreSQL: ``pg_dump``), ``restore FILE`` puts a backup back (refused on a database
that holds tables unless ``--force``), and ``db upgrade`` brings the schema to this code's
revision, saying from which.  A database at a revision this code does not know is refused
by all of them, and by ``serve`` and ``worker`` at start (exit code 7).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.store import backups
from engine.store.db import check_known_schema, make_engine, schema_revisions, upgrade

from .output import done


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "backup", help="copy the database to FILE while it runs (SQLite backup API, pg_dump)"
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=cmd_backup)
    p = commands.add_parser(
        "restore", help="replace the database by a backup (refused if it holds data)"
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
    engine = make_engine(args.db)
    try:
        check_known_schema(engine)
        copied = backups.backup(engine, args.file, force=args.force)
    finally:
        engine.dispose()
    done(
        f"backed up to {copied.file} ({copied.bytes:,} bytes, {copied.method})",
        as_json=args.json,
        file=str(copied.file),
        bytes=copied.bytes,
        method=copied.method,
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    try:
        copied = backups.restore(engine, args.file, force=args.force)
        at = sorted(schema_revisions(engine))
    finally:
        engine.dispose()
    done(
        f"restored {copied.file} ({copied.method}); schema at {', '.join(at)} "
        "(`run.py db upgrade` brings it to this version's)",
        as_json=args.json,
        file=str(copied.file),
        method=copied.method,
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
