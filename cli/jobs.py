"""``run.py jobs``: background work that failed for good, and retrying or discarding it.

``jobs failed [--kind timer|outbox|intake]`` lists timers (BPMN, SLA, connector jobs) given
up on after their attempts, outbox mail that failed, and quarantined incoming mail;
``jobs retry KIND:ID`` puts one back in line, ``jobs discard KIND:ID`` gives it up for
good.  Without ``--as`` the operator at the command line acts; with it, only an
administrator may (``rules.job_acts``).  Both actions are audited.
"""

from __future__ import annotations

import argparse

from casework import jobs
from people.directory import user_by_name
from rules import load_subject

from .context import add_as, application, runtime
from .output import emit

COLUMNS = ["id", "case", "what", "attempts", "at", "error"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "jobs", help="failed background work (timers, outbox mail, mail intake): list, retry"
    ).add_subparsers(dest="action", required=True)
    p = sub.add_parser("failed", help="jobs given up on, by kind, oldest first")
    p.add_argument("--kind", choices=jobs.KINDS, help="only this kind")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_failed)
    for action, handler, text in (
        ("retry", cmd_retry, "put a failed job back in line (intake: process it again now)"),
        ("discard", cmd_discard, "give a failed job up for good (its row and error stay)"),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("job", type=jobs.parse_job_id, metavar="KIND:ID", help="e.g. timer:12")
        add_as(p, required=False)
        p.set_defaults(handler=handler)


def cmd_failed(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
        rows = jobs.failed_jobs(work, subject, kind=args.kind)
    emit(rows, as_json=args.json, table=COLUMNS)
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    with application(args) as app, app.runtime.unit() as work:
        user = user_by_name(work, args.as_user) if args.as_user else None
        subject = load_subject(work, user) if user else None
        result = jobs.retry(
            work, subject, args.job, actor_id=user.id if user else None, domain=app.mail.domain
        )
    if args.json:
        emit(result, as_json=True)
    elif args.job.kind == "intake":
        where = f" on {result['case']}" if result["case"] else ""
        print(f"{result['id']}: {result['state']}{where}" + _reason(result))
    else:
        print(f"{result['id']}: back in line ({result['state']}) for the next worker sweep")
    # a message quarantined again failed again, as `mail quarantine retry` reports it
    return 6 if result["state"] == "quarantined" else 0


def _reason(result: dict[str, object]) -> str:
    return f" ({result['reason']})" if result.get("reason") else ""


def cmd_discard(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user) if args.as_user else None
        subject = load_subject(work, user) if user else None
        result = jobs.discard(work, subject, args.job, actor_id=user.id if user else None)
    if args.json:
        emit(result, as_json=True)
    else:
        print(f"{result['id']}: discarded; it will not run again")
    return 0
