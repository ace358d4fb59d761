"""Day-to-day commands: open and inspect cases, work tasks from the inbox."""

from __future__ import annotations

import argparse
from typing import Any

from engine.run import cases, summaries
from engine.run.cases import PRIORITIES
from people.directory import user_by_name
from rules import case_acts, load_subject, task_acts
from rules.case_lists import case_list_query
from rules.case_view import case_page, summary_for, task_views

from . import attachments, case_edit, case_links, inbox, messages, parties
from .context import add_as, json_object, row_id, row_limit, runtime
from .output import emit

TASK_COLUMNS = ["id", "case", "name", "lane", "role", "state", "claimed_by", "candidates"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    case = commands.add_parser(
        "case", aliases=["cases"], help="open, list, show, close and bulk-change cases"
    ).add_subparsers(dest="action", required=True)
    p = case.add_parser("open")
    p.add_argument("--type", dest="case_type", required=True, help="case-type key, e.g. SUPPORT")
    p.add_argument("--subject", required=True)
    p.add_argument("--priority", choices=PRIORITIES, help="default normal (agents only)")
    p.add_argument("--data", help="process variables as a JSON object")
    p.add_argument("--contact", type=row_id, help="id of the main contact")
    add_as(p)
    p.set_defaults(handler=cmd_case_open)
    p = case.add_parser("list", help="cases the user may see, newest first")
    p.add_argument("--status", choices=["open", "closed"])
    p.add_argument("--type", dest="case_type")
    p.add_argument("--limit", type=row_limit, default=50)
    p.add_argument("--view", help="a named view offered to the user's groups")
    p.add_argument("--search", default="", help="words of the subject or the case number")
    p.add_argument("--priority", choices=PRIORITIES)
    add_as(p)
    p.set_defaults(handler=cmd_case_list)
    p = case.add_parser("show", help="a case, with the sections the user may see")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_case_show)
    p = case.add_parser("post", help="add a post to the case stream")
    p.add_argument("number")
    p.add_argument("--body", required=True)
    p.add_argument("--internal", action="store_true", help="visible to agents only")
    attachments.add_attach_option(p)
    add_as(p)
    p.set_defaults(handler=attachments.cmd_post_add)
    p = case.add_parser("close")
    p.add_argument("number")
    p.add_argument("--reason", default="")
    p.add_argument("--outcome", help="what the case ended with (the type may list outcomes)")
    add_as(p)
    p.set_defaults(handler=cmd_case_close)
    messages.register_case(case)
    case_edit.register_case(case)
    case_links.register_case(case)
    parties.register_case(case)
    inbox.register_case(case)

    task = commands.add_parser("task", help="the task inbox").add_subparsers(
        dest="action", required=True
    )
    p = task.add_parser("list", help="tasks the user may work on")
    add_as(p)
    p.add_argument("--scope", choices=["all", "mine", "groups"], default="all")
    p.set_defaults(handler=cmd_task_list)
    p = task.add_parser("show")
    p.add_argument("task_id", type=row_id)
    add_as(p)
    p.set_defaults(handler=cmd_task_show)
    for action, handler in (("claim", cmd_task_claim), ("release", cmd_task_release)):
        p = task.add_parser(action)
        p.add_argument("task_id", type=row_id)
        add_as(p)
        p.set_defaults(handler=handler)
    for action, handler in (("reassign", cmd_task_reassign), ("delegate", cmd_task_delegate)):
        p = task.add_parser(action)
        p.add_argument("task_id", type=row_id)
        p.add_argument("--to", required=True, metavar="USER")
        add_as(p)
        p.set_defaults(handler=handler)
    p = task.add_parser("complete")
    p.add_argument("task_id", type=row_id)
    p.add_argument("--data", help="form data as a JSON object")
    add_as(p)
    p.set_defaults(handler=cmd_task_complete)


def cmd_case_open(args: argparse.Namespace) -> int:
    data = json_object(args.data)
    with runtime(args) as rt, rt.unit() as work:
        raiser = user_by_name(work, args.as_user)
        subject = load_subject(work, raiser)
        opened = case_acts.open_case(
            work,
            subject,
            raiser,
            case_type=args.case_type,
            title=args.subject,
            data=data,
            priority=args.priority,
            contact=args.contact,
        )
        detail = case_page(work, subject, raiser, opened.number)
    if args.json:
        emit(detail, as_json=True)
    else:
        print(f"opened {detail['number']}: {detail['subject']}")
        emit(
            [t for t in detail["tasks"] if t["state"] == "open"], as_json=False, table=TASK_COLUMNS
        )
    return 0


def cmd_case_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        query = case_list_query(
            work,
            subject,
            view=args.view,
            text=args.search,
            priority=args.priority,
            status=args.status,
            case_type=args.case_type,
        ).limit(args.limit)
        rows = [summary_for(work, subject, c) for c in work.session.scalars(query)]
    columns = ["number", "type", "status", "priority", "subject", "raiser", "updated_at"]
    emit(rows, as_json=args.json, table=[c for c in columns if not rows or c in rows[0]])
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        detail = case_page(work, load_subject(work, user), user, args.number)
    if args.json:
        emit(detail, as_json=True)
        return 0
    tasks_, history, stream = detail.pop("tasks"), detail.pop("history"), detail.pop("stream")
    fields = detail.pop("fields", [])
    detail.pop("data", None)
    if detail.pop("assignee_deactivated", False):  # marked for people, as on the case page
        detail["assignee"] = f"{detail['assignee']} (deactivated)"
    emit(detail, as_json=False)
    for title, rows, columns in (
        ("Details", fields, ["label", "display"]),
        (
            "Tasks",
            _holders_marked(tasks_),
            [c for c in [*TASK_COLUMNS, "completed_by"] if not tasks_ or c in tasks_[0]],
        ),
        ("Stream", stream, ["at", "author", "internal", "body"]),
        ("History", history, ["at", "actor", "entity", "id", "action"]),
    ):
        if rows:
            print(f"\n{title}:")
            emit(rows, as_json=False, table=columns)
    return 0


def cmd_case_close(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        actor = user_by_name(work, args.as_user)
        subject = load_subject(work, actor)
        if args.outcome is not None:
            case = case_acts.close_with_outcome(work, subject, args.number, args.outcome)
        else:
            case = case_acts.close_case(work, subject, actor, args.number, args.reason)
        summary = summary_for(work, subject, case)
    if args.json:
        emit(summary, as_json=True)
    else:
        print(f"closed {summary['number']}")
    return 0


def _holders_marked(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks for people: a deactivated holder is marked, as on the case page."""
    return [
        {**t, "claimed_by": f"{t['claimed_by']} (deactivated)"}
        if t.get("claimed_by_deactivated")
        else t
        for t in tasks
    ]


def cmd_task_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        rows = task_acts.inbox_rows(work, load_subject(work, user), user, scope=args.scope)
    if not args.json:
        rows = _holders_marked(rows)
    emit(rows, as_json=args.json, table=[c for c in TASK_COLUMNS if not rows or c in rows[0]])
    return 0


def cmd_task_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        detail = task_acts.show_task(work, load_subject(work, user), user, args.task_id)
    emit(detail, as_json=args.json)
    return 0


def _act(args: argparse.Namespace, verb: str) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        subject = load_subject(work, user)
        if verb in ("reassign", "delegate"):
            to = user_by_name(work, args.to)
            task = task_acts.hand_over(
                work, subject, user, args.task_id, to, delegate=verb == "delegate"
            )
        elif verb == "complete":
            data = json_object(args.data)
            task = task_acts.complete(work, subject, user, args.task_id, data).task
        else:
            task = getattr(task_acts, verb)(work, subject, user, args.task_id)
        summary = task_views(work, subject, user, [summaries.task_summary(work, task)])[0]
        case = summary_for(work, subject, cases.case_by_number(work, summary["case"]))
        follow_up = task_acts.open_tasks_for(work, subject, user, task.case_id)
    if args.json:
        emit({"task": summary, "case": case, "open_tasks": follow_up}, as_json=True)
        return 0
    print(
        f"task {summary['id']} '{summary['name']}': {summary['state']}"
        + (f", held by {summary['claimed_by']}" if summary["claimed_by"] else "")
    )
    if verb == "complete":
        print(f"case {case['number']} is {case['status']}")
        if follow_up:
            print("open tasks now:")
            columns = [c for c in TASK_COLUMNS if c in follow_up[0]]
            emit(follow_up, as_json=False, table=columns)
    return 0


def cmd_task_claim(args: argparse.Namespace) -> int:
    return _act(args, "claim")


def cmd_task_release(args: argparse.Namespace) -> int:
    return _act(args, "release")


def cmd_task_reassign(args: argparse.Namespace) -> int:
    return _act(args, "reassign")


def cmd_task_delegate(args: argparse.Namespace) -> int:
    return _act(args, "delegate")


def cmd_task_complete(args: argparse.Namespace) -> int:
    return _act(args, "complete")
