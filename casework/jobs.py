"""Failed background work in one list, and the two things an operator does with it.

Three kinds of work run in the background and may fail for good:

* ``timer``: a BPMN timer, an SLA threshold or a connector job (a ``timers`` row) given up
  on after its attempts (``engine.run.timers.MAX_ATTEMPTS``, a connector's ``retries``);
* ``outbox``: a mail the SMTP server refused for good or that failed
  ``mail.outbox.MAX_ATTEMPTS`` times;
* ``intake``: a message taken in that could not be processed (quarantined).

Each is named ``KIND:ID`` (``timer:12``, ``outbox:7``, ``intake:3``).  **Retry** puts it
back in line at once (a timer or mail for the next worker sweep, attempts counted from
zero; a quarantined message is processed again right here); **discard** gives it up for
good, keeping the row and its error for the record.  Both are audited and allowed to
administrators only (``rules.job_acts``).  Everything works in the caller's unit of work.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.numbers import whole_number
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import TIMER_HAS_FAILED, Case, Timer
from engine.store.outbox import OutboxMessage
from mail.imap import fetch_full
from mail.intake import retry_in
from rules.job_acts import require_job_admin
from rules.subject import Subject

#: The kinds of background work that can fail, as named in job ids and ``--kind``.
KINDS = ("timer", "outbox", "intake")
#: The state of a failed job, per kind.
_FAILED = {"timer": "failed", "outbox": "failed", "intake": "quarantined"}


@dataclass(frozen=True)
class JobId:
    """``timer:12``: the kind of work and its row id."""

    kind: str
    id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_job_id(text: str) -> JobId:
    """A job id as typed: ``KIND:ID``; a usage error naming the forms otherwise."""
    kind, _, number = text.strip().partition(":")
    row = whole_number(number)
    if kind not in KINDS or row is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a job id: timer:ID, outbox:ID or intake:ID "
            "(as `jobs failed` lists them)"
        )
    return JobId(kind, row)


def failed_jobs(
    work: UnitOfWork, subject: Subject | None, *, kind: str | None = None
) -> list[dict[str, Any]]:
    """Every failed job (of one ``kind``), oldest first within each kind."""
    require_job_admin(subject, "list")
    found: list[dict[str, Any]] = []
    if kind in (None, "timer"):
        found += [_timer_row(work, t) for t in _failed(work, Timer, TIMER_HAS_FAILED)]
    if kind in (None, "outbox"):
        found += [
            _outbox_row(work, m)
            for m in _failed(work, OutboxMessage, OutboxMessage.state == "failed")
        ]
    if kind in (None, "intake"):
        found += [
            _intake_row(work, m)
            for m in _failed(work, InboundMessage, InboundMessage.state == "quarantined")
        ]
    return found


def _failed(work: UnitOfWork, model: Any, condition: Any) -> list[Any]:
    return list(work.session.scalars(select(model).where(condition).order_by(model.id)))


def _number(work: UnitOfWork, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    return work.session.scalar(select(Case.number).where(Case.id == case_id))


def _timer_row(work: UnitOfWork, timer: Timer) -> dict[str, Any]:
    task = timer.name.split(":", 1)[0]
    what = {
        "bpmn": f"BPMN timer {task}",
        "sla": f"SLA {timer.name} at {timer.threshold:g}",
        "connector": f"connector task {task}",
    }.get(timer.source, f"{timer.source} {timer.name}")
    return {
        "id": f"timer:{timer.id}",
        "kind": "timer",
        "case": _number(work, timer.case_id),
        "what": what,
        "attempts": timer.attempts,
        "error": timer.last_error,
        "at": timer.fired_at,
    }


def _outbox_row(work: UnitOfWork, message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": f"outbox:{message.id}",
        "kind": "outbox",
        "case": _number(work, message.case_id),
        "what": f"{message.kind} mail to {', '.join(message.recipients)}: {message.subject}",
        "attempts": message.attempts,
        "error": message.last_error,
        "at": message.created_at,
    }


def _intake_row(work: UnitOfWork, message: InboundMessage) -> dict[str, Any]:
    mailbox = work.session.get(Mailbox, message.mailbox_id)
    return {
        "id": f"intake:{message.id}",
        "kind": "intake",
        "case": _number(work, message.case_id),
        "what": f"mail {message.message_id or '(no Message-ID)'} from "
        f"{message.from_address or '(sender unknown)'} to {mailbox.name if mailbox else '?'}"
        + (f": {message.subject}" if message.subject else ""),
        "attempts": None,
        "error": message.reason,
        "at": message.received_at,
    }


def _row_of(work: UnitOfWork, job: JobId) -> Any:
    """The failed row behind ``job``; not found, or a conflict naming its state."""
    model: Any = {
        "timer": Timer,
        "outbox": OutboxMessage,
        "intake": InboundMessage,
    }[job.kind]
    row: Any = work.session.get(model, job.id, with_for_update=True)
    if row is None:
        raise NotFound(f"no job {job}")
    if row.state != _FAILED[job.kind]:
        raise Conflict(f"job {job} is {row.state}, not {_FAILED[job.kind]}; nothing to do")
    return row


def retry(
    work: UnitOfWork, subject: Subject | None, job: JobId, *, actor_id: int | None, domain: str
) -> dict[str, Any]:
    """Put a failed job back in line (timers and mail: for the next sweep, attempts from
    zero); a quarantined message is processed again now.  What became of it."""
    require_job_admin(subject, "retry")
    row = _row_of(work, job)
    case_id = getattr(row, "case_id", None)
    if job.kind == "intake":
        raw = None
        if not row.raw_complete:  # only the headers were kept: the server still has it
            mailbox = work.session.get(Mailbox, row.mailbox_id)
            if mailbox is None:
                raise InvalidInput(f"the mailbox of {job} is gone; the message cannot be fetched")
            raw = fetch_full(mailbox, row)
        outcome = retry_in(work, job.id, domain=domain, raw=raw)
        state, case_id, note = outcome.state, row.case_id, outcome.reason
    else:
        row.state, row.attempts = "pending" if job.kind == "outbox" else "waiting", 0
        if job.kind == "outbox":
            row.next_attempt_at = work.now
        else:
            row.due_at, row.fired_at = work.now, None
        state, note = row.state, None
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="job",
        entity_id=str(job),
        case_id=case_id,
        action="job_retried",
        after={"state": state},
    )
    return {"id": str(job), "state": state, "case": _number(work, case_id), "reason": note}


def discard(
    work: UnitOfWork, subject: Subject | None, job: JobId, *, actor_id: int | None
) -> dict[str, Any]:
    """Give a failed job up for good: it is never run again, its row and error stay."""
    require_job_admin(subject, "discard")
    row = _row_of(work, job)
    before = row.state
    row.state = "discarded"
    if job.kind == "timer":
        row.fired_at = work.now
    work.session.flush()
    case_id = getattr(row, "case_id", None)
    audit.record(
        work,
        actor_id=actor_id,
        entity="job",
        entity_id=str(job),
        case_id=case_id,
        action="job_discarded",
        before={"state": before},
        after={"state": "discarded"},
    )
    return {"id": str(job), "state": "discarded", "case": _number(work, case_id)}
