"""The strict iCalendar holiday reader and ISO 8601 durations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.sla import format_duration, parse_duration, parse_ics_holidays

HOLIDAYS_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp//Closures//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:summer-party@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260716
SUMMARY:Summer party\\, whole
  company
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:Reminder
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:inventory@example.com
DTSTART;VALUE=DATE:20260806
DTEND;VALUE=DATE:20260808
SUMMARY:Inventory
END:VEVENT
BEGIN:VEVENT
UID:retreat@example.com
DTSTART:20260921
DURATION:P1W
SUMMARY:Retreat
END:VEVENT
BEGIN:VEVENT
UID:cancelled@example.com
DTSTART;VALUE=DATE:20261102
STATUS:CANCELLED
SUMMARY:Called off
END:VEVENT
END:VCALENDAR
"""


def test_it_reads_all_day_events_with_exclusive_ends_and_durations() -> None:
    days = parse_ics_holidays(HOLIDAYS_ICS)
    retreat = {date(2026, 9, 21) + timedelta(days=n) for n in range(7)}
    assert days == {date(2026, 7, 16), date(2026, 8, 6), date(2026, 8, 7)} | retreat


def test_it_reads_crlf_and_quoted_parameters() -> None:
    text = (
        'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;X-NOTE="a:b;c";VALUE=DATE:20261231\r\n'
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert parse_ics_holidays(text) == {date(2026, 12, 31)}


def _event(*lines: str) -> str:
    return "\n".join(["BEGIN:VCALENDAR", "BEGIN:VEVENT", *lines, "END:VEVENT", "END:VCALENDAR"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_event("DTSTART:20261224T120000", "SUMMARY:Half day"), "line 3: VEVENT 'Half day' is not"),
        (_event("DTSTART;VALUE=DATE:20261224", "RRULE:FREQ=YEARLY"), "line 4: RRULE is not"),
        (_event("SUMMARY:No date"), "has no DTSTART"),
        (_event("DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261224"), "ends before"),
        (_event("DTSTART;VALUE=DATE:20261224", "DURATION:PT4H"), "not whole days"),
        (_event("DTSTART;VALUE=DATE:20261324"), "bad date"),
        (_event("DTSTART;VALUE=DATE:20260101", "DTSTART;VALUE=DATE:20260102"), "given twice"),
        ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\n", "never closed"),
        ("BEGIN:VCALENDAR\nEND:VEVENT\n", "END:VEVENT closes VCALENDAR"),
        ("BEGIN:VEVENT\nEND:VEVENT\n", "expected BEGIN:VCALENDAR"),
        ("BEGIN:VCALENDAR\nnonsense\nEND:VCALENDAR\n", "line 2: not a content line"),
    ],
)
def test_it_refuses_what_it_cannot_read_with_certainty(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ics_holidays(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT4H", timedelta(hours=4)),
        ("PT30M", timedelta(minutes=30)),
        ("P5D", timedelta(days=5)),
        ("P1W", timedelta(days=7)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("PT1.5H", timedelta(minutes=90)),
        ("PT0,25S", timedelta(milliseconds=250)),
        ("pt8h", timedelta(hours=8)),
    ],
)
def test_it_parses_iso_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("P1M", "years or months"),
        ("P1Y2D", "years or months"),
        ("4h", "not an ISO 8601 duration"),
        ("P", "not an ISO 8601 duration"),
        ("PT", "not an ISO 8601 duration"),
        ("P1DT", "not an ISO 8601 duration"),
        ("PT4H30", "not an ISO 8601 duration"),
        (14400, "expected an ISO 8601 duration"),
    ],
)
def test_it_refuses_bad_durations_naming_the_key(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"within: .*{message}"):
        parse_duration(text, "within")  # type: ignore[arg-type]


def test_it_formats_durations_back() -> None:
    assert format_duration(timedelta(hours=4)) == "PT4H"
    assert format_duration(timedelta(days=5, minutes=1, seconds=1.5)) == "P5DT1M1.5S"
    assert format_duration(timedelta(0)) == "PT0S"
    assert parse_duration(format_duration(timedelta(days=2, hours=3))) == timedelta(days=2, hours=3)
