"""Chaos: ``kill -9`` a working ``run.py worker`` again and again; nothing is lost, nothing doubled.

On PostgreSQL (a scratch schema, dropped after), a support desk has cases whose BPMN timer
(the triage deadline) and SLA thresholds (warnings, the first-response breach mailed to the
escalation group) fall due, and new mail arrives in a real Dovecot mailbox (the tests'
throw-away server).  A driver thread completes the "Review overdue triage" tasks the
worker's timers hand out, as an escalation lead would.  Meanwhile the worker is started
and killed with SIGKILL at a random moment once it is working, N times (each restart with a
clock a few minutes on, so leases a killed worker held run out), and then run to the end.
Every life of the worker has work of its own: the cases were opened a restart's clock step
apart (so each restart finds the next cases' timers due) and a few new messages arrive
before each start.  Each worker is a process of its own, forked from a process that has
imported Casework once (as a fork server does): a restart costs the worker's own start
(database, schema check, scheduler, IMAP login), not the second or so of CPU -- ten times
that on a busy machine -- of importing and compiling a thousand modules again.  Measured:
cases opened from mail (one per message), their posts, breach mails in the outbox and
delivered to the Maildir (by Message-ID), and completed review tasks -- each lost if
missing, duplicated if there more than once.  A message delivered again under the same
Message-ID after a kill (at-least-once delivery; a mail client shows it once) is counted
and printed apart.  BENCH lines: lost (target 0) and duplicated (target 0).
Usage: python bench/chaos.py [--quick] [--kills N] [--pg URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mailbox
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from designer import deploy  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.errors import Conflict  # noqa: E402
from engine.run import cases  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.store.mailbox import InboundMessage  # noqa: E402
from engine.store.models import Case, HumanTask, StreamPost, Timer  # noqa: E402
from engine.store.outbox import OutboxMessage  # noqa: E402
from mail.mailboxes import MailboxSpec, add_mailbox  # noqa: E402
from people import directory  # noqa: E402
from rules import load_subject, task_acts  # noqa: E402
from rules.admin import permit_customers  # noqa: E402
from tests.mail.dovecot import Dovecot  # noqa: E402
from tests.scratch_db import ScratchSchemas, unreachable  # noqa: E402

#: Monday 08:00 in Berlin: the cases open at the start of the service desk's day ...
OPENED = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
#: ... and the worker runs an hour after their 4-hour first-response target ran out.
RUN = OPENED + timedelta(hours=5)
#: How far each restart's clock moves on: more than half the outbox lease (10 minutes),
#: so a row a killed worker had leased is sent by one of the next two workers.  The cases
#: are opened in slices this far apart, so each restart finds the next slice due.
STEP = timedelta(minutes=6)
#: At most this many slices: the last one still breaches its first response (4 business
#: hours) before the desk closes at 18:00, so every case has its breach mail that day.
SLICES = 40
REVIEW = "Review overdue triage"
DOMAIN = "casework.example"


def seed(url: str, slices: int, per_slice: int) -> None:
    """People, the support case type and ``per_slice`` urgent cases opened at each of
    :data:`OPENED`, one :data:`STEP` later, ... (``slices`` times)."""
    rt = build_app(AppConfig(database_url=url, clock=ManualClock(OPENED))).runtime
    rt.init_schema()
    with rt.unit() as work:
        for group in ("service-desk", "specialists", "support-leads", "support-monitors"):
            directory.add_group(work, name=group)
        directory.add_user(work, username="lee", email=f"lee@{DOMAIN}")
        directory.add_member(work, username="lee", group="support-leads")
        directory.add_user(work, username="carol")
        directory.add_customer_group(work, name="customers")
        # the leads review overdue triage of the customers' cases too (the cases opened
        # from mail): without this they may not see those cases, tasks or no tasks
        permit_customers(work, group="support-leads", customer="customers")
        bpmn = ROOT / "processes" / "support.bpmn"
        deploy.deploy(work, bpmn_path=bpmn, config=deploy.resolve_config(bpmn, None, "SUPPORT"))
    rt.close()
    for j in range(slices):
        rt = build_app(AppConfig(database_url=url, clock=ManualClock(OPENED + j * STEP))).runtime
        for i in range(per_slice):
            with rt.unit() as work:
                carol = directory.user_by_name(work, "carol")
                subject = f"Case {j}/{i}"
                cases.open_case(
                    work, case_type="SUPPORT", subject=subject, raiser=carol, priority="urgent"
                )
        rt.close()


def new_mail(dovecot: Dovecot, user: str, first: int, count: int) -> None:
    """``count`` new customer messages in the IMAP mailbox, numbered from ``first``."""
    dovecot.append(
        user,
        *(
            (
                f"From: Customer {i} <customer{i}@customer.example>\r\n"
                f"To: support@{DOMAIN}\r\nSubject: Broken thing {i}\r\n"
                f"Message-ID: <chaos-{i}@customer.example>\r\n"
                "Date: Mon, 05 Jan 2026 10:00:00 +0100\r\n\r\n"
                f"Thing {i} is broken.\r\n"
            ).encode()
            for i in range(first, first + count)
        ),
    )


def group_mailbox(dovecot: Dovecot, url: str) -> str:
    """A fresh IMAP mailbox and the group mailbox reading it; the IMAP user's name."""
    user = dovecot.new_user()
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        add_mailbox(
            work,
            MailboxSpec(
                name="support",
                case_type="SUPPORT",
                group_address=f"support@{DOMAIN}",
                host="127.0.0.1",
                port=dovecot.port,
                tls=False,
                user=user,
                password="secret",
                customer_group="customers",
                poll_seconds=1,
            ),
        )
    rt.close()
    return user


@dataclass
class Driver:
    """Completes review tasks as they appear, in its own thread, like a lead at a desk."""

    url: str
    completed: set[int] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    failure: str | None = None  # why the driver stopped early: the run cannot settle then

    def run(self) -> None:
        rt = build_app(AppConfig(database_url=self.url, clock=ManualClock(RUN))).runtime
        try:
            while not self.stop.is_set():
                if not self._complete_some(rt):
                    time.sleep(0.1)
        except Exception as exc:  # noted for the main thread, which stops the run
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            rt.close()

    def _complete_some(self, rt: Runtime) -> bool:
        with rt.unit() as work:
            ids = list(
                work.session.scalars(
                    select(HumanTask.id)
                    .where(HumanTask.name == REVIEW, HumanTask.state == "open")
                    .order_by(HumanTask.id)
                    .limit(20)
                )
            )
        for task_id in ids:
            try:
                with rt.unit() as work:
                    lee = directory.user_by_name(work, "lee")
                    data = {"action_taken": "Called the desk"}
                    task_acts.complete(work, load_subject(work, lee), lee, task_id, data)
                self.completed.add(task_id)
            except Conflict:  # the worker moved the case meanwhile: the next pass retries
                pass
        return bool(ids)


def worker_env(folder: Path) -> dict[str, str]:
    """The workers' environment: mail to a Maildir of our own."""
    return {
        **os.environ,
        "CASEWORK_MAILDIR": str(folder / "maildir"),
        "CASEWORK_MAIL_DOMAIN": DOMAIN,
    }


#: The fork server: imports Casework once, then forks ``run.py`` for each line of argv
#: (JSON) it reads and answers with the child's pid.  Its children are reaped at once.
FORK_SERVER = """
import json, os, signal, sys
sys.path.insert(0, sys.argv[1])
from cli.main import main
from engine.store.db import known_revisions
known_revisions()  # the schema check's migration scripts, read once like the imports
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # our stdout carries the pids
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os._exit(main(json.loads(line)))
    print(pid, flush=True)
"""


@dataclass
class Worker:
    """One forked ``run.py worker`` process."""

    pid: int

    def signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, number)

    def wait(self, timeout: float = 30.0) -> bool:
        """Whether the process is gone within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.02)
        return False


class ForkServer:
    """Starts workers without importing Casework again for each."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("ab"),
            env=env,
            text=True,
        )

    def start_worker(self, url: str, clock: datetime) -> Worker:
        argv = ["--db", url, "--clock", clock.isoformat(), "worker", "--tick", "0.2"]
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(argv) + "\n")
        self.process.stdin.flush()
        return Worker(int(self.process.stdout.readline()))

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def progress(rt: Runtime) -> tuple[int, int, int]:
    """Timers settled, messages taken in, mails sent: changes whenever the worker works."""
    with rt.unit() as work:
        return (
            work.session.scalar(
                select(func.count()).select_from(Timer).where(Timer.state != "waiting")
            )
            or 0,
            work.session.scalar(select(func.count()).select_from(InboundMessage)) or 0,
            work.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "sent")
            )
            or 0,
        )


def settled(rt: Runtime, cases_at_start: int, messages: int, driver: Driver, now: datetime) -> bool:
    """Every message taken in, every due timer fired, every mail sent, every review done."""
    if driver.failure:
        raise SystemExit(f"the review driver stopped: {driver.failure}")
    with rt.unit() as work:
        taken = work.session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.case_id.is_not(None))
        )
        due = work.session.scalar(
            select(func.count())
            .select_from(Timer)
            .where(Timer.state == "waiting", Timer.due_at <= now)
        )
        unsent = work.session.scalar(  # mail held for the recipients' hours is not due yet
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state != "sent", OutboxMessage.next_attempt_at <= now)
        )
        reviews = dict(
            work.session.execute(
                select(HumanTask.state, func.count())
                .where(HumanTask.name == REVIEW)
                .group_by(HumanTask.state)
            ).all()
        )
    # every seeded case's triage deadline has passed, and so may those of the cases opened
    # from mail early on: at least one review a seeded case, and none left open
    state = (taken, due, unsent, reviews.get("open", 0))
    return state == (messages, 0, 0, 0) and sum(reviews.values()) >= cases_at_start


def measure(
    url: str, seeded: int, messages: int, driver: Driver, maildir: Path, now: datetime
) -> dict[str, int]:
    """What was lost and what was doubled, counted from the database and the Maildir."""
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        mail_cases = list(
            work.session.scalars(
                select(InboundMessage.case_id).where(InboundMessage.case_id.is_not(None))
            )
        )
        all_cases = work.session.scalar(select(func.count()).select_from(Case)) or 0
        posts = Counter(
            work.session.scalars(
                select(StreamPost.case_id).where(StreamPost.case_id.in_(mail_cases))
            )
        )
        breaches = list(
            work.session.execute(
                select(
                    OutboxMessage.case_id,
                    OutboxMessage.message_id,
                    OutboxMessage.subject,
                    OutboxMessage.state,
                    OutboxMessage.next_attempt_at,
                ).where(OutboxMessage.kind == "breach")
            )
        )
        reviews = {
            task_id: (case_id, state)
            for task_id, case_id, state in work.session.execute(
                select(HumanTask.id, HumanTask.case_id, HumanTask.state).where(
                    HumanTask.name == REVIEW
                )
            )
        }
        seeded_cases = set(work.session.scalars(select(Case.id))) - set(mail_cases)
    rt.close()
    delivered = Counter(
        str(message["Message-ID"]).strip() for message in mailbox.Maildir(maildir, create=True)
    )
    # a breach mail held for the recipients' hours past the run's last moment is not due
    # yet: neither lost nor delivered, printed apart
    waiting = [b for b in breaches if b[3] != "sent" and b[4] > now]
    breaches = [b for b in breaches if b not in waiting]
    per_case = Counter(b[0] for b in breaches + waiting)
    # the subject names the case and the target breached ("first response", "next update")
    per_breach = Counter((b[0], b[2]) for b in breaches + waiting)
    reviews_per_case = Counter(case_id for case_id, _ in reviews.values())
    # A case whose deadline passed gets one review task, and one breach mail for each target
    # it breached, whether it was seeded or opened from mail (the clock runs hours on, so
    # early cases breach a second target and early mail cases fall due too); the seeded
    # cases must all have theirs.  Lost: a seeded case without one, a review the driver
    # completed that is not stored as completed, a breach mail queued but never delivered.
    # Duplicated: a second review for a case, a second mail for the same breach.
    found = {
        "cases_lost": max(0, seeded + messages - all_cases) + messages - len(set(mail_cases)),
        "cases_duplicated": max(0, all_cases - seeded - messages)
        + len(mail_cases)
        - len(set(mail_cases)),
        "posts_lost": sum(1 for c in set(mail_cases) if posts[c] == 0),
        "posts_duplicated": sum(n - 1 for n in posts.values() if n > 1),
        "breach_mails_lost": len(seeded_cases - set(per_case))
        + sum(1 for b in breaches if not delivered[b[1]]),
        "breach_mails_duplicated": sum(n - 1 for n in per_breach.values() if n > 1),
        "breach_mails_redelivered_same_id": sum(max(0, delivered[b[1]] - 1) for b in breaches),
        "breach_mails_held_for_business_hours": len(waiting),
        "reviews_lost": len(seeded_cases - set(reviews_per_case))
        + sum(1 for t in driver.completed if reviews.get(t, (None, None))[1] != "completed"),
        "reviews_duplicated": sum(n - 1 for n in reviews_per_case.values() if n > 1),
    }
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 kills, fewer cases (< 1 min)")
    parser.add_argument("--kills", type=int, help="how many times to kill (default 100)")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    args = parser.parse_args()
    reason = unreachable(args.pg)
    if reason:
        raise SystemExit(f"PostgreSQL is needed for this bench: {reason}")
    kills = args.kills if args.kills is not None else (8 if args.quick else 100)
    slices = min(kills + 1, SLICES)
    per_slice, per_life = (3, 2) if args.quick else (8, 2)
    seeded, messages = slices * per_slice, (kills + 1) * per_life
    chance = random.Random(args.seed)
    os.environ.setdefault("CASEWORK_SECRET_KEY", Fernet.generate_key().decode("ascii"))
    scratch = ScratchSchemas(args.pg, "cw_bench_chaos")
    dovecot = Dovecot()
    forks: ForkServer | None = None
    begun = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            log = folder / "workers.log"
            forks = ForkServer(worker_env(folder), log)  # imports while the world is seeded
            url = scratch.new_url()
            seed(url, slices, per_slice)
            user = group_mailbox(dovecot, url)
            driver = Driver(url)
            thread = threading.Thread(target=driver.run, daemon=True)
            thread.start()
            started = time.monotonic()
            print(f"seeded in {started - begun:.0f} s", flush=True)
            rt = build_app(AppConfig(database_url=url)).runtime
            starts: list[float] = []
            for i in range(kills):
                new_mail(dovecot, user, i * per_life, per_life)  # mail arrives meanwhile
                launched = time.monotonic()
                worker = forks.start_worker(url, RUN + i * STEP)
                # a kill lands while work is under way: once the worker has done something,
                # within the next second
                before, deadline = progress(rt), time.monotonic() + 30
                while progress(rt) == before and time.monotonic() < deadline:
                    time.sleep(0.05)
                starts.append(time.monotonic() - launched)
                time.sleep(chance.uniform(0, 1))
                worker.signal(signal.SIGKILL)
                worker.wait()
            print(
                f"{kills} kills done at {time.monotonic() - started:.0f} s; start to first work: "
                f"median {sorted(starts)[len(starts) // 2] if starts else 0:.1f} s, "
                f"max {max(starts, default=0):.1f} s",
                flush=True,
            )
            new_mail(dovecot, user, kills * per_life, per_life)
            last = RUN + (kills + 2) * STEP
            worker = forks.start_worker(url, last)
            deadline = time.monotonic() + 120
            done = False
            while time.monotonic() < deadline and not done:
                done = settled(rt, seeded, messages, driver, last)
                time.sleep(0.3)
            rt.close()
            worker.signal(signal.SIGTERM)
            if not worker.wait(timeout=5):  # a worker that will not stop is a finding too
                print("the worker did not stop within 5 s of SIGTERM")
                worker.signal(signal.SIGKILL)
                worker.wait()
            driver.stop.set()
            thread.join(timeout=30)
            spent = time.monotonic() - started
            found = measure(url, seeded, messages, driver, folder / "maildir", last)
            if not done:
                print(f"did not settle in 120 s; worker log: {log.read_text()[-1500:]}")
    finally:
        if forks is not None:
            forks.stop()
        dovecot.stop()
        scratch.drop_all()
    print(
        f"{seeded} cases with due timers, {messages} mails arriving, {kills} kills, "
        f"{spent:.0f} s (all told {time.monotonic() - begun:.0f} s)"
    )
    for key, value in found.items():
        print(f"{key}: {value}")
    lost = sum(v for k, v in found.items() if k.endswith("_lost")) + (0 if done else 1)
    duplicated = sum(v for k, v in found.items() if k.endswith("_duplicated"))
    print(f"BENCH chaos lost={lost} target==0 {'PASS' if lost == 0 else 'FAIL'}")
    print(f"BENCH chaos duplicated={duplicated} target==0 {'PASS' if duplicated == 0 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
