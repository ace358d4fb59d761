"""SLA bookkeeping: policy versions, which policy each case runs on, and its clock history.

The history is stored as events (started, paused, resumed, met, reset) rather than as
remaining times, so a pause, an answer or a changed policy is handled by one mechanism:
replay the history under the case's policy and rewrite the waiting timer rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class SlaPolicyVersion(Base):
    """One version of a case type's SLA policy (calendar + targets), by content hash.

    Deploying a case type whose ``[sla]`` section changed, or ``run.py sla policy set``,
    adds a version and moves the type's open cases onto it.
    """

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("case_type_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class CaseSla(Base):
    """The SLA state of one case: the policy version it runs on and why it is paused."""

    __tablename__ = "case_sla"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"), index=True)
    #: an agent set the case to wait on the customer (cleared when the customer answers)
    waiting_on_customer: Mapped[bool] = mapped_column(default=False)
    #: the clocks are stopped now (manual wait, or an open task of a pausing role/task)
    paused: Mapped[bool] = mapped_column(default=False)


class SlaEvent(Base):
    """One entry of a case's SLA clock history (see ``engine.sla.events``)."""

    __tablename__ = "sla_events"
    __table_args__ = (Index("ix_sla_events_case", "case_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]


class SlaSlice(Base):
    """A reporting slice: case type, handling group and priority, numbered once.

    Facts name their slice by one small integer, so the report's indexes stay narrow and
    a group-by over a million cases reads a few integers per case.  ``group_id`` 0 means
    the case type names no handling group (0, not NULL, keeps the triple unique).
    """

    __tablename__ = "sla_slices"
    __table_args__ = (UniqueConstraint("case_type_id", "group_id", "priority"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(20))


class SlaCaseFact(Base):
    """What the SLA report counts of one case, written when it opens, first gets an
    answer and closes (``engine.sla.facts``), and summed into :class:`SlaRollup`.  Months
    are ``yyyymm`` in UTC; times are wall-clock seconds, with a log-scale bucket each
    (``engine.sla.facts.bucket``) that the report's percentiles are read from."""

    __tablename__ = "sla_case_facts"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    slice_id: Mapped[int] = mapped_column(ForeignKey("sla_slices.id"))
    opened_at: Mapped[datetime]
    opened_month: Mapped[int] = mapped_column(Integer)
    closed_month: Mapped[int | None] = mapped_column(Integer)
    first_response_s: Mapped[int | None] = mapped_column(Integer)
    response_bucket: Mapped[int | None] = mapped_column(Integer)
    resolution_s: Mapped[int | None] = mapped_column(Integer)
    resolution_bucket: Mapped[int | None] = mapped_column(Integer)
    targets_met: Mapped[int] = mapped_column(Integer, default=0)
    targets_breached: Mapped[int] = mapped_column(Integer, default=0)


class SlaRollup(Base):
    """Cases per (month, slice, measure, bucket): what the SLA report reads
    (``engine.sla.rollup``); kept in the transactions that write the facts."""

    __tablename__ = "sla_rollup"
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    slice_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    met: Mapped[int] = mapped_column(Integer)
    breached: Mapped[int] = mapped_column(Integer)


class NoticeHours(Base):
    """When SLA notices may reach a person: their time zone and quiet hours (local wall
    times; ``quiet_from`` after ``quiet_to`` spans midnight).  Set for a user, or for a
    group as the default of its members (``rules.notice_hours``)."""

    __tablename__ = "notice_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), unique=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    quiet_from: Mapped[str] = mapped_column(String(5))
    quiet_to: Mapped[str] = mapped_column(String(5))
