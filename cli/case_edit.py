"""``case edit``, ``assign``, ``delegate``, ``move``, ``cancel``, ``reopen`` and
``collaborators``: changing a case after it opened, each through ``rules.case_acts`` (the
one access decision), printing the case as the user may now see it."""

from __future__ import annotations

import argparse
from typing import Any

from engine.run import cases
from engine.run.cases import PRIORITIES
from engine.runtime import UnitOfWork
from people.directory import user_by_name
from rules import case_acts, load_subject
from rules.case_view import summary_for
from rules.subject import Subject

from .context import add_as, runtime
from .output import emit


def register_case(case: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Under the ``case`` command, beside open, show and close."""
    p = case.add_parser("edit", help="change a case's subject or priority (managers)")
    p.add_argument("number")
    p.add_argument("--subject")
    p.add_argument("--priority", choices=PRIORITIES)
    add_as(p)
    p.set_defaults(handler=cmd_case_edit)
    p = case.add_parser("assign", help="assign a case to someone, or to nobody (managers)")
    p.add_argument("number")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", metavar="USER")
    to.add_argument("--nobody", action="store_true", help="leave the case unassigned")
    add_as(p)
    p.set_defaults(handler=cmd_case_assign)
    p = case.add_parser("delegate", help="pass the case assigned to you on to someone")
    p.add_argument("number")
    p.add_argument("--to", metavar="USER", required=True)
    add_as(p)
    p.set_defaults(handler=cmd_case_delegate)
    p = case.add_parser("move", help="move a case to another case type")
    p.add_argument("number")
    p.add_argument("--type", dest="case_type", required=True, help="the new case-type key")
    add_as(p)
    p.set_defaults(handler=cmd_case_move)
    p = case.add_parser("cancel", help="cancel a case: open tasks are withdrawn")
    p.add_argument("number")
    p.add_argument("--reason", default="")
    add_as(p)
    p.set_defaults(handler=cmd_case_cancel)
    p = case.add_parser("reopen", help="reopen a closed case (within its grace period)")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_case_reopen)
    p = case.add_parser("collaborators", help="list, add or remove a case's collaborators")
    p.add_argument("number")
    p.add_argument("--add", action="append", default=[], metavar="USER")
    p.add_argument("--remove", action="append", default=[], metavar="USER")
    add_as(p)
    p.set_defaults(handler=cmd_case_collaborators)


def _answer(
    args: argparse.Namespace, work: UnitOfWork, subject: Subject, extra: dict[str, Any]
) -> dict[str, Any]:
    """The case as the acting user may see it now, with what the command did."""
    return {**summary_for(work, subject, cases.case_by_number(work, args.number)), **extra}


def _done(args: argparse.Namespace, answer: dict[str, Any], line: str) -> int:
    if args.json:
        emit(answer, as_json=True)
    else:
        print(line)
    return 0


def cmd_case_edit(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = case_acts.edit_case(
            work, subject, args.number, title=args.subject, priority=args.priority
        )
        answer = _answer(args, work, subject, {"changed": sorted(changed)})
    what = ", ".join(f"{k} {v!r}" for k, v in sorted(changed.items())) or "nothing changed"
    return _done(args, answer, f"{args.number}: {what}")


def _hand_over(args: argparse.Namespace, delegate: bool) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        to = None if getattr(args, "nobody", False) else user_by_name(work, args.to)
        changed = case_acts.assign_case(work, subject, args.number, to, delegate=delegate)
        answer = _answer(args, work, subject, {"changed": changed})
    who = to.username if to is not None else "nobody"
    verb = "delegated to" if delegate else "assigned to"
    return _done(args, answer, f"{args.number} {verb} {who}" + ("" if changed else " (already)"))


def cmd_case_assign(args: argparse.Namespace) -> int:
    return _hand_over(args, delegate=False)


def cmd_case_delegate(args: argparse.Namespace) -> int:
    return _hand_over(args, delegate=True)


def cmd_case_move(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        case_acts.move_case(work, subject, args.number, args.case_type)
        # after the move the user may no longer see the case: say only what they may see
        visible = case_acts.case_visible(work, subject, args.number)
        answer = _answer(args, work, subject, {}) if visible else {"number": args.number}
    answer["moved_to"] = args.case_type
    return _done(args, answer, f"moved {args.number} to {args.case_type}")


def cmd_case_cancel(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        case_acts.cancel_case(work, subject, args.number, args.reason)
        answer = _answer(args, work, subject, {})
    return _done(args, answer, f"cancelled {args.number}")


def cmd_case_reopen(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        case_acts.reopen_case(work, subject, args.number)
        answer = _answer(args, work, subject, {})
    return _done(args, answer, f"reopened {args.number}")


def cmd_case_collaborators(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changes = [(n, True) for n in args.add] + [(n, False) for n in args.remove]
        if not changes:
            people = case_acts.collaborators_of(work, subject, args.number)
        for name, present in changes:
            user = user_by_name(work, name)
            _, people = case_acts.set_collaborator(
                work, subject, args.number, user, present=present
            )
    if args.json:
        emit({"number": args.number, "collaborators": people}, as_json=True)
    else:
        print(f"{args.number} collaborators: {', '.join(people) or '(none)'}")
    return 0
