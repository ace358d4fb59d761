"""``record``: child records of cases (mails, calls, notes, attachments, to-dos) with their
own access lists, each act through ``rules.child_records`` (the one access decision).

A record the acting user may not see is "not found" (exit 3); a restriction the seed-004
guards refuse is a conflict (exit 5) naming every conflict."""

from __future__ import annotations

import argparse
from typing import Any

from engine.run import child_records
from engine.run.child_records import KINDS
from people.directory import user_by_name
from rules import child_records as acts
from rules import load_subject

from .context import add_as, runtime
from .output import done, emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser(
        "record", help="child records of cases, each with its own access list"
    ).add_subparsers(dest="record_command", required=True, metavar="ACTION")
    p = record.add_parser("add", help="add a mail, call, note, attachment or to-do to cases")
    p.add_argument("numbers", nargs="+", metavar="CASE", help="the case(s) it belongs to")
    p.add_argument("--kind", required=True, choices=KINDS)
    p.add_argument("--title", required=True)
    p.add_argument("--ref", help="what it stands for: an attachment's id or name, a mail's id")
    _people(p)
    p.set_defaults(handler=cmd_add)
    p = record.add_parser("list", help="the child records of a case you may see")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_list)
    p = record.add_parser("show", help="one record: its cases, access list and state")
    p.add_argument("record_id", metavar="RECORD")
    add_as(p)
    p.set_defaults(handler=cmd_show)
    p = record.add_parser("share", help="add users or groups to a record's access list")
    p.add_argument("record_id", metavar="RECORD")
    p.add_argument("--remove", action="store_true", help="take them off the list instead")
    _people(p)
    p.set_defaults(handler=cmd_share)
    p = record.add_parser(
        "restrict", help="only the record's own grants see it (administrators; seed-004 guards)"
    )
    p.add_argument("record_id", metavar="RECORD")
    _people(p)
    p.set_defaults(handler=cmd_restrict)
    p = record.add_parser("unrestrict", help="lift a record's restriction (administrators)")
    p.add_argument("record_id", metavar="RECORD")
    add_as(p)
    p.set_defaults(handler=cmd_unrestrict)
    p = record.add_parser("checkout", help="check a record out to another organisation")
    p.add_argument("record_id", metavar="RECORD")
    p.add_argument("--to", required=True, metavar="ORGANISATION")
    add_as(p)
    p.set_defaults(handler=cmd_checkout)
    p = record.add_parser("checkin", help="check a record back in")
    p.add_argument("record_id", metavar="RECORD")
    add_as(p)
    p.set_defaults(handler=cmd_checkin)
    p = record.add_parser("link", help="link a record to one more case")
    p.add_argument("record_id", metavar="RECORD")
    p.add_argument("number", metavar="CASE")
    add_as(p)
    p.set_defaults(handler=cmd_link)
    p = record.add_parser("attach", help="attach a record to a to-do")
    p.add_argument("todo_id", metavar="TODO")
    p.add_argument("record_id", metavar="RECORD")
    add_as(p)
    p.set_defaults(handler=cmd_attach)


def _people(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", action="append", default=[], dest="users", metavar="USER")
    p.add_argument("--group", action="append", default=[], dest="groups", metavar="GROUP")
    add_as(p)


def _show(args: argparse.Namespace, record_id: int | str, extra: dict[str, Any], line: str) -> int:
    """The record as the acting user may now see it (if they still may)."""
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        item = child_records.record_by_id(work, record_id)
        seen = acts.may_see(work, subject, item)  # sharing may have taken them off the list
        answer = {**(acts.describe(work, subject, item) if seen else {"id": item.id}), **extra}
    done(line, as_json=args.json, **answer)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        subject = load_subject(work, user)
        item = acts.add_record(
            work,
            subject,
            user,
            args.numbers,
            kind=args.kind,
            title=args.title,
            ref=args.ref,
            users=args.users,
            groups=args.groups,
        )
        record_id = item.id
    return _show(args, record_id, {}, f"added {args.kind} record {record_id}")


def cmd_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = [
            acts.describe(work, subject, item)
            for item in acts.list_records(work, subject, args.number)
        ]
    emit(rows, as_json=args.json, table=("id", "kind", "title", "restricted", "checked_out_to"))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        answer = acts.describe(work, subject, acts.record_for(work, subject, args.record_id))
    emit(answer, as_json=args.json)
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = acts.share_record(
            work, subject, args.record_id, users=args.users, groups=args.groups, remove=args.remove
        )
    verb = "unshared from" if args.remove else "shared with"
    line = f"record {args.record_id} {verb} {', '.join(changed) or 'nobody new'}"
    return _show(args, args.record_id, {"changed": changed}, line)


def cmd_restrict(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        acts.restrict_record(work, subject, args.record_id, users=args.users, groups=args.groups)
    names = [*args.users, *(f"group:{g}" for g in args.groups)]
    line = f"record {args.record_id} is restricted to {', '.join(names) or 'administrators'}"
    return _show(args, args.record_id, {}, line)


def cmd_unrestrict(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        acts.unrestrict_record(work, subject, args.record_id)
    return _show(args, args.record_id, {}, f"record {args.record_id} is no longer restricted")


def cmd_checkout(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        acts.check_out(work, subject, args.record_id, args.to)
    return _show(args, args.record_id, {}, f"record {args.record_id} checked out to {args.to}")


def cmd_checkin(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        acts.check_in(work, subject, args.record_id)
    return _show(args, args.record_id, {}, f"record {args.record_id} checked in")


def cmd_link(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = acts.link_record(work, subject, args.record_id, args.number)
    line = f"record {args.record_id} linked to {args.number}" + ("" if changed else " (already)")
    return _show(args, args.record_id, {"changed": changed}, line)


def cmd_attach(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = acts.attach_to_todo(work, subject, args.todo_id, args.record_id)
    line = f"record {args.record_id} attached to to-do {args.todo_id}" + (
        "" if changed else " (already)"
    )
    return _show(args, args.todo_id, {"changed": changed}, line)
