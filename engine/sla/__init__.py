"""SLA time arithmetic: business calendars and target clocks, and the clocks of cases.

Case types promise targets -- first response, next update, resolution -- measured in
*business time*: the opening hours of a calendar in the customer's time zone, minus
holidays, and minus the time a case waits on the customer.  Every module here but one
is pure (no database, no I/O) and answers only "when" questions; the names below are
theirs.  ``clocks`` is the one part that touches the store: a case's clock history, its
policy version and the SLA timer rows it implies (imported as ``engine.sla.clocks``,
never from this package's namespace, so the pure part loads without the store).

A policy as read from a case type's TOML::

    [sla.calendar]
    timezone = "Europe/Berlin"
    extra_holidays = [2026-12-24]          # TOML dates or "YYYY-MM-DD" strings
    [sla.calendar.hours]                   # or: hours = "24/7"
    mon-fri = ["08:00-12:00", "13:00-17:00"]
    sat = ["10:00-14:00"]                  # a missing weekday is closed
    [sla.calendar.holidays]                # all optional
    country = "DE"                         # public holidays of the `holidays` package
    subdivision = "BE"
    ics = "BEGIN:VCALENDAR ..."            # all-day VEVENTs (text; the caller reads files)
    [sla.targets.first_response]
    within = "PT4H"                        # ISO 8601; P1D = 24 business hours
    warn_at = [0.75, 0.9]
    [sla.targets.resolution]
    within = "P5D"

All instants are aware datetimes in, aware UTC datetimes out; naive ones are refused.
"""

from .calendar import BusinessCalendar
from .durations import format_duration, parse_duration
from .hours import WEEKDAYS, WeeklyHours, parse_hours
from .ics import parse_ics_holidays
from .options import SlaOptions, read_section
from .targets import (
    BREACH,
    ClockEvent,
    DueMoment,
    SlaPolicy,
    Target,
    TargetState,
    TargetStatus,
    due_moments,
    evaluate,
    met,
    paused,
    reset,
    resumed,
    started,
)

__all__ = [
    "BREACH",
    "WEEKDAYS",
    "BusinessCalendar",
    "ClockEvent",
    "DueMoment",
    "SlaOptions",
    "SlaPolicy",
    "Target",
    "TargetState",
    "TargetStatus",
    "WeeklyHours",
    "due_moments",
    "evaluate",
    "format_duration",
    "met",
    "parse_duration",
    "parse_hours",
    "parse_ics_holidays",
    "paused",
    "read_section",
    "reset",
    "resumed",
    "started",
]
