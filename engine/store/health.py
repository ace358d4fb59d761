"""Is this installation able to work?  The checks behind ``/ready``, and worker heartbeats.

Each check answers in a few milliseconds and never raises: a database that cannot be
reached is a failed check with its reason, which is what an orchestrator needs to stop
sending traffic to this process instead of a stack trace.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .db import changed_rows, schema_heads, schema_revisions
from .operations import WorkerHeartbeat


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str


def worker_name(started_at: datetime) -> str:
    """A name that tells an operator which machine and process a heartbeat came from."""
    return f"{socket.gethostname()}:{os.getpid()}:{started_at:%Y%m%dT%H%M%S}"


def beat(session: Session, worker: str, started_at: datetime, now: datetime) -> None:
    """Record that ``worker`` finished a tick at ``now`` (insert on its first beat)."""
    statement = update(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker).values(beat_at=now)
    if changed_rows(session, statement) == 0:
        host, pid = socket.gethostname(), os.getpid()
        session.add(
            WorkerHeartbeat(
                worker=worker, host=host[:150], pid=pid, started_at=started_at, beat_at=now
            )
        )


def forget_worker(session: Session, worker: str) -> None:
    """A worker that stops cleanly removes its row, so it is not mistaken for a live one."""
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker))


def readiness(engine: Engine, now: datetime, heartbeat_within: timedelta) -> list[Check]:
    """Database reachable, schema at the code's head revision, a worker beat recently."""
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except SQLAlchemyError as error:
        reason = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
        return [Check("database", False, f"cannot connect: {reason}")]
    checks = [Check("database", True, "reachable")]
    at, code = schema_revisions(engine), schema_heads()
    if at == code:
        checks.append(Check("schema", True, f"at {', '.join(sorted(at))}"))
    else:
        seen = ", ".join(sorted(at)) or "not initialised"
        checks.append(
            Check("schema", False, f"at {seen}, the code needs {', '.join(sorted(code))}")
        )
        return checks
    with Session(engine) as session:
        newest = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if newest is None:
        checks.append(Check("worker", False, "no worker has ever beaten"))
    else:
        age = now - newest
        limit = heartbeat_within.total_seconds()
        checks.append(
            Check(
                "worker",
                age <= heartbeat_within,
                f"newest heartbeat {age.total_seconds():.0f} s ago (limit {limit:.0f} s)",
            )
        )
    return checks
