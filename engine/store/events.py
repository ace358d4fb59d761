"""What BPMN events need stored beside a case: incidents and the timers that open cases.

An *incident* is a process step that failed (an expression, a script, a message that
could not be caught) on an existing case: the failing transaction rolled back, so the
case is as it was, and the incident row keeps what failed and how to try it again once
the process is fixed.  A *start timer* is one due time of a timer start event: its
unique (version, element, due time) is what makes a case open exactly once per due time
however many workers sweep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class Incident(Base):
    """A failed process step of a case: where, what, why, and the action to retry.

    A timer start event that could not open its case has no case to hang on: its incident
    names the case type instead (``case_id`` empty), for the type's managers."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_state_case", "state", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_types.id", ondelete="CASCADE")
    )
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    element_id: Mapped[str | None] = mapped_column(String(200))
    element_name: Mapped[str | None] = mapped_column(String(500))
    code: Mapped[str | None] = mapped_column(Text)  # the expression or script line
    line: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    #: what failed, replayed by ``retry``: ``{"kind": "complete", "task_id": .., ...}``
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=1)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StartTimer(Base):
    """One due time of a timer start event; opening its case settles it (once)."""

    __tablename__ = "start_timers"
    __table_args__ = (
        UniqueConstraint("case_type_id", "element_id", "due_at"),
        Index("ix_start_timers_due", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("case_type_versions.id"))
    element_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    #: waiting | fired | cancelled | failed (its case could not open: see its incident)
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
