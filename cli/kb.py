"""``run.py kb``: the knowledge base at the command line - write, publish, archive, list,
show and search articles, link them to cases, suggest them for a case and render one as
reply text - each through ``rules.kb`` / ``rules.kb_cases`` as the ``--as`` user."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.run.kb import FORMATS, STATES
from people.directory import user_by_name
from rules import kb, kb_cases, load_subject

from . import kb_categories
from .context import add_as, row_limit, runtime
from .output import done, emit, print_table

_COLUMNS = ["id", "state", "category", "title"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("kb", help="the knowledge base: articles for agents and customers")
    kbs = sub.add_subparsers(dest="action", required=True)
    for name, help_text in (("add", "write a new draft article"), ("edit", "change an article")):
        p = kbs.add_parser(name, help=help_text)
        if name == "edit":
            p.add_argument("article", help="KB-12 or 12")
        p.add_argument("--title", required=name == "add")
        body = p.add_mutually_exclusive_group(required=name == "add")
        body.add_argument("--body", help="the text (Markdown unless --format text)")
        body.add_argument("--body-file", metavar="PATH", help="read the text from a file (- stdin)")
        p.add_argument("--format", choices=FORMATS)
        p.add_argument("--category")
        roles = p.add_mutually_exclusive_group()
        roles.add_argument(
            "--portal",
            action="append",
            metavar="ROLE",
            help="show it in the portal to this portal role once published (repeatable; "
            "'all' for every role)",
        )
        if name == "edit":
            roles.add_argument("--no-portal", action="store_true", help="show it to no customer")
        add_as(p)
        p.set_defaults(handler=cmd_add if name == "add" else cmd_edit)
    for state, verb in (("published", "publish"), ("archived", "archive"), ("draft", "draft")):
        p = kbs.add_parser(verb, help=f"make an article {state}")
        p.add_argument("article")
        add_as(p)
        p.set_defaults(handler=cmd_state, state=state)
    p = kbs.add_parser("list", help="the articles you may see")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--category", help="this category and every category inside it")
    add_as(p)
    p.set_defaults(handler=cmd_list)
    kb_categories.register(kbs)
    p = kbs.add_parser("show", help="one article")
    p.add_argument("article")
    add_as(p)
    p.set_defaults(handler=cmd_show)
    p = kbs.add_parser("search", help="find articles by their words (every word must match)")
    p.add_argument("text", nargs="+")
    p.add_argument("--limit", type=row_limit, default=20, help="at most this many (100)")
    add_as(p)
    p.set_defaults(handler=cmd_search)
    p = kbs.add_parser(
        "link", help="relate an article to a case (or --remove it); no article: list"
    )
    p.add_argument("number", help="the case, e.g. C-000001")
    p.add_argument("article", nargs="?")
    p.add_argument("--remove", action="store_true", help="stop relating the article to the case")
    add_as(p)
    p.set_defaults(handler=cmd_link)
    p = kbs.add_parser("suggest", help="articles matching a case's subject and description")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_suggest)
    p = kbs.add_parser("reply", help="a published article as the text of a reply")
    p.add_argument("article")
    add_as(p)
    p.set_defaults(handler=cmd_reply)
    p = kbs.add_parser("permit", help="let a group read, or edit, the knowledge base")
    p.add_argument("group")
    p.add_argument("--level", choices=kb.PERMISSIONS, required=True)
    p.set_defaults(handler=cmd_permit)


def _body(args: argparse.Namespace) -> str | None:
    if args.body_file is None:
        return str(args.body) if args.body is not None else None
    try:
        if args.body_file == "-":
            return sys.stdin.read()
        return Path(args.body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("cannot read the body", {"body_file": str(exc)}) from exc


def _roles(args: argparse.Namespace) -> list[str] | None:
    if getattr(args, "no_portal", False):
        return []
    return list(args.portal) if args.portal is not None else None


def _article(args: argparse.Namespace, answer: dict[str, Any]) -> int:
    if args.json:
        emit(answer, as_json=True)
        return 0
    print(f"{answer['id']}  {answer['title']}")
    facts = [answer.get("state"), answer.get("category") or None, answer.get("format")]
    print("  ".join(str(f) for f in facts if f))
    if answer.get("portal_roles") is not None:
        print(f"portal: {', '.join(answer['portal_roles']) or '(no customer)'}")
    if answer.get("cases"):
        print(f"cases: {', '.join(answer['cases'])}")
    print()
    print(answer["body"].rstrip())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = kb.add(
            work,
            subject,
            title=args.title,
            body=_body(args) or "",
            format=args.format or "markdown",
            category=args.category or "",
            portal_roles=_roles(args),
        )
    if not args.json:
        print(f"added {answer['id']} (draft): {answer['title']}")
        return 0
    return _article(args, answer)


def cmd_edit(args: argparse.Namespace) -> int:
    changes = {
        "title": args.title,
        "body": _body(args),
        "format": args.format,
        "category": args.category,
    }
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = kb.edit(work, subject, args.article, changes=changes, portal_roles=_roles(args))
    if not args.json:
        print(f"{answer['id']}: {', '.join(answer['changed']) or 'nothing'} changed")
        return 0
    return _article(args, answer)


def cmd_state(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = kb.set_state(work, subject, args.article, args.state)
    done(f"{answer['id']} is {answer['state']}", as_json=args.json, **answer)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = kb.list_articles(work, subject, state=args.state, category=args.category)
    emit(rows, as_json=args.json, table=[c for c in _COLUMNS if not rows or c in rows[0]])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = kb.show(work, subject, args.article)
    return _article(args, answer)


def cmd_search(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = kb.search(work, subject, " ".join(args.text), limit=args.limit)
    if args.json:
        emit(answer, as_json=True)
    elif not answer["articles"]:
        print("no matches")
    else:
        print_table(answer["articles"], ["id", "title", "snippet"])
        if answer["more"]:
            print("more exist: narrow the search")
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        if args.article is None:
            if args.remove:
                raise InvalidInput("nothing to remove", {"article": "name the article"})
            changed, rows = False, kb_cases.linked(work, subject, args.number)
        else:
            changed, rows = kb_cases.set_link(
                work, subject, args.number, args.article, present=not args.remove
            )
    if args.json:
        emit({"number": args.number, "changed": changed, "articles": rows}, as_json=True)
        return 0
    if args.article is not None:
        verb = "unlinked from" if args.remove else "linked to"
        print(f"{args.article} {verb} {args.number}" + ("" if changed else " (already)"))
    print_table(rows, ["id", "title"])
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = kb_cases.suggestions(work, subject, args.number)
    if args.json:
        emit({"number": args.number, "articles": rows}, as_json=True)
    elif rows:
        print_table(rows, ["id", "title"])
    else:
        print("no suggestions")
    return 0


def cmd_reply(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = kb_cases.reply_text(work, subject, args.article)
    if args.json:
        emit(answer, as_json=True)
    else:
        print(answer["text"], end="")
    return 0


def cmd_permit(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        kb.permit(work, group=args.group, level=args.level)
    done(
        f"{args.group}: knowledge base {args.level}",
        as_json=args.json,
        group=args.group,
        level=args.level,
    )
    return 0
