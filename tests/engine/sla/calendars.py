"""Calendars and helpers shared by the SLA tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from engine.sla import BusinessCalendar

BERLIN_OFFICE = {
    "timezone": "Europe/Berlin",
    "hours": {"mon-fri": ["08:00-12:00", "13:00-17:00"]},
    "holidays": {"country": "DE", "subdivision": "BE"},
    "extra_holidays": ["2026-12-24"],
}
NEW_YORK_OFFICE = {
    "timezone": "America/New_York",
    "hours": {"mon-fri": ["09:00-17:00"]},
    "holidays": {"country": "US"},
}


def berlin() -> BusinessCalendar:
    return BusinessCalendar.from_dict(BERLIN_OFFICE)


def new_york() -> BusinessCalendar:
    return BusinessCalendar.from_dict(NEW_YORK_OFFICE)


def utc(text: str) -> datetime:
    """An aware UTC instant from ISO text such as ``2026-01-12T07:00Z``."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value.astimezone(UTC)


def local(text: str, zone: str) -> datetime:
    """The UTC instant of a wall-clock time in ``zone`` (``fold=0``)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
