"""Commands for email-to-case: ``mail mailbox …`` (in ``cli/mailboxes.py``), ``mail domain
add``, ``mail poll``, ``mail quarantine list|retry``, ``mail triage list|open|thread``,
``mail bounces list|clear`` and ``mail import``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import select

from engine import audit
from engine.errors import InvalidInput, NotFound
from engine.runtime import Runtime
from engine.store.mailbox import InboundMessage, Mailbox
from mail import bounces, held
from mail.imap import MailboxPoller, PollResult, fetch_again, poll_all
from mail.intake import Outcome, retry, take_in
from mail.mailboxes import (
    add_domain_rule,
    list_mailboxes,
    mailbox_by_name,
)
from people.directory import user_by_name
from rules import load_subject
from rules.case_lists import require_triage_decision

from . import logs, mailboxes
from .context import application, row_id, runtime
from .errors import MAIL_SERVER
from .output import ProgressBar, done, emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mail = commands.add_parser("mail", help="email-to-case: group mailboxes and intake")
    sub = mail.add_subparsers(dest="action", required=True)
    mailboxes.register(sub)
    p = sub.add_parser("domain", help="file new contacts of a mail domain under a customer")
    p.add_argument("domain")
    p.add_argument("--customer-group", required=True)
    p.set_defaults(handler=cmd_domain)
    p = sub.add_parser("poll", help="take new mail in from every active mailbox")
    p.add_argument("--once", action="store_true", help="poll once and exit (else keep watching)")
    p.set_defaults(handler=cmd_poll)
    quarantine = sub.add_parser("quarantine", help="mail that could not be taken in")
    qsub = quarantine.add_subparsers(dest="quarantine_action", required=True)
    p = qsub.add_parser("list")
    p.add_argument("--mailbox")
    p.set_defaults(handler=cmd_quarantine_list)
    p = qsub.add_parser("retry", help="process a quarantined message again")
    p.add_argument("id", type=row_id)
    p.set_defaults(handler=cmd_quarantine_retry)
    triage = sub.add_parser(
        "triage", help="mail held because it names a case its sender takes no part in"
    )
    tsub = triage.add_subparsers(dest="triage_action", required=True)
    p = tsub.add_parser("list")
    p.add_argument("--mailbox")
    p.set_defaults(handler=cmd_triage_list)
    p = tsub.add_parser("open", help="open a new case for the message")
    p.add_argument("id", type=row_id)
    p.add_argument("--as", dest="as_user", required=True, help="the agent deciding")
    p.set_defaults(handler=cmd_triage_open)
    p = tsub.add_parser("thread", help="add the message to a case; its sender joins the case")
    p.add_argument("id", type=row_id)
    p.add_argument("case", help="case number, e.g. C-000123")
    p.add_argument("--as", dest="as_user", required=True, help="the agent deciding")
    p.set_defaults(handler=cmd_triage_thread)
    blocked = sub.add_parser(
        "bounces", help="addresses that bounced; repeated hard failures suppress them"
    )
    bsub = blocked.add_subparsers(dest="bounces_action", required=True)
    p = bsub.add_parser("list")
    p.set_defaults(handler=cmd_bounces_list)
    p = bsub.add_parser("clear", help="undo: send to an address again, forget its failures")
    p.add_argument("address")
    p.set_defaults(handler=cmd_bounces_clear)
    p = sub.add_parser("import", help="take in a message from a file (.eml)")
    p.add_argument("file", type=Path)
    p.add_argument("--mailbox", required=True)
    p.set_defaults(handler=cmd_import)


def cmd_domain(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rule = add_domain_rule(work, domain=args.domain, customer_group=args.customer_group)
        emit({"domain": rule.domain, "customer_group": args.customer_group}, as_json=args.json)
    return 0


def _poll_row(name: str, result: PollResult) -> dict[str, object]:
    return {
        "mailbox": name,
        "status": "failed" if result.error else "ok",
        "fetched": result.fetched,
        "new": result.new,
        "duplicates": result.duplicates,
        "quarantined": result.quarantined,
        "resynced": result.resynced,
        "error": result.error,
    }


def cmd_poll(args: argparse.Namespace) -> int:
    """Every active mailbox; one that fails is one line on standard error and the others
    are still polled.  Exit 9 when any mailbox failed."""
    if not args.once:
        logs.for_service(args.debug)
    with application(args) as app:
        rt, domain = app.runtime, app.mail.domain
        rt.init_schema()
        if not args.once:
            return _watch_forever(rt, domain)
        bars: list[ProgressBar] = []

        def bar_for(name: str) -> ProgressBar:  # drawn only for a mailbox with new mail
            bars.append(ProgressBar(f"mailbox {name}", unit="messages"))
            return bars[-1]

        try:
            results = poll_all(rt, domain=domain, progress=bar_for)
        finally:
            for bar in bars:
                bar.close()
    failed = [result.error for result in results.values() if result.error]
    for error in failed:
        print(f"error: {error}", file=sys.stderr)
    emit(
        [_poll_row(n, r) for n, r in results.items()],
        as_json=args.json,
        table=["mailbox", "status", "fetched", "new", "duplicates", "quarantined", "resynced"],
    )
    return MAIL_SERVER if failed else 0


def _watch_forever(rt: Runtime, domain: str) -> int:
    """Every mailbox in turn (``run.py worker`` watches them side by side); a mailbox whose
    server fails is a warning and is tried again on its next turn."""
    with rt.unit() as work:
        boxes = [(m.id, m.poll_seconds) for m in list_mailboxes(work, active_only=True)]
    if not boxes:
        raise InvalidInput("no active mailbox", {"mailbox": "add one with `mail mailbox add`"})
    pollers = [(seconds, MailboxPoller(rt, i, domain=domain)) for i, seconds in boxes]
    try:
        while True:
            for seconds, poller in pollers:
                started = time.monotonic()
                poller.watch_logged(seconds / len(pollers))
                # a server that fails at once must not make this a busy loop
                time.sleep(max(0.0, seconds / len(pollers) - (time.monotonic() - started)))
    finally:
        for _, poller in pollers:
            poller.close()


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        statement = (
            select(InboundMessage, Mailbox.name)
            .join(Mailbox, Mailbox.id == InboundMessage.mailbox_id)
            .where(InboundMessage.state == "quarantined")
            .order_by(InboundMessage.id)
        )
        if args.mailbox:
            statement = statement.where(Mailbox.id == mailbox_by_name(work, args.mailbox).id)
        rows = [
            {
                "id": row.id,
                "mailbox": name,
                "received_at": row.received_at,
                "from": row.from_address,
                "size": row.size,
                "message_id": row.message_id,
                "reason": row.reason,
            }
            for row, name in work.session.execute(statement)
        ]
    emit(rows, as_json=args.json, table=["id", "mailbox", "received_at", "size", "reason"])
    return 0


def cmd_quarantine_retry(args: argparse.Namespace) -> int:
    with application(args) as app:
        rt, domain = app.runtime, app.mail.domain
        with rt.unit() as work:
            row = work.session.get(InboundMessage, args.id)
            complete = row is None or row.raw_complete
        raw = None if complete else fetch_again(rt, args.id)
        outcome = retry(rt, args.id, domain=domain, raw=raw)
    _print_outcome(outcome, as_json=args.json)
    return 0 if outcome.state != "quarantined" else 6


def cmd_triage_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        mailbox_id = mailbox_by_name(work, args.mailbox).id if args.mailbox else None
        rows = [
            {
                "id": row.id,
                "received_at": row.received_at,
                "from": row.from_address,
                "subject": row.subject,
                "refused": row.attempted_match,
            }
            for row, _mailbox in held.held(work, mailbox_id=mailbox_id)
        ]
    emit(rows, as_json=args.json, table=["id", "received_at", "from", "subject", "refused"])
    return 0


def cmd_triage_open(args: argparse.Namespace) -> int:
    with application(args) as app, app.runtime.unit() as work:
        domain = app.mail.domain
        agent = user_by_name(work, args.as_user)
        require_triage_decision(work, load_subject(work, agent), args.id, into=None)
        outcome = held.open_case_for(work, args.id, agent=agent, domain=domain)
    _print_outcome(outcome, as_json=args.json)
    return 0


def cmd_triage_thread(args: argparse.Namespace) -> int:
    with application(args) as app, app.runtime.unit() as work:
        domain = app.mail.domain
        agent = user_by_name(work, args.as_user)
        require_triage_decision(work, load_subject(work, agent), args.id, into=args.case)
        outcome = held.thread_into(work, args.id, number=args.case, agent=agent, domain=domain)
    _print_outcome(outcome, as_json=args.json)
    return 0


def cmd_bounces_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rows = [
            {
                "address": row.address,
                "status": row.status,
                "hard": row.hard_bounces,
                "soft": row.soft_bounces,
                "suppressed": row.suppressed_at is not None,
                "last_bounced_at": row.last_bounced_at,
                "reason": row.reason,
            }
            for row in bounces.list_bounced(work.session)
        ]
    emit(
        rows,
        as_json=args.json,
        table=["address", "status", "hard", "soft", "suppressed", "last_bounced_at"],
    )
    return 0


def cmd_bounces_clear(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        if not bounces.clear(work.session, args.address):
            raise NotFound(f"no failures on record for {args.address}")
        audit.record(
            work,
            actor_id=None,
            entity="mail_address",
            entity_id=args.address.strip().lower(),
            action="unsuppressed",
        )
    done(f"{args.address}: mail is sent there again", as_json=args.json, address=args.address)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {args.file}", {"file": exc.strerror or str(exc)}) from None
    with application(args) as app:
        rt = app.runtime
        rt.init_schema()
        with rt.unit() as work:
            mailbox_id = mailbox_by_name(work, args.mailbox).id
        outcome = take_in(rt, mailbox_id, raw, domain=app.mail.domain)
    _print_outcome(outcome, as_json=args.json)
    return 6 if outcome.state == "quarantined" else 0


def _print_outcome(outcome: Outcome, *, as_json: bool) -> None:
    emit(
        {
            "id": outcome.inbound_id,
            "state": outcome.state,
            "duplicate": outcome.duplicate,
            "case": outcome.case_number,
            "matched_by": outcome.matched_by,
            "reason": outcome.reason,
        },
        as_json=as_json,
    )
