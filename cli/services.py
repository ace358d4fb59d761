"""Long-running and showcase commands: the timer worker and the demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler

from casework.compose import App
from designer import deploy
from engine.errors import Conflict
from engine.run.cases import OpenedCase
from engine.runtime import UnitOfWork
from mail.imap import watchers
from mail.notification_digest import queue_notification_digests
from people import directory
from rules import case_acts, load_subject, task_acts
from rules.admin import permit_case_type, permit_customers, set_portal_access

from . import logs
from .context import application
from .errors import MAIL_SERVER
from .output import done, emit
from .ticker import Heartbeat, TimerTicker, sweep

log = logging.getLogger("casework.worker")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "worker", help="fire due timers (run several on PostgreSQL to scale out)"
    )
    p.add_argument("--tick", type=float, default=1.0, help="seconds between sweeps (default 1)")
    p.add_argument("--once", action="store_true", help="sweep once and exit")
    p.add_argument(
        "--digest-every",
        type=float,
        default=60.0,
        metavar="MINUTES",
        help="queue notification digests this often (default 60; 0: never, leave it to cron)",
    )
    p.set_defaults(handler=cmd_worker)
    p = commands.add_parser(
        "demo", help="set up groups, users and the support case type; open cases"
    )
    p.set_defaults(handler=cmd_demo)


def cmd_worker(args: argparse.Namespace) -> int:
    """``--once``: one tick; exit 9 when mail could not be sent (each failure is a warning
    line naming the message and the server's answer; the message waits for its retry)."""
    if not args.once:
        logs.for_service(args.debug)
    with application(args) as app:
        rt, transport = app.runtime, app.outbox
        rt.init_schema()
        if args.once:
            swept = sweep(rt, transport, Heartbeat(rt))
            done(
                f"{swept.fired} case(s) advanced; outbox: {swept.sent} sent, {swept.failed} failed",
                as_json=args.json,
                cases_advanced=swept.fired,
                mail_sent=swept.sent,
                mail_failed=swept.failed,
            )
            if not swept.failed:
                return 0
            print(
                f"error: {swept.failed} outbox message(s) not sent (see the warnings above); "
                "`run.py outbox list` shows when each is retried",
                file=sys.stderr,
            )
            return MAIL_SERVER
        scheduler = BlockingScheduler()
        ticker = TimerTicker(scheduler, rt, transport, args.tick)
        ticker.start()
        stopping = threading.Event()  # ends a mailbox's IDLE wait at once on SIGTERM
        for name, poller, seconds in watchers(rt, domain=app.mail.domain):
            scheduler.add_job(  # IDLE fills most of the interval where the server has it
                poller.watch_logged,
                "interval",
                args=[seconds * 0.9, stopping],
                seconds=seconds,
                max_instances=1,
                coalesce=True,
                id=f"mailbox-{name}",
                next_run_time=datetime.now(UTC),
            )
        if args.digest_every > 0:
            scheduler.add_job(
                _queue_digests,
                "interval",
                args=[app],
                minutes=args.digest_every,
                max_instances=1,
                coalesce=True,
                id="notification-digests",
            )

        def stop(*_: object) -> None:  # finish the jobs running now, start no other
            stopping.set()
            scheduler.shutdown(wait=True)

        signal.signal(signal.SIGTERM, stop)
        log.info("worker started: sweeping due timers every %.1f s", args.tick)
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
        ticker.heartbeat.stop()
    return 0


def _queue_digests(app: App) -> None:
    """The notification digests of everyone who chose them (several workers may run this
    at once: each notification is claimed by one of them)."""
    with app.runtime.unit() as work:
        queued = queue_notification_digests(work, app.mail)
    if queued:
        log.info("queued %d notification digest(s)", queued)


DEMO_GROUPS = {
    "service-desk": ["alice", "bob"],
    "specialists": ["sam"],
    "support-leads": ["lee"],
    "support-monitors": ["mona"],
}
DEMO_CUSTOMERS = ["carol", "dave"]
# Demo people share one password; it meets the password policy like any other.
DEMO_PASSWORD = "casework-demo"


def cmd_demo(args: argparse.Namespace) -> int:
    with application(args) as app:
        rt, support = app.runtime, app.config.processes / "support.bpmn"
        rt.init_schema()
        with rt.unit() as work:
            _ensure_directory(work)
        config = deploy.resolve_config(support, None, None)
        with rt.unit() as work:
            result = deploy.deploy(work, bpmn_path=support, config=config)
        with rt.unit() as work:
            _web_access(work)
        with rt.unit() as work:
            # the customers open their cases in the portal, as themselves; alice triages
            people = {name: directory.user_by_name(work, name) for name in ("carol", "dave")}
            portal = {name: load_subject(work, user) for name, user in people.items()}

            def raise_case(name: str, title: str) -> OpenedCase:
                return case_acts.open_case(
                    work, portal[name], people[name], case_type="SUPPORT", title=title
                )

            printer = raise_case("carol", "Printer jams on page 2")
            invoice = raise_case("dave", "Invoice shows the wrong VAT")
            vpn = raise_case("carol", "VPN drops every hour")
            alice = directory.user_by_name(work, "alice")
            investigate = task_acts.complete(
                work,
                load_subject(work, alice),
                alice,
                vpn.task_ids[0],
                {
                    "category": "software",
                    "priority": "high",
                    "needs_investigation": True,
                    "triage_note": "Check the VPN client logs",
                },
            ).new_task_ids[0]
    if args.json:
        numbers = [printer.number, invoice.number, vpn.number]
        facts = {"case_type": "SUPPORT", "version": result.version, "cases": numbers}
        emit({**facts, "groups": DEMO_GROUPS, "customers": DEMO_CUSTOMERS}, as_json=True)
        return 0
    staff = ", ".join(f"{u} ({g})" for g, us in DEMO_GROUPS.items() for u in us)
    print(f"Support case type deployed as version {result.version}.")
    print(f"People (password '{DEMO_PASSWORD}'): {staff}; customers carol and dave.")
    print(
        f"Cases: {printer.number} and {invoice.number} await triage by the service desk; "
        f"{vpn.number} is with the specialists.\n"
    )
    triage = printer.task_ids[0]
    print("Try:")
    print("  python run.py task list --as alice                # the service desk's inbox")
    print(f"  python run.py task complete {triage} --as mona          # refused: not her lane")
    print(f"  python run.py task show {triage} --as sam               # not found: not his case")
    print(
        f'  python run.py task complete {triage} --as alice --data \'{{"needs_investigation": '
        "false}'"
    )
    print(
        f'  python run.py task complete {investigate} --as sam --data \'{{"findings": '
        '"driver bug"}\''
    )
    print(f"  python run.py case show {printer.number} --as alice      # tasks and audit trail")
    print("  python run.py worker --once                       # fire due timers")
    print("  python run.py serve   # http://127.0.0.1:8000 alice, /portal carol, /admin admin")
    return 0


def _web_access(work: UnitOfWork) -> None:
    """What the web app needs on top: the service desk may open and change support cases,
    every team reads the customers' cases (seed 002: the customer group of a case's main
    contact must be readable too), carol and dave reach the portal as contacts of their
    companies and may open support cases there, ``admin`` administers."""
    permit_case_type(work, group="service-desk", case_type="SUPPORT", write=True)
    for group in DEMO_GROUPS:
        permit_customers(work, group=group, customer=None)
    for name, company in (("carol", "Acme"), ("dave", "Globex")):
        with contextlib.suppress(Conflict):  # a second demo run finds them in place
            directory.add_customer_group(work, name=company)
            directory.add_contact(work, name=name.title(), customer_group=company, username=name)
        set_portal_access(
            work,
            username=name,
            view="own",
            edit="own",
            parent_visibility=False,
            case_types=["SUPPORT"],
        )
    with contextlib.suppress(Conflict):
        directory.add_user(work, username="admin", password=DEMO_PASSWORD, is_admin=True)


def _ensure_directory(work: UnitOfWork) -> None:
    users = [u for members in DEMO_GROUPS.values() for u in members] + DEMO_CUSTOMERS
    for name in users:
        with contextlib.suppress(Conflict):  # the demo may run again on the same database
            directory.add_user(
                work,
                username=name,
                display_name=name.title(),
                email=f"{name}@example.com",
                password=DEMO_PASSWORD,
            )
    for group, members in DEMO_GROUPS.items():
        with contextlib.suppress(Conflict):
            directory.add_group(work, name=group)
        for member in members:
            directory.add_member(work, username=member, group=group)
