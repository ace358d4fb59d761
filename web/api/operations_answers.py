"""What the JSON API answers about operations: health and readiness, SLA reports, and the
messages and signals a case caught (the shapes of :mod:`web.answers`, split by topic)."""

from __future__ import annotations

from datetime import datetime

from ..answers import Answer

# --- operations ----------------------------------------------------------------------------


class Alive(Answer):
    status: str


class CheckResult(Answer):
    name: str
    ok: bool
    detail: str


class Readiness(Answer):
    """``ready`` is true only when every check passed; 503 otherwise, with the same body."""

    ready: bool
    checks: list[CheckResult]


# --- reports -------------------------------------------------------------------------------


class SlaReportRow(Answer):
    """One month of one slice (case type, handling group, priority); times in seconds,
    percentiles within 2.5% (read from log-scale buckets), ``null`` without cases."""

    month: str
    case_type: str
    group: str
    priority: str
    opened: int
    closed: int
    first_response_median: float | None
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    targets_met: int
    targets_breached: int


class SlaAtRisk(Answer):
    """Open cases of one slice whose breach is due within the horizon, or overdue."""

    case_type: str
    group: str
    priority: str
    cases: int


class SlaReport(Answer):
    generated_at: datetime
    at_risk_hours: float
    rows: list[SlaReportRow]
    at_risk: list[SlaAtRisk]


# --- messages, signals and incidents ----------------------------------------------------------


class Delivery(Answer):
    """A message or signal a case caught: where, and the case's status and new tasks after."""

    case: str
    kind: str
    name: str
    caught: list[str]
    case_status: str
    new_task_ids: list[int]


class SignalResult(Answer):
    """One case a broadcast signal reached; ``error`` says why its step failed (an
    incident was opened), else the delivery's facts."""

    case: str
    error: str | None
    kind: str | None = None
    name: str | None = None
    caught: list[str] | None = None
    case_status: str | None = None
    new_task_ids: list[int] | None = None
