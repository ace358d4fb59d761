"""When a timer start event falls due: ISO 8601 dates, durations and repetitions, and cron.

Pure functions (no database): :func:`next_due` answers the first due time strictly after
a moment, or ``None`` when the timer will not fire again.  A case type's timer start
events are read from its deployed spec; the sweeper (``start_events.py``) stores each due
time as a row, so "exactly once per due time" is a unique key, not a computation.

Cron expressions (Camunda writes them in ``timeCycle``) are read in UTC: five fields
``minute hour day-of-month month day-of-week``, or six with leading seconds (Casework's
clock ticks in minutes, so a seconds field such as Camunda's ``0/5`` fires once in each
matching minute: ``sub_minute`` says so, and deploy warns); names (``MON``, ``JAN``), ``*``, ``?``,
lists, ranges and steps.  When both day fields are restricted a day matching either
counts, as in Unix cron.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

_CRON = re.compile(r"^[\w*?/,#-]+(\s+[\w*?/,#-]+){4,5}$")
_DAYS = {n: i for i, n in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_MONTHS = {
    n: i + 1
    for i, n in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}


class ScheduleError(ValueError):
    """A timer start value that names no time Casework can compute."""


def is_cron(text: str) -> bool:
    return bool(_CRON.match(text.strip()))


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    found: set[int] = set()
    for part in text.upper().split(","):
        part, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if part in ("*", "?", ""):
            start, end = low, high
        else:
            first, _, last = part.partition("-")
            start = names[first] if names and first in names else int(first)
            end = (names[last] if names and last in names else int(last)) if last else start
            if step_text and not last:
                end = high
        if not (low <= start <= high and low <= end <= high) or step < 1 or start > end:
            raise ScheduleError(f"cron field {text!r} is outside {low}-{high}")
        found.update(range(start, end + 1, step))
    return found


@dataclass(frozen=True)
class Cron:
    minutes: set[int]
    hours: set[int]
    days: set[int]
    months: set[int]
    weekdays: set[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        fields = text.split()
        if len(fields) == 6:
            _field(fields[0], 0, 59)  # read, so a wrong one is refused; then minutes only
            fields = fields[1:]
        if len(fields) != 5:
            raise ScheduleError("a cron expression has five fields (six with seconds)")
        try:
            weekdays = {d % 7 for d in _field(fields[4].replace("7", "0"), 0, 6, _DAYS)}
            return cls(
                _field(fields[0], 0, 59),
                _field(fields[1], 0, 23),
                _field(fields[2], 1, 31),
                _field(fields[3], 1, 12, _MONTHS),
                weekdays,
                fields[2] in ("*", "?"),
                fields[4] in ("*", "?"),
            )
        except (ValueError, KeyError) as exc:
            raise ScheduleError(f"cron expression {text!r} cannot be read: {exc}") from None

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        by_date, by_weekday = day.day in self.days, (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def next_after(self, moment: datetime) -> datetime | None:
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):  # a 29 February on a Monday comes within 28 years; enough
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None


def sub_minute(text: str) -> str | None:
    """The seconds field of a six-field cron expression that asks for more than one firing
    a minute (``0/5``, ``*``); None otherwise."""
    fields = literal(text).split()
    if len(fields) == 6 and is_cron(literal(text)) and fields[0] not in ("0", "00", "?"):
        return fields[0]
    return None


def literal(text: str) -> str:
    """A timer value as written: quoted (``"R/PT1H"``) or bare (Camunda's ``R/PT1H``)."""
    text = text.strip()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def next_due(kind: str, text: str, after: datetime, *, since: datetime) -> datetime | None:
    """The first due time of a timer start event strictly after ``after``.

    ``kind`` is ``timeDate``, ``timeDuration`` or ``timeCycle``; ``since`` is when the
    version was deployed (a duration, or a repetition without a start, counts from it).
    """
    value = literal(text)
    try:
        if kind == "timeCycle" and is_cron(value):
            return Cron.parse(value).next_after(after)
        if kind == "timeDate":
            due = _aware(TimerEventDefinition.get_datetime(value))
            return due if due > after else None
        if kind == "timeDuration":  # once, counted from the deploy
            due = since + TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(value), since
            )
            return due if due > after or after <= since else None
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
    except ScheduleError:
        raise
    except Exception as exc:
        raise ScheduleError(f"timer value {text!r} names no time: {exc}") from None
    first = _aware(start) if "/" in value.split("/", 1)[1] else since + duration
    if duration <= timedelta(0):
        raise ScheduleError(f"timer cycle {text!r} does not move forward")
    passed = 0 if after < first else int((after - first) / duration) + 1
    if cycles >= 0 and passed >= cycles:  # -1: repeats for ever
        return None
    when: datetime = first + passed * duration
    return when


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_KINDS = {
    CycleTimerEventDefinition: "timeCycle",
    DurationTimerEventDefinition: "timeDuration",
    TimeDateEventDefinition: "timeDate",
}


@dataclass(frozen=True)
class TimerStart:
    """A timer start event of a process: its element, kind and value as written."""

    element_id: str
    name: str
    kind: str
    expression: str


def timer_starts(spec: BpmnProcessSpec) -> list[TimerStart]:
    """The timer start events of a process spec."""
    found = []
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(task_spec, StartEvent) and isinstance(definition, TimerEventDefinition):
            kind = _KINDS.get(type(definition), "timeCycle")
            name = task_spec.bpmn_name or task_spec.bpmn_id
            found.append(TimerStart(task_spec.bpmn_id, name, kind, str(definition.expression)))
    return found


_PAST = "1970-01-01T00:00:00+00:00"


def prime_timer_starts(workflow: BpmnWorkflow) -> None:
    """Let a new case pass its timer start event at once: the due time has come when the
    sweeper opens it (and a case opened by hand starts now).  The start event's own value
    (a cron expression, a cycle) is never evaluated inside the case."""
    for task in workflow.tasks.values():  # a flat pass: the tree walk costs every open
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(task.task_spec, StartEvent):
            continue
        if not isinstance(definition, TimerEventDefinition):
            continue
        if isinstance(definition, CycleTimerEventDefinition):  # one firing, then done
            task.internal_data["event_value"] = {"cycles": 1, "next": _PAST, "duration": 0}
        else:
            task.internal_data["event_value"] = _PAST
