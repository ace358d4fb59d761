"""SLA targets: independent business-time clocks driven by a case's clock history.

A policy names targets (``first_response``, ``next_update``, ``resolution`` ...), each a
business duration on one calendar with optional warning thresholds (fractions of it).
The history is a list of :class:`ClockEvent` s: ``started`` starts every target,
``paused``/``resumed`` (waiting on the customer) stop and restart every running one,
``met(target)`` stops one target, ``reset(target)`` starts a fresh cycle of one target
(the next-update clock restarts on each agent reply).  Each target keeps its own clock,
so resetting ``next_update`` can never move ``first_response``: they share nothing but
the pauses.

Everything is recomputed from the history on each call -- no stored due time can go
stale, and a scheduler only needs :func:`due_moments` to know which timers to (re)write.
Moments are compared as instants: a threshold is reached at the earliest instant its
business time has elapsed, so a response at 18:00 to a target due at the 17:00 closing
is late even though no business time passed in between (the 17:00 timer has fired).
A target met exactly at its due instant is in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from .calendar import BusinessCalendar
from .durations import parse_duration
from .events import TARGETED, ClockEvent, met, paused, reset, resumed, started
from .hours import check_keys

__all__ = [
    "BREACH",
    "ClockEvent",
    "DueMoment",
    "SlaPolicy",
    "Target",
    "TargetState",
    "TargetStatus",
    "due_moments",
    "evaluate",
    "met",
    "paused",
    "reset",
    "resumed",
    "started",
]

TargetState = Literal["running", "paused", "met", "breached"]
BREACH = 1.0


@dataclass(frozen=True)
class Target:
    """A business duration to meet, and the fractions of it at which to warn."""

    name: str
    within: timedelta
    warn_at: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        where = f"targets.{self.name}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"targets: a target name must be a non-empty string: {self.name!r}")
        if not isinstance(self.within, timedelta) or self.within <= timedelta(0):
            raise ValueError(f"{where}.within: must be a positive duration, got {self.within!r}")
        fractions = []
        for value in self.warn_at:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise ValueError(f"{where}.warn_at: {value!r} is not a fraction between 0 and 1")
            fractions.append(float(value))
        if len(set(fractions)) != len(fractions):
            raise ValueError(f"{where}.warn_at: {list(self.warn_at)!r} repeats a fraction")
        object.__setattr__(self, "warn_at", tuple(sorted(fractions)))

    @property
    def thresholds(self) -> tuple[float, ...]:
        """Warning fractions then ``1.0``, the breach."""
        return (*self.warn_at, BREACH)

    def amount(self, fraction: float) -> timedelta:
        """Business time at which ``fraction`` of the target is used (to the microsecond)."""
        if fraction == BREACH:
            return self.within
        micros = self.within // timedelta(microseconds=1)
        return timedelta(microseconds=round(micros * fraction))


@dataclass(frozen=True)
class SlaPolicy:
    """A calendar and the targets measured on it (in the order given)."""

    calendar: BusinessCalendar
    targets: tuple[Target, ...]

    def __post_init__(self) -> None:
        names = [target.name for target in self.targets]
        if not names:
            raise ValueError("targets: at least one target is required")
        if len(set(names)) != len(names):
            raise ValueError(f"targets: names repeat: {names}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Build from ``{"calendar": {...}, "targets": {name: {"within": ISO, "warn_at": []}}}``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"sla: expected a table, got {data!r}")
        check_keys("sla", data, {"calendar", "targets"})
        if "calendar" not in data:
            raise ValueError("calendar: required")
        calendar = BusinessCalendar.from_dict(data["calendar"])
        raw_targets = data.get("targets")
        if not isinstance(raw_targets, Mapping) or not raw_targets:
            raise ValueError(f"targets: expected a non-empty table of targets, got {raw_targets!r}")
        targets = []
        for name, raw in raw_targets.items():
            where = f"targets.{name}"
            if not isinstance(raw, Mapping):
                raise ValueError(f'{where}: expected a table like {{within = "PT4H"}}, got {raw!r}')
            check_keys(where, raw, {"within", "warn_at"})
            if "within" not in raw:
                raise ValueError(f'{where}.within: required, an ISO 8601 duration such as "PT4H"')
            warn_at = raw.get("warn_at", [])
            if not isinstance(warn_at, list | tuple):
                raise ValueError(f"{where}.warn_at: expected a list of fractions, got {warn_at!r}")
            within = parse_duration(raw["within"], f"{where}.within")
            targets.append(Target(str(name), within, tuple(warn_at)))
        return cls(calendar, tuple(targets))

    def target(self, name: str) -> Target:
        """The target called ``name``; ``ValueError`` if the policy has none."""
        for target in self.targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in self.targets)
        raise ValueError(f"unknown SLA target {name!r}; the policy has {known}")


@dataclass(frozen=True)
class TargetStatus:
    """Where one target stands at ``now`` (its current cycle: since start or last reset).

    ``due_at`` is ``None`` while paused before the breach (it depends on when the clock
    resumes); ``warnings`` pairs each warning fraction with the instant it was or will be
    reached (``None`` likewise).  ``breached_at`` stays set if the target was met late.
    """

    target: str
    state: TargetState
    started_at: datetime
    due_at: datetime | None
    warnings: tuple[tuple[float, datetime | None], ...]
    used: timedelta
    remaining: timedelta
    met_at: datetime | None = None
    breached_at: datetime | None = None


class DueMoment(NamedTuple):
    """A future instant at which ``target`` reaches ``threshold`` (1.0 = breach)."""

    target: str
    threshold: float
    due_at: datetime


@dataclass
class _Clock:
    """Mutable working state of one target while the history is replayed."""

    target: Target
    started_at: datetime
    running_since: datetime | None
    used: timedelta = timedelta(0)
    met_at: datetime | None = None
    due_at: datetime | None = None  # the due instant in force when met
    reached: dict[float, datetime] = field(default_factory=dict)

    def projected(self, calendar: BusinessCalendar, fraction: float) -> datetime:
        """When ``fraction`` is reached if the clock keeps running from ``running_since``."""
        assert self.running_since is not None
        need = max(self.target.amount(fraction) - self.used, timedelta(0))
        return calendar.add_business_time(self.running_since, need)

    def stop(self, calendar: BusinessCalendar, at: datetime, *, in_time_at_due: bool) -> None:
        """Close the running segment at ``at``, recording the thresholds it reached.

        ``in_time_at_due``: a threshold falling exactly at ``at`` is not reached (a target
        met at its due instant is met in time); otherwise it is (the timer fired).
        """
        if self.running_since is None:
            return
        for fraction in self.target.thresholds:
            if fraction not in self.reached:
                moment = self.projected(calendar, fraction)
                if moment < at or (moment == at and not in_time_at_due):
                    self.reached[fraction] = moment
        self.used += calendar.business_time_between(self.running_since, at)
        self.running_since = None


def evaluate(
    policy: SlaPolicy, events: Iterable[ClockEvent], now: datetime
) -> dict[str, TargetStatus]:
    """Replay ``events`` (sorted stably by time) and report every target at ``now``.

    Returns ``{}`` for an empty history.  Raises ``ValueError`` when the history does not
    begin with one ``started``, names an unknown target, or has events after ``now``.
    """
    clocks, is_paused = _replay(policy, events, now)
    calendar = policy.calendar
    report = {}
    for clock in clocks.values():
        target = clock.target
        used = clock.used
        if clock.running_since is not None:
            for fraction in target.thresholds:
                if fraction not in clock.reached:
                    moment = clock.projected(calendar, fraction)
                    if moment <= now:
                        clock.reached[fraction] = moment
            used += calendar.business_time_between(clock.running_since, now)

        def moment_of(fraction: float, clock: _Clock = clock) -> datetime | None:
            if fraction in clock.reached:
                return clock.reached[fraction]
            if clock.running_since is not None:
                return clock.projected(calendar, fraction)
            return None

        breached_at = clock.reached.get(BREACH)
        state: TargetState
        if breached_at is not None:
            state = "breached"
        elif clock.met_at is not None:
            state = "met"
        else:
            state = "paused" if is_paused else "running"
        report[target.name] = TargetStatus(
            target=target.name,
            state=state,
            started_at=clock.started_at,
            due_at=clock.due_at if state == "met" else moment_of(BREACH),
            warnings=tuple((f, moment_of(f)) for f in target.warn_at),
            used=used,
            remaining=max(target.within - used, timedelta(0)),
            met_at=clock.met_at,
            breached_at=breached_at,
        )
    return report


def due_moments(policy: SlaPolicy, events: Iterable[ClockEvent], now: datetime) -> list[DueMoment]:
    """The future threshold moments of every running target, earliest first.

    These are the timer rows a scheduler keeps: none for a paused, met or breached
    target, and after any new event the whole list is recomputed and replaces the old.
    """
    clocks, _ = _replay(policy, events, now)
    moments = []
    for clock in clocks.values():
        if clock.running_since is None:
            continue
        for fraction in clock.target.thresholds:
            if fraction not in clock.reached:
                moment = clock.projected(policy.calendar, fraction)
                if moment > now:
                    moments.append(DueMoment(clock.target.name, fraction, moment))
    order = {target.name: index for index, target in enumerate(policy.targets)}
    moments.sort(key=lambda m: (m.due_at, order[m.target], m.threshold))
    return moments


def _replay(
    policy: SlaPolicy, events: Iterable[ClockEvent], now: datetime
) -> tuple[dict[str, _Clock], bool]:
    """Apply the history up to ``now``; return the clocks and whether the case is paused."""
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError(f"now: must be an aware datetime, got {now!r}")
    history = sorted(events, key=lambda event: event.at)
    calendar = policy.calendar
    clocks: dict[str, _Clock] = {}
    is_paused = False
    for index, event in enumerate(history):
        if event.at > now:
            raise ValueError(f"events: {event.kind} at {event.at.isoformat()} is after now")
        if event.kind == "started":
            if index != 0:
                raise ValueError("events: 'started' must come first and only once")
            clocks = {t.name: _Clock(t, event.at, event.at) for t in policy.targets}
            continue
        if index == 0:
            raise ValueError(f"events: the history begins with {event.kind!r}, not 'started'")
        if event.kind == "paused" and not is_paused:
            is_paused = True
            for clock in clocks.values():
                clock.stop(calendar, event.at, in_time_at_due=False)
        elif event.kind == "resumed" and is_paused:
            is_paused = False
            for clock in clocks.values():
                if clock.met_at is None:
                    clock.running_since = event.at
        elif event.kind in TARGETED:
            clock = clocks[policy.target(str(event.target)).name]
            if event.kind == "reset":
                running = None if is_paused else event.at
                clocks[clock.target.name] = _Clock(clock.target, event.at, running)
            elif clock.met_at is None:
                if clock.running_since is not None:
                    clock.due_at = clock.projected(calendar, BREACH)
                clock.stop(calendar, event.at, in_time_at_due=True)
                clock.met_at = event.at
    return clocks, is_paused
