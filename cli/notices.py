"""Commands for service levels and what the product sends: ``sla show|wait|resume|policy``
and ``outbox list|retry``."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.errors import InvalidInput
from engine.run.case_types import current_version_id
from engine.run.cases import case_by_number
from engine.sla import TargetStatus
from engine.sla import clocks as sla_clocks
from engine.sla import versions as sla_versions
from engine.store.models import Timer
from engine.store.outbox import STATES as OUTBOX_STATES
from mail.outbox import list_messages, retry
from people.directory import user_by_name
from rules import case_acts, load_subject

from . import notice_hours
from . import sla as sla_reports
from . import sla_versions as sla_moves
from .context import add_as, outbox_key, runtime
from .output import done, emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sla = commands.add_parser("sla", help="SLA targets of a case").add_subparsers(
        dest="action", required=True
    )
    p = sla.add_parser("show", help="targets, due times, pauses and timers of a case")
    p.add_argument("number")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_sla_show)
    for action, help_text in (
        ("wait", "the case waits on the customer: its SLA clocks stop"),
        ("resume", "the wait on the customer ends: the clocks run again"),
    ):
        p = sla.add_parser(action, help=help_text)
        p.add_argument("number")
        add_as(p)
        p.set_defaults(handler=cmd_sla_wait, waiting=action == "wait")
    p = sla.add_parser(
        "policy", help="a new SLA policy version for new cases (open ones: sla migrate)"
    )
    p.add_argument("--type", dest="case_type", required=True)
    p.add_argument(
        "file", type=Path, nargs="?", help="TOML file with the [sla] section of a case type"
    )
    p.add_argument("--none", action="store_true", help="the policy 'none': no SLA clocks")
    p.set_defaults(handler=cmd_sla_policy)
    sla_reports.register(sla)
    sla_moves.register(sla)
    notice_hours.register(commands, sla)
    outbox = commands.add_parser("outbox", help="automatic mail").add_subparsers(
        dest="action", required=True
    )
    p = outbox.add_parser("list")
    p.add_argument("--state", choices=list(OUTBOX_STATES))
    p.set_defaults(handler=cmd_outbox_list)
    p = outbox.add_parser("retry", help="send a failed message again")
    p.add_argument("message", type=outbox_key, help="row id or Message-ID")
    p.set_defaults(handler=cmd_outbox_retry)


def cmd_sla_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        if args.as_user:
            subject = load_subject(work, user_by_name(work, args.as_user))
            # service levels are the agents' business (the portal never shows them)
            case, _ = case_acts.case_for_action(work, subject, args.number, "read_internal")
        else:
            case = case_by_number(work, args.number)
        shown = sla_clocks.clocks(work, case.id)
        timer_rows = [
            {
                "timer": t.name,
                "source": t.source,
                "threshold": t.threshold,
                "cycle": t.cycle,
                "due_at": t.due_at,
                "state": t.state,
                "fired_at": t.fired_at,
            }
            for t in work.session.scalars(
                select(Timer).where(Timer.case_id == case.id).order_by(Timer.due_at)
            )
        ]
    targets = [_target(t) for t in shown.targets] if shown else []
    pauses = [{"from": a, "to": b} for a, b in shown.pauses] if shown else []
    report = {
        "case": case.number,
        "policy_version": shown.policy_number if shown else None,
        "paused": shown.paused if shown else False,
        "waiting_on_customer": shown.waiting_on_customer if shown else False,
        "targets": targets,
        "pauses": pauses,
        "timers": timer_rows,
    }
    if args.json:
        emit(report, as_json=True)
        return 0
    if shown is None:
        print(f"{case.number}: no SLA policy")
    else:
        state = "paused (waiting on the customer)" if shown.paused else "running"
        print(f"{case.number}: SLA policy version {shown.policy_number}, clocks {state}")
        emit(
            targets,
            as_json=False,
            table=["target", "state", "due_at", "remaining", "met_at", "breached_at"],
        )
        for pause in pauses:
            print(
                f"paused {pause['from']:%Y-%m-%d %H:%M} UTC until "
                + (f"{pause['to']:%Y-%m-%d %H:%M} UTC" if pause["to"] else "now")
            )
    emit(timer_rows, as_json=False, table=list(timer_rows[0]) if timer_rows else ["timer"])
    return 0


def _target(status: TargetStatus) -> dict[str, Any]:
    return {
        "target": status.target,
        "state": status.state,
        "due_at": status.due_at,
        "remaining": _business_hours(status.remaining),
        "met_at": status.met_at,
        "breached_at": status.breached_at,
    }


def _business_hours(left: timedelta) -> str:
    """``50h 00m``: business time left, in hours (a business "day" has no fixed length)."""
    minutes = int(left.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def cmd_sla_wait(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        actor = user_by_name(work, args.as_user)
        changed = case_acts.set_waiting(
            work, load_subject(work, actor), actor, args.number, args.waiting
        )
    verb = "waits on the customer" if args.waiting else "runs again"
    done(
        f"{args.number} {verb}" + ("" if changed else " (no change)"),
        as_json=args.json,
        case=args.number,
        waiting_on_customer=args.waiting,
        changed=changed,
    )
    return 0


def cmd_sla_policy(args: argparse.Namespace) -> int:
    if args.none == (args.file is not None):
        raise InvalidInput("name a policy file or --none", {"file": "one of the two"})
    definition = {} if args.none else sla_moves.read_section_file(args.file)
    with runtime(args) as rt, rt.unit() as work:
        case_type, _ = current_version_id(work, args.case_type)
        number, new = sla_versions.store(work, case_type.id, definition, actor_id=None)
    label = "none" if args.none else f"version {number}"
    done(
        f"{args.case_type}: SLA policy {label}"
        + (" stored; new cases use it (open cases: run.py sla migrate)" if new else " (unchanged)"),
        as_json=args.json,
        case_type=args.case_type,
        policy_version=number,
        new=new,
    )
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rows = [
            {
                "id": m.id,
                "state": m.state,
                "kind": m.kind,
                "to": m.recipients,
                "subject": m.subject,
                "attempts": m.attempts,
                "created_at": m.created_at,
                "error": m.last_error,
            }
            for m in list_messages(work.session, args.state)
        ]
    emit(
        rows,
        as_json=args.json,
        table=["id", "state", "kind", "to", "subject", "attempts", "created_at", "error"],
    )
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        message = retry(work.session, args.message, now=work.now)
        summary = {"id": message.id, "state": message.state}
    emit(summary, as_json=args.json)
    return 0
