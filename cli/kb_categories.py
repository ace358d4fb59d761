"""``run.py kb categories`` and ``run.py kb category add|move|rename|remove``: the knowledge base's
category tree at the command line, through ``rules.kb_categories`` as the ``--as`` user
(a customer or reader sees only the categories holding an article they may read)."""

from __future__ import annotations

import argparse

from people.directory import user_by_name
from rules import kb_categories, load_subject

from .context import add_as, runtime
from .output import done, emit


def register(kbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = kbs.add_parser("categories", help="the category tree, with the articles you may see")
    add_as(p)
    p.set_defaults(handler=cmd_tree)
    p = kbs.add_parser("category", help="add, move, rename or remove a category")
    acts = p.add_subparsers(dest="category_action", required=True)
    add = acts.add_parser("add", help="a new category (at the top, or --parent)")
    add.add_argument("name")
    add.add_argument("--parent", help="the category it sits inside")
    add_as(add)
    add.set_defaults(handler=cmd_add)
    move = acts.add_parser("move", help="put a category inside another one, or at the top")
    move.add_argument("name")
    where = move.add_mutually_exclusive_group(required=True)
    where.add_argument("--parent", help="the category it will sit inside")
    where.add_argument("--top", action="store_true", help="make it a top-level category")
    add_as(move)
    move.set_defaults(handler=cmd_move)
    rename = acts.add_parser("rename", help="give a category a new name (its articles follow)")
    rename.add_argument("name")
    rename.add_argument("new_name")
    add_as(rename)
    rename.set_defaults(handler=cmd_rename)
    remove = acts.add_parser("remove", help="remove a category that holds nothing")
    remove.add_argument("name")
    add_as(remove)
    remove.set_defaults(handler=cmd_remove)


def cmd_tree(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = kb_categories.categories(work, subject)
    if args.json:
        emit(rows, as_json=True)
    elif not rows:
        print("no categories")
    for row in [] if args.json else rows:
        print(f"{'  ' * row['depth']}{row['name']} ({row['total']})")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        row = kb_categories.add_category(work, subject, args.name, parent=args.parent)
    done(f"added category {row['path']}", as_json=args.json, **row)
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        row = kb_categories.move_category(
            work, subject, args.name, parent=None if args.top else args.parent
        )
    done(f"category {row['name']} is now {row['path']}", as_json=args.json, **row)
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        row = kb_categories.rename_category(work, subject, args.name, new_name=args.new_name)
    done(f"category {args.name} is now {row['path']}", as_json=args.json, **row)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        kb_categories.remove_category(work, subject, args.name)
    done(f"removed category {args.name}", as_json=args.json, name=args.name, removed=True)
    return 0
