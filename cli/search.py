"""``run.py search``: full-text search over case subjects, stream posts and contacts, as one
user may see them (``rules.search``); and ``search reindex`` for SQLite's index."""

from __future__ import annotations

import argparse

from engine.store.search import rebuild
from people.directory import user_by_name
from rules import load_subject
from rules.search import KINDS, search

from .context import add_as, row_limit, runtime
from .output import done, emit, print_table


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "search", help="find cases, posts and contacts by their words (as a user sees them)"
    )
    p.add_argument("text", nargs="+", help="the words to find (every word must match)")
    p.add_argument(
        "--kind", choices=KINDS, action="append", default=[], help="only these hits (repeatable)"
    )
    p.add_argument("--limit", type=row_limit, default=20, help="hits of each kind (at most 100)")
    add_as(p)
    p.set_defaults(handler=cmd_search)
    p = commands.add_parser(
        "search-reindex", help="rebuild SQLite's search index from the tables (PostgreSQL: no-op)"
    )
    p.set_defaults(handler=cmd_reindex)


def cmd_search(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = search(work, subject, " ".join(args.text), kinds=args.kind, limit=args.limit)
    if args.json:
        emit(answer, as_json=True)
        return 0
    shown = False
    for kind, columns in (
        ("cases", ["number", "status", "subject"]),
        ("posts", ["case", "id", "author", "snippet"]),
        ("contacts", ["id", "name", "email", "customer"]),
    ):
        if answer[kind]:
            print(f"{kind}{' (more exist: narrow the search)' if kind in answer['more'] else ''}:")
            print_table(answer[kind], columns)
            shown = True
    if not shown:
        print("no matches")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.db.begin() as connection:
        rebuild(connection)
    done("search index rebuilt", as_json=args.json, rebuilt=True)
    return 0
