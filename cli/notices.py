"""Commands for what the product sends and when: ``sla show`` and ``outbox list|retry``."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from engine.cases import case_by_number
from engine.store.models import Timer
from mail.outbox import list_messages, retry

from .context import runtime
from .output import emit


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sla = commands.add_parser("sla", help="SLA targets of a case").add_subparsers(
        dest="action", required=True
    )
    p = sla.add_parser("show", help="targets, thresholds and due times of a case")
    p.add_argument("number")
    p.set_defaults(handler=cmd_sla_show)
    outbox = commands.add_parser("outbox", help="automatic mail").add_subparsers(
        dest="action", required=True
    )
    p = outbox.add_parser("list")
    p.add_argument("--state", choices=["pending", "sent", "failed", "held"])
    p.set_defaults(handler=cmd_outbox_list)
    p = outbox.add_parser("retry", help="send a failed message again")
    p.add_argument("message", help="row id or Message-ID")
    p.set_defaults(handler=cmd_outbox_retry)


def cmd_sla_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        case = case_by_number(work, args.number)
        rows = [
            {
                "timer": t.name,
                "source": t.source,
                "threshold": t.threshold,
                "due_at": t.due_at,
                "state": t.state,
                "fired_at": t.fired_at,
            }
            for t in work.session.scalars(
                select(Timer).where(Timer.case_id == case.id).order_by(Timer.due_at)
            )
        ]
    emit(
        rows,
        as_json=args.json,
        table=["timer", "source", "threshold", "due_at", "state", "fired_at"],
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
    key: int | str = int(args.message) if args.message.isdigit() else args.message
    with runtime(args) as rt, rt.unit() as work:
        message = retry(work.session, key, now=work.now)
        summary = {"id": message.id, "state": message.state}
    emit(summary, as_json=args.json)
    return 0
