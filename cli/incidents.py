"""``run.py incidents``: the process steps that failed on cases, and retrying them.

``incidents list`` (``--case C-000123`` for one case), ``incidents show ID`` and
``incidents retry ID`` after the process was fixed (``deploy`` + ``migrate``).  With
``--as USER`` only the incidents of cases that user may change; without it, the operator
at the command line sees them all.  A retry that fails again exits 8, as the first
failure did, and counts another attempt.
"""

from __future__ import annotations

import argparse

from people.directory import user_by_name
from rules import incident_acts, load_subject

from .context import add_as, row_id, runtime
from .output import emit

COLUMNS = ["id", "case", "case_type", "element_id", "reason", "action", "attempts", "created_at"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    incidents = commands.add_parser(
        "incidents", help="failed process steps of cases: list, show, retry"
    ).add_subparsers(dest="action", required=True)
    p = incidents.add_parser("list", help="open incidents, oldest first")
    p.add_argument("--case", dest="number", help="only this case's")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_list)
    for action, handler, text in (
        ("show", cmd_show, "one incident: element, expression or script line, error"),
        ("retry", cmd_retry, "replay the failed step on the case as it is now"),
    ):
        p = incidents.add_parser(action, help=text)
        p.add_argument("incident_id", type=row_id)
        add_as(p, required=False)
        p.set_defaults(handler=handler)


def cmd_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
        rows = incident_acts.list_incidents(work, subject, number=args.number)
    emit(rows, as_json=args.json, table=COLUMNS)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
        row = incident_acts.show_incident(work, subject, args.incident_id)
    emit(row, as_json=args.json)
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user) if args.as_user else None
        subject = load_subject(work, user) if user else None
        row = incident_acts.retry_incident(work, subject, user, args.incident_id)
    if args.json:
        emit(row, as_json=True)
    else:
        if row.get("opened"):
            print(f"incident {row['id']} resolved: {row['opened']} opened")
        else:
            print(f"incident {row['id']} resolved: {row['case'] or row['case_type']} runs on")
    return 0
