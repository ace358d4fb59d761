"""The worker's timer job: a sweep every tick, and an early wake-up for a timer due sooner.

A fixed tick alone makes a timer wait up to a whole tick after it is due.  After each
sweep the job looks up the earliest waiting timer (one index probe) and, when it falls
before the next tick, schedules a one-off sweep at that instant, so a known timer fires
within milliseconds of its due time and the tick only bounds how late a timer written
by another process is noticed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler

from engine.run import start_events, timers
from engine.runtime import Runtime
from engine.store import health
from mail.smtp import Transport, send_due

log = logging.getLogger("casework.worker")


@dataclass(frozen=True)
class Swept:
    """What one tick did: cases advanced by their timers (or opened by a timer start
    event), mail sent and mail that failed
    (each failure was logged as a warning, naming the message and the server's answer)."""

    fired: int
    sent: int
    failed: int


class Heartbeat:
    """This process's name in ``worker_heartbeats``; ``/ready`` reads the newest beat."""

    def __init__(self, rt: Runtime) -> None:
        self.rt, self.started_at = rt, rt.clock.now()
        self.name = health.worker_name(self.started_at)

    def beat(self) -> None:
        with self.rt.unit() as work:
            health.beat(work.session, self.name, self.started_at, self.rt.clock.now())

    def stop(self) -> None:
        with self.rt.unit() as work:
            health.forget_worker(work.session, self.name)


def sweep(rt: Runtime, transport: Transport, heartbeat: Heartbeat | None = None) -> Swept:
    """One tick: fire due timers (each in its own transaction), send due mail, then beat."""
    fired = timers.sweep(rt)
    for number in fired:
        log.info("timer fired on %s", number)
    opened = start_events.sweep(rt)
    for number in opened:
        log.info("a timer start event opened %s", number)
    fired += opened
    sent, failed = send_due(rt.sessions, transport, now=rt.clock.now(), files=rt.files)
    if sent or failed:
        log.info("outbox: %d sent, %d to retry or failed", sent, failed)
    if heartbeat is not None:
        heartbeat.beat()
    return Swept(len(fired), sent, failed)


class TimerTicker:
    """Adds the sweep jobs to a scheduler and keeps the wake-up pointed at the next timer."""

    def __init__(
        self, scheduler: BaseScheduler, rt: Runtime, transport: Transport, tick: float
    ) -> None:
        self.scheduler, self.rt, self.transport = scheduler, rt, transport
        self.tick = timedelta(seconds=tick)
        self.heartbeat = Heartbeat(rt)

    def start(self) -> None:
        self.scheduler.add_job(
            self.run,
            "interval",
            seconds=self.tick.total_seconds(),
            max_instances=1,
            coalesce=True,
            id="timer-sweep",
            next_run_time=datetime.now(UTC),
        )

    def run(self) -> None:
        sweep(self.rt, self.transport, self.heartbeat)
        with self.rt.unit() as work:
            due = timers.next_due(work)
        if due is None:
            return
        # the due time is on the runtime's clock (a rehearsal's --clock may be months
        # away from the wall clock the scheduler runs on): wait the difference
        wait = due - self.rt.clock.now()
        if wait < self.tick:
            self.scheduler.add_job(
                self.run,
                "date",
                run_date=datetime.now(UTC) + max(wait, timedelta(0)),
                id="timer-wakeup",
                replace_existing=True,
                misfire_grace_time=None,
            )
