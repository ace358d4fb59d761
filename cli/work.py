"""Day-to-day commands: open and inspect cases, work tasks from the inbox."""

from __future__ import annotations

import argparse

from engine.run import cases, posts, tasks
from engine.run import summaries as views
from engine.run.cases import PRIORITIES
from people.directory import user_by_name
from rules import load_subject, visible_case
from rules.pages import case_list_query, case_page

from .context import add_as, json_object, row_id, runtime
from .output import emit

TASK_COLUMNS = ["id", "case", "name", "lane", "role", "state", "claimed_by", "candidates"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    case = commands.add_parser("case", help="open, list, show and close cases").add_subparsers(
        dest="action", required=True
    )
    p = case.add_parser("open")
    p.add_argument("--type", dest="case_type", required=True, help="case-type key, e.g. SUPPORT")
    p.add_argument("--subject", required=True)
    p.add_argument("--priority", default="normal", choices=PRIORITIES)
    p.add_argument("--data", help="process variables as a JSON object")
    p.add_argument("--contact", type=row_id, help="id of the main contact")
    add_as(p)
    p.set_defaults(handler=cmd_case_open)
    p = case.add_parser("list", help="cases the user may see, newest first")
    p.add_argument("--status", choices=["open", "closed"])
    p.add_argument("--type", dest="case_type")
    p.add_argument("--limit", type=int, default=50)
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
    add_as(p)
    p.set_defaults(handler=cmd_case_post)
    p = case.add_parser("close")
    p.add_argument("number")
    p.add_argument("--reason", default="")
    add_as(p)
    p.set_defaults(handler=cmd_case_close)

    task = commands.add_parser("task", help="the task inbox").add_subparsers(
        dest="action", required=True
    )
    p = task.add_parser("list", help="tasks the user may work on")
    add_as(p)
    p.add_argument("--scope", choices=["all", "mine", "groups"], default="all")
    p.set_defaults(handler=cmd_task_list)
    p = task.add_parser("show")
    p.add_argument("task_id", type=row_id)
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
        opened = cases.open_case(
            work,
            case_type=args.case_type,
            subject=args.subject,
            raiser=raiser,
            data=data,
            priority=args.priority,
            main_contact_id=args.contact,
            actor_id=raiser.id,
        )
        detail = views.case_detail(work, cases.case_by_number(work, opened.number))
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
        rows = [views.case_summary(work, c) for c in work.session.scalars(query)]
    emit(
        rows,
        as_json=args.json,
        table=["number", "type", "status", "priority", "subject", "raiser", "updated_at"],
    )
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        detail = case_page(work, load_subject(work, user), user, args.number)
    if args.json:
        emit(detail, as_json=True)
        return 0
    tasks_, history, stream = detail.pop("tasks"), detail.pop("history"), detail.pop("stream")
    emit(detail, as_json=False)
    for title, rows, columns in (
        ("Tasks", tasks_, [*TASK_COLUMNS, "completed_by"]),
        ("Stream", stream, ["at", "internal", "body"]),
        ("History", history, ["at", "actor", "entity", "id", "action"]),
    ):
        if rows:
            print(f"\n{title}:")
            emit(rows, as_json=False, table=columns)
    return 0


def cmd_case_post(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        author = user_by_name(work, args.as_user)
        action = "post_internal" if args.internal else "post"
        visible_case(work, load_subject(work, author), args.number, action)
        post = posts.add_post(
            work, number=args.number, author=author, body=args.body, internal=args.internal
        )
        summary = {"id": post.id, "case": args.number, "internal": post.internal}
    if args.json:
        emit(summary, as_json=True)
    else:
        print(f"posted to {args.number}" + (" (internal)" if args.internal else ""))
    return 0


def cmd_case_close(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        actor = user_by_name(work, args.as_user)
        case = cases.close_case(work, number=args.number, actor_id=actor.id, reason=args.reason)
        summary = views.case_summary(work, case)
    if args.json:
        emit(summary, as_json=True)
    else:
        print(f"closed {summary['number']}")
    return 0


def cmd_task_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        rows = views.task_summaries(work, tasks.inbox(work, user, scope=args.scope))
    emit(rows, as_json=args.json, table=TASK_COLUMNS)
    return 0


def cmd_task_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        detail = views.task_summary(work, tasks.get_task(work, args.task_id))
    emit(detail, as_json=args.json)
    return 0


def _act(args: argparse.Namespace, verb: str) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        if verb in ("reassign", "delegate"):
            action = tasks.reassign if verb == "reassign" else tasks.delegate
            task = action(work, task_id=args.task_id, actor=user, to=user_by_name(work, args.to))
        elif verb == "complete":
            task = tasks.complete(
                work, task_id=args.task_id, user=user, data=json_object(args.data)
            ).task
        else:
            task = getattr(tasks, verb)(work, task_id=args.task_id, user=user)
        summary = views.task_summary(work, task)
        case = views.case_summary(work, cases.case_by_number(work, summary["case"]))
        follow_up = views.task_summaries(work, tasks.case_tasks(work, task.case_id))
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
            emit(follow_up, as_json=False, table=TASK_COLUMNS)
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
