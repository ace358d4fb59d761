"""Holiday dates from an iCalendar (RFC 5545) text: a small, strict reader.

Only what a holiday calendar needs is accepted: all-day ``VEVENT`` s (``DTSTART`` as a
``DATE``, optionally ``DTEND`` as a ``DATE`` -- exclusive, as the RFC says -- or a
``DURATION`` in days or weeks).  Everything that would make the result a guess is
refused with the line number: a timed event (is a closure from 12:00 a holiday?), a
recurrence rule (``RRULE``/``RDATE``/``EXDATE``: expanding them correctly is a library's
job, and an unbounded yearly rule has no last date), unbalanced ``BEGIN``/``END``.
Cancelled events (``STATUS:CANCELLED``) are skipped.  Other components (``VTIMEZONE``,
``VTODO``, ``VALARM`` ...) and unknown properties are ignored.

We parse it ourselves rather than depend on ``icalendar`` because the subset is tiny and
strictness is the point: a library reads far more than we could honour.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

__all__ = ["parse_ics_holidays"]

_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DAYS = re.compile(r"^\+?P(?:(\d+)W|(\d+)D)$")
_RECURRENCE = ("RRULE", "RDATE", "EXDATE")
_LONGEST_EVENT_DAYS = 366


def parse_ics_holidays(text: str) -> frozenset[date]:
    """Return every date covered by an all-day, non-cancelled ``VEVENT`` in ``text``.

    Raises ``ValueError`` naming the line and the problem for anything it cannot read
    with certainty.
    """
    if not isinstance(text, str):
        raise ValueError(f"ics: expected iCalendar text, got {type(text).__name__}")
    dates: set[date] = set()
    stack: list[str] = []
    event: dict[str, tuple[int, dict[str, str], str]] | None = None
    event_line = 0
    for lineno, line in _unfold(text):
        if not line.strip():
            continue
        name, params, value = _split(lineno, line)
        if name == "BEGIN":
            component = value.upper()
            if not stack and component != "VCALENDAR":
                raise ValueError(f"ics line {lineno}: expected BEGIN:VCALENDAR, got {line!r}")
            stack.append(component)
            if component == "VEVENT" and len(stack) == 2:
                event, event_line = {}, lineno
            continue
        if name == "END":
            component = value.upper()
            if not stack or stack[-1] != component:
                open_ = stack[-1] if stack else "nothing"
                raise ValueError(f"ics line {lineno}: END:{component} closes {open_}")
            stack.pop()
            if component == "VEVENT" and event is not None and len(stack) == 1:
                dates.update(_event_dates(event_line, event))
                event = None
            continue
        if not stack:
            raise ValueError(f"ics line {lineno}: content outside BEGIN:VCALENDAR")
        if event is not None and stack[-1] == "VEVENT":
            if name in event and name in ("DTSTART", "DTEND", "DURATION"):
                raise ValueError(f"ics line {lineno}: {name} given twice in one VEVENT")
            event[name] = (lineno, params, value)
    if stack:
        raise ValueError(f"ics: BEGIN:{stack[-1]} is never closed")
    return frozenset(dates)


def _unfold(text: str) -> list[tuple[int, str]]:
    """Join folded lines (a line break followed by a space or tab continues the line)."""
    out: list[tuple[int, str]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and out:
            first, previous = out[-1]
            out[-1] = (first, previous + raw[1:])
        else:
            out.append((lineno, raw))
    return out


def _split(lineno: int, line: str) -> tuple[str, dict[str, str], str]:
    """Split ``NAME;PARAM=V;...:VALUE`` honouring double-quoted parameter values."""
    parts: list[str] = []
    quoted, begin = False, 0
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char in ";:" and not quoted:
            parts.append(line[begin:index])
            begin = index + 1
            if char == ":":
                break
    else:
        raise ValueError(f"ics line {lineno}: not a content line (no ':'): {line!r}")
    value = line[begin:]
    name, *raw_params = parts
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise ValueError(f"ics line {lineno}: bad property name {name!r}")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, sep, val = raw.partition("=")
        if not sep:
            raise ValueError(f"ics line {lineno}: bad parameter {raw!r}")
        params[key.upper()] = val.strip('"')
    return name.upper(), params, value.strip()


def _event_dates(line: int, event: dict[str, tuple[int, dict[str, str], str]]) -> list[date]:
    """The dates one all-day event covers; ``line`` is where its ``BEGIN:VEVENT`` is."""
    status = event.get("STATUS")
    if status and status[2].upper() == "CANCELLED":
        return []
    for name in _RECURRENCE:
        if name in event:
            raise ValueError(
                f"ics line {event[name][0]}: {name} is not supported; "
                "list each holiday as its own event"
            )
    summary = event.get("SUMMARY", (line, {}, ""))[2]
    label = f"VEVENT {summary!r}" if summary else "VEVENT"
    if "DTSTART" not in event:
        raise ValueError(f"ics line {line}: {label} has no DTSTART")
    first = _all_day(label, *event["DTSTART"])
    if "DTEND" in event and "DURATION" in event:
        raise ValueError(f"ics line {line}: {label} has both DTEND and DURATION")
    if "DTEND" in event:
        end = _all_day(label, *event["DTEND"])
    elif "DURATION" in event:
        lineno, _, value = event["DURATION"]
        match = _DAYS.fullmatch(value.upper())
        if not match:
            raise ValueError(
                f"ics line {lineno}: {label}: DURATION {value!r} is not whole days or weeks"
            )
        weeks, days = match.groups()
        end = first + timedelta(weeks=int(weeks or 0), days=int(days or 0))
    else:
        end = first + timedelta(days=1)
    length = (end - first).days
    if length <= 0:
        raise ValueError(f"ics line {line}: {label} ends before it starts")
    if length > _LONGEST_EVENT_DAYS:
        raise ValueError(f"ics line {line}: {label} lasts {length} days; more than a year")
    return [first + timedelta(days=n) for n in range(length)]


def _all_day(label: str, lineno: int, params: dict[str, str], value: str) -> date:
    """Read a ``DATE`` value; a ``DATE-TIME`` means the event is not all-day."""
    kind = params.get("VALUE", "DATE" if _DATE.fullmatch(value) else "DATE-TIME").upper()
    match = _DATE.fullmatch(value)
    if kind != "DATE" or not match:
        raise ValueError(
            f"ics line {lineno}: {label} is not an all-day event ({value!r}); "
            "only all-day events can be holidays"
        )
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise ValueError(f"ics line {lineno}: {label}: bad date {value!r}: {exc}") from None
