"""Weekly opening hours as read from a case type's TOML.

Opening hours are *wall-clock* times in the calendar's zone ("we open at 08:00"), kept
as minutes after local midnight per weekday; turning them into instants is the
calendar's job because only it knows the zone and the day.  ``24:00`` is allowed as an
end so a day can be open to midnight; an interval that crosses midnight must be split
("22:00-24:00" on one day, "00:00-06:00" on the next) so that every interval belongs to
exactly one local date, which is what holidays are made of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

__all__ = ["WEEKDAYS", "WeeklyHours", "check_keys", "check_weekly", "parse_date", "parse_hours"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys in ``date.weekday()`` order."""

WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]
"""Seven tuples (Monday first) of sorted, disjoint ``(start, end)`` minutes after midnight."""

ALWAYS_OPEN = "24/7"
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_DAY_MINUTES = 24 * 60


def parse_hours(value: Any, key: str = "hours") -> WeeklyHours:
    """Read ``"24/7"`` or ``{"mon": ["08:00-12:00", "13:00-17:00"], "sat-sun": [], ...}``.

    Keys are weekdays or inclusive ranges of them (``"mon-fri"``); a weekday may be named
    once only and a missing weekday is closed.  Raises ``ValueError`` naming the key.
    """
    if value == ALWAYS_OPEN:
        return tuple(((0, _DAY_MINUTES),) for _ in WEEKDAYS)
    if not isinstance(value, Mapping):
        raise ValueError(
            f'{key}: expected "{ALWAYS_OPEN}" or a table of weekday -> list of '
            f'"HH:MM-HH:MM", got {value!r}'
        )
    days: list[tuple[tuple[int, int], ...] | None] = [None] * 7
    for day_key, intervals in value.items():
        where = f"{key}.{day_key}"
        for index in _weekday_indexes(where, day_key):
            if days[index] is not None:
                raise ValueError(f"{where}: {WEEKDAYS[index]} is given more than once")
            days[index] = _parse_day(where, intervals)
    weekly = tuple(day or () for day in days)
    check_weekly(weekly, key)
    return weekly


def check_weekly(weekly: WeeklyHours, key: str = "hours") -> None:
    """Refuse a malformed or never-open week (a calendar that never opens never ends)."""
    if len(weekly) != 7:
        raise ValueError(f"{key}: expected 7 weekdays, got {len(weekly)}")
    for name, intervals in zip(WEEKDAYS, weekly, strict=True):
        previous_end = -1
        for start, end in intervals:
            if not (0 <= start < end <= _DAY_MINUTES):
                raise ValueError(f"{key}.{name}: bad interval {start}-{end} (minutes)")
            if start <= previous_end:
                raise ValueError(f"{key}.{name}: intervals overlap, touch or are not sorted")
            previous_end = end
    if not any(weekly):
        raise ValueError(f"{key}: the calendar is never open; give at least one interval")


def parse_date(value: Any, key: str) -> date:
    """A local date from ``"YYYY-MM-DD"`` or a TOML date (a ``date``, not a ``datetime``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f'{key}: expected a date "YYYY-MM-DD", got {value!r}')


def check_keys(where: str, data: Mapping[str, Any], known: set[str]) -> None:
    """Refuse unknown keys: a misspelt ``extra_holiday`` must not silently do nothing."""
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {sorted(known)}")


def _weekday_indexes(where: str, day_key: Any) -> range:
    if not isinstance(day_key, str):
        raise ValueError(f"{where}: weekday keys are strings like 'mon' or 'mon-fri'")
    first, sep, last = day_key.lower().partition("-")
    try:
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if sep else start
    except ValueError:
        raise ValueError(
            f"{where}: unknown weekday {day_key!r}; use {', '.join(WEEKDAYS)} or a range "
            "such as 'mon-fri'"
        ) from None
    if end < start:
        raise ValueError(f"{where}: range runs backwards; write e.g. 'mon-fri'")
    return range(start, end + 1)


def _parse_day(where: str, intervals: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(intervals, list | tuple):
        raise ValueError(f'{where}: expected a list of "HH:MM-HH:MM", got {intervals!r}')
    parsed = []
    for item in intervals:
        if not isinstance(item, str) or item.count("-") != 1:
            raise ValueError(f'{where}: expected "HH:MM-HH:MM", got {item!r}')
        text_start, text_end = item.split("-")
        start = _minutes(where, text_start.strip(), allow_24=False)
        end = _minutes(where, text_end.strip(), allow_24=True)
        if end <= start:
            raise ValueError(
                f"{where}: {item!r} ends before it starts; split an interval that crosses "
                'midnight ("22:00-24:00" and "00:00-06:00" on the next day)'
            )
        parsed.append((start, end))
    parsed.sort()
    merged: list[tuple[int, int]] = []
    for start, end in parsed:
        if merged and start < merged[-1][1]:
            raise ValueError(f"{where}: intervals overlap ({intervals!r})")
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _minutes(where: str, text: str, *, allow_24: bool) -> int:
    match = _TIME.fullmatch(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return hour * 60 + minute
        if allow_24 and hour == 24 and minute == 0:
            return _DAY_MINUTES
    raise ValueError(f"{where}: bad time {text!r}; expected HH:MM (24:00 only as an end)")
