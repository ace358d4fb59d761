"""``case merge``, ``case link``, ``case unlink`` and ``case links``: merging a duplicate
into another case and relating cases, each through ``rules.case_links`` (the one access
decision; a case the user may not see is "not found", whichever side of the merge)."""

from __future__ import annotations

import argparse

from engine.run.case_links import KINDS
from people.directory import user_by_name
from rules import load_subject
from rules.case_links import link_case, links_of, merge_case, unlink_case

from .context import add_as, runtime
from .output import done, emit


def register_case(case: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Under the ``case`` command."""
    p = case.add_parser(
        "merge", help="merge a duplicate case into another: case merge C-1 into C-2 (managers)"
    )
    p.add_argument("number", metavar="SOURCE")
    p.add_argument("into", metavar="into", type=str.lower, choices=["into"])
    p.add_argument("target", metavar="TARGET")
    add_as(p)
    p.set_defaults(handler=cmd_case_merge)
    p = case.add_parser("link", help="link two cases: related, duplicate-of, parent-of, ...")
    p.add_argument("number")
    p.add_argument("other")
    p.add_argument("--kind", choices=list(KINDS), default="related", help="how NUMBER relates")
    add_as(p)
    p.set_defaults(handler=cmd_case_link)
    p = case.add_parser("unlink", help="remove the link between two cases")
    p.add_argument("number")
    p.add_argument("other")
    add_as(p)
    p.set_defaults(handler=cmd_case_unlink)
    p = case.add_parser("links", help="the cases linked to a case that you may see")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_case_links)


def cmd_case_merge(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        moved = merge_case(work, subject, args.number, args.target)
    done(
        f"merged {args.number} into {args.target}: {moved['posts']} post(s) moved, "
        f"{moved['tasks_cancelled']} open task(s) cancelled",
        as_json=args.json,
        number=args.number,
        merged_into=args.target,
        **moved,
    )
    return 0


def cmd_case_link(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = link_case(work, subject, args.number, args.other, args.kind)
    done(
        f"{args.number} {args.kind} {args.other}" + ("" if changed else " (already)"),
        as_json=args.json,
        number=args.number,
        other=args.other,
        kind=args.kind,
        changed=changed,
    )
    return 0


def cmd_case_unlink(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        kind = unlink_case(work, subject, args.number, args.other)
    done(
        f"{args.number} no longer {kind} {args.other}",
        as_json=args.json,
        number=args.number,
        other=args.other,
        kind=kind,
    )
    return 0


def cmd_case_links(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = links_of(work, subject, args.number)
    if not rows and not args.json:
        print(f"{args.number}: no linked cases")
        return 0
    emit(rows, as_json=args.json, table=["link", "number", "subject", "status", "outcome"])
    return 0
