"""How much work the installation holds right now: the figures ``/metrics`` exports.

Read from the database at scrape time, not counted in process memory, so every web
process reports the same numbers however many workers and servers share the database.
Each figure is one indexed aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store.events import Incident
from engine.store.mailbox import InboundMessage, Mailbox, MailFolderState
from engine.store.models import TIMER_HAS_FAILED, TIMER_IS_WAITING, Case, HumanTask, Timer
from engine.store.outbox import OutboxMessage


@dataclass(frozen=True)
class Workload:
    """Cases by status, open and completed tasks, timers waiting and overdue, the mail
    outbox, how long ago each active mailbox was last read, open incidents, and the
    background work that failed for good (by kind: timer, outbox, intake)."""

    cases: dict[str, int]
    open_tasks: int
    completed_tasks: int
    timers_waiting: int
    timers_late: int
    outbox: dict[str, int]
    oldest_pending_mail_seconds: float
    failed_jobs: dict[str, int]
    #: seconds since the last poll of each active mailbox (since it was added: never read)
    mail_poll_lag_seconds: dict[str, float]
    open_incidents: int


def _mail_poll_lag(session: Session, now: datetime) -> dict[str, float]:
    last_poll = (
        select(Mailbox.name, Mailbox.created_at, func.max(MailFolderState.last_poll_at))
        .outerjoin(MailFolderState, MailFolderState.mailbox_id == Mailbox.id)
        .where(Mailbox.active.is_(True))
        .group_by(Mailbox.id, Mailbox.name, Mailbox.created_at)
    )
    return {
        str(name): max(0.0, (now - (polled or created)).total_seconds())
        for name, created, polled in session.execute(last_poll)
    }


def workload(session: Session, now: datetime) -> Workload:
    by_status = select(Case.status, func.count()).group_by(Case.status)
    cases = {str(status): int(count) for status, count in session.execute(by_status)}
    tasks = select(HumanTask.state, func.count()).group_by(HumanTask.state)
    task_states = {str(state): int(count) for state, count in session.execute(tasks)}
    waiting = select(func.count()).select_from(Timer).where(TIMER_IS_WAITING)
    by_state = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    outbox = {str(state): int(count) for state, count in session.execute(by_state)}
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state == "pending")
    )
    failed_timers = select(func.count()).select_from(Timer).where(TIMER_HAS_FAILED)
    quarantined = (
        select(func.count())
        .select_from(InboundMessage)
        .where(InboundMessage.state == "quarantined")
    )
    failed_jobs = {
        "timer": int(session.scalar(failed_timers) or 0),
        "outbox": outbox.get("failed", 0),
        "intake": int(session.scalar(quarantined) or 0),
    }
    return Workload(
        cases=cases,
        open_tasks=task_states.get("open", 0),
        completed_tasks=task_states.get("completed", 0),
        timers_waiting=int(session.scalar(waiting) or 0),
        timers_late=int(session.scalar(waiting.where(Timer.due_at < now)) or 0),
        outbox=outbox,
        oldest_pending_mail_seconds=(now - oldest).total_seconds() if oldest else 0.0,
        failed_jobs=failed_jobs,
        mail_poll_lag_seconds=_mail_poll_lag(session, now),
        open_incidents=int(
            session.scalar(
                select(func.count()).select_from(Incident).where(Incident.state == "open")
            )
            or 0
        ),
    )
