"""Worker scale-out on PostgreSQL: two ``run.py worker`` processes against one, in one run.

Timers: each round fills a fresh PostgreSQL schema with copies of a real support case
waiting on its BPMN timer (the triage deadline), then starts the workers with a clock past
every due time (``--clock``), so each copy's timer is due: a worker claims it
(``FOR UPDATE SKIP LOCKED``), loads the workflow, fires the timer, runs the process on and
saves it.  Mail: each round gives a fresh schema several group mailboxes on a real Dovecot
(the tests' throw-away server), each holding new customer requests, and starts the workers:
each reads every mailbox, a poll claims its mailbox (so two workers read different ones)
and every message opens a case with its first post.  The bench watches the count of timers
fired (messages taken in) and times from the first to the last.  Rounds alternate one worker
and two (1, 2, 2, 1), so machine noise falls on both alike.  BENCH lines: the ratio of the
two-worker rate to the one-worker rate for timers and for mail (target >= 1.5 each), each
with a check that every timer fired, and every message was taken in, exactly once.
Usage: python bench/worker_scale.py [--quick] [--cases N] [--messages N] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpu_use import CpuMeter, ceiling  # noqa: E402  (this folder: the scripts run from it)
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from worker_memory import seed  # noqa: E402

from casework.compose import build_app  # noqa: E402
from casework.config import AppConfig  # noqa: E402
from engine.store.mailbox import InboundMessage  # noqa: E402
from engine.store.models import Case, Timer  # noqa: E402
from mail.mailboxes import MailboxSpec, add_mailbox  # noqa: E402
from people import directory  # noqa: E402
from tests.mail.dovecot import PASSWORD, Dovecot  # noqa: E402
from tests.mail.helpers import build  # noqa: E402
from tests.scratch_db import ScratchSchemas, unreachable  # noqa: E402

DOMAIN = "casework.example"
#: Group mailboxes the mail is spread over: more than two, so two workers always find one
#: free, and few enough that each holds a real batch.
MAILBOXES = 4


def fill(url: str, count: int) -> None:
    """The support case type, one real case and ``count`` copies of it with their timer."""
    seed(url)  # the support case type and one real case waiting on its timer
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        template = work.session.scalar(select(Case).order_by(Case.id).limit(1))
        assert template is not None
        timers = work.session.scalars(
            select(Timer).where(Timer.case_id == template.id, Timer.source == "bpmn")
        ).all()
        assert timers, "the support process no longer waits on a BPMN timer"
        row = {c.name: getattr(template, c.name) for c in Case.__table__.c if c.name != "id"}
        timer_rows = [
            {c.name: getattr(t, c.name) for c in Timer.__table__.c if c.name not in ("id",)}
            for t in timers
        ]
        first = template.id + 1
    for start in range(first, first + count, 2000):
        stop = min(start + 2000, first + count)
        with rt.unit() as work:
            work.session.execute(
                insert(Case), [{**row, "id": i, "number": f"S-{i:07d}"} for i in range(start, stop)]
            )
            work.session.execute(
                insert(Timer),
                [{**t, "case_id": i} for i in range(start, stop) for t in timer_rows],
            )
    rt.close()


def fired_counts(url: str) -> tuple[int, int]:
    """(BPMN timers fired, BPMN timers still waiting)."""
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        rows = dict(
            work.session.execute(
                select(Timer.state, func.count())
                .where(Timer.source == "bpmn")
                .group_by(Timer.state)
            ).all()
        )
    rt.close()
    return int(rows.get("fired", 0)), int(rows.get("waiting", 0))


def request(box: int, n: int) -> bytes:
    return build(
        f"From: Customer {n} <customer{n}@kunden{n % 7}.example>",
        f"Message-ID: <scale-{box}-{n}@kunden.example>",
        f"Subject: Request {box}/{n}: the printer on floor {n % 5} jams",
        body=f"Hello,\n\nthe printer jams again ({box}/{n}).\n\nRegards\nCustomer {n}\n",
    )


def fill_mail(url: str, dovecot: Dovecot, per_box: int) -> None:
    """The support case type and :data:`MAILBOXES` group mailboxes, ``per_box`` new
    customer requests waiting in each."""
    seed(url)
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        directory.add_customer_group(work, name="customers")
    for box in range(MAILBOXES):
        user = dovecot.new_user()
        dovecot.append(user, *(request(box, n) for n in range(per_box)))
        with rt.unit() as work:
            add_mailbox(
                work,
                MailboxSpec(
                    name=f"support-{box}",
                    case_type="SUPPORT",
                    group_address=f"support-{box}@{DOMAIN}",
                    host="127.0.0.1",
                    port=dovecot.port,
                    tls=False,
                    user=user,
                    password=PASSWORD,
                    customer_group="customers",
                    poll_seconds=5,
                ),
            )
    rt.close()


def mail_counts(url: str) -> tuple[int, int]:
    """(messages taken in, cases opened from mail)."""
    rt = build_app(AppConfig(database_url=url)).runtime
    with rt.unit() as work:
        taken = work.session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.case_id.is_not(None))
        )
        opened = work.session.scalar(
            select(func.count(func.distinct(InboundMessage.case_id))).where(
                InboundMessage.case_id.is_not(None)
            )
        )
    rt.close()
    return int(taken or 0), int(opened or 0)


def run_workers(
    url: str,
    workers: int,
    total: int,
    done: Callable[[str], int],
    clock: list[str],
    folder: Path,
    meter: CpuMeter | None = None,
) -> float:
    """Seconds from the first piece of work done to the last, with ``workers`` processes;
    ``meter`` counts the CPU spent over that time."""
    env = {
        **os.environ,
        "CASEWORK_MAILDIR": str(folder / "maildir"),
        "CASEWORK_MAIL_DOMAIN": DOMAIN,
    }
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "--db", url, *clock, "worker", "--tick", "0.2"],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "workers.log").open("ab"),
            env=env,
        )
        for _ in range(workers)
    ]  # fmt: skip
    first = last = None
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            count = done(url)
            now = time.monotonic()
            if count and first is None:
                first = now
                if meter:
                    meter.app_roots = [proc.pid for proc in procs]
                    meter.start()
            if count >= total:
                last = now
                if meter and first is not None:
                    meter.stop()
                break
            time.sleep(0.05)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    if first is None or last is None:
        raise SystemExit(
            f"the work was not all done: {(folder / 'workers.log').read_text()[-800:]}"
        )
    return last - first


def bench_timers(
    scratch: ScratchSchemas, count: int, folder: Path, meter: CpuMeter
) -> tuple[dict[int, float], int]:
    """Timers fired per second with one worker and with two; timers fired more than once.
    ``meter`` counts the CPU of the one-worker rounds."""
    spent = {1: 0.0, 2: 0.0}
    fired_twice = 0
    later = ["--clock", (datetime.now(UTC) + timedelta(days=30)).isoformat()]
    total = count + 1  # the copies and the template
    for workers in (1, 2, 2, 1):
        url = scratch.new_url()
        fill(url, count)
        spent[workers] += run_workers(
            url,
            workers,
            total,
            lambda u: fired_counts(u)[0],
            later,
            folder,
            meter if workers == 1 else None,
        )
        fired, waiting = fired_counts(url)
        fired_twice += fired - total
        if waiting:
            raise SystemExit(f"{waiting} timers still waiting after the run")
    return {w: 2 * total / spent[w] for w in (1, 2)}, fired_twice


def bench_mail(
    scratch: ScratchSchemas, per_box: int, folder: Path, meter: CpuMeter
) -> tuple[dict[int, float], int]:
    """Messages taken in per second with one worker and with two; messages taken twice.
    ``meter`` counts the CPU of the one-worker rounds."""
    spent = {1: 0.0, 2: 0.0}
    doubled = 0
    total = MAILBOXES * per_box
    dovecot = Dovecot()
    try:
        for workers in (1, 2, 2, 1):
            url = scratch.new_url()
            fill_mail(url, dovecot, per_box)
            spent[workers] += run_workers(
                url,
                workers,
                total,
                lambda u: mail_counts(u)[0],
                [],
                folder,
                meter if workers == 1 else None,
            )
            taken, opened = mail_counts(url)
            doubled += (taken - total) + (taken - opened)
    finally:
        dovecot.stop()
    return {w: 2 * total / spent[w] for w in (1, 2)}, doubled


def verdict(name: str, ratio: float, exact: bool) -> str:
    ok = ratio >= 1.5 and exact
    return f"BENCH worker_scale {name}={ratio:.2f} target>=1.5 {'PASS' if ok else 'FAIL'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller rounds (about a minute)")
    parser.add_argument("--cases", type=int, help="timers a round (default 3000; --quick 400)")
    parser.add_argument(
        "--messages", type=int, help=f"messages a round, over {MAILBOXES} mailboxes (default 800)"
    )
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    reason = unreachable(args.pg)
    if reason:
        raise SystemExit(f"PostgreSQL is needed for this bench: {reason}")
    count = args.cases or (400 if args.quick else 3000)
    per_box = (args.messages or (160 if args.quick else 800)) // MAILBOXES
    os.environ.setdefault("CASEWORK_SECRET_KEY", Fernet.generate_key().decode("ascii"))
    scratch = ScratchSchemas(args.pg, "cw_bench_scale")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            timer_meter, mail_meter = CpuMeter([]), CpuMeter([])
            timer_rates, fired_twice = bench_timers(scratch, count, Path(tmp), timer_meter)
            mail_rates, taken_twice = bench_mail(scratch, per_box, Path(tmp), mail_meter)
    finally:
        scratch.drop_all()
    timer_ratio = timer_rates[2] / timer_rates[1]
    mail_ratio = mail_rates[2] / mail_rates[1]
    print(f"{count + 1} due timers a round, rounds 1, 2, 2, 1 workers, PostgreSQL")
    print(f"one worker:  {timer_rates[1]:8.1f} timers/s")
    print(f"two workers: {timer_rates[2]:8.1f} timers/s  ({timer_ratio:.2f}x)")
    print(f"timers fired more than once: {fired_twice}")
    costs, most = ceiling(timer_meter, 2 * (count + 1), timer_rates[1])
    print(f"{costs} (a unit is a timer); the most two workers could reach: {most:.2f}x")
    print(f"{MAILBOXES * per_box} messages a round in {MAILBOXES} mailboxes (Dovecot), same rounds")
    print(f"one worker:  {mail_rates[1]:8.1f} messages/s")
    print(f"two workers: {mail_rates[2]:8.1f} messages/s  ({mail_ratio:.2f}x)")
    print(f"messages taken in more than once: {taken_twice}")
    costs, most = ceiling(mail_meter, 2 * MAILBOXES * per_box, mail_rates[1])
    print(f"{costs} (a unit is a message); the most two workers could reach: {most:.2f}x")
    print(verdict("timers_ratio_2_over_1", timer_ratio, fired_twice == 0))
    print(verdict("mail_ratio_2_over_1", mail_ratio, taken_twice == 0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
