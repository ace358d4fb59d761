"""ISO 8601 durations (``PT4H``, ``P5D``, ``P1W``) as exact ``timedelta`` s.

SLA targets are amounts of *business time*, so only fixed-length units make sense:
weeks, days, hours, minutes and seconds, where a day is 24 hours and a week 7 days of
business time (the ISO meaning, and what Zammad-style SLA clocks count).  Years and
months have no fixed length and are refused.  Note that ``P1D`` therefore means 24
*business* hours -- three working days on an eight-hour calendar, not one.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

__all__ = ["format_duration", "parse_duration"]

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)
_CALENDAR_UNITS = re.compile(r"^P(?:[^T]*?)\d(?:[.,]\d+)?[YM]")
_UNIT_SECONDS = (7 * 86400, 86400, 3600, 60, 1)


def parse_duration(text: str, key: str = "duration") -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Decimal fractions are allowed on any unit (``PT1.5H``) and rounded to the
    microsecond.  Raises ``ValueError`` naming ``key`` for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f'{key}: expected an ISO 8601 duration such as "PT4H", got {text!r}')
    value = text.strip().upper()
    if _CALENDAR_UNITS.match(value):
        raise ValueError(
            f"{key}: {text!r} uses years or months, which have no fixed length; "
            "use weeks, days or hours (P30D, PT8H)"
        )
    match = _DURATION.fullmatch(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f'{key}: {text!r} is not an ISO 8601 duration such as "PT4H" or "P5D"')
    seconds = sum(
        (
            Decimal(part.replace(",", ".")) * unit
            for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
            if part is not None
        ),
        Decimal(0),
    )
    return timedelta(microseconds=int((seconds * 1_000_000).to_integral_value()))


def format_duration(duration: timedelta) -> str:
    """The shortest ``PnDTnHnMnS`` form of a non-negative duration (for messages and logs)."""
    if duration < timedelta(0):
        raise ValueError(f"duration: {duration} is negative")
    micros = duration // timedelta(microseconds=1)
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds = Decimal(rest) / 1_000_000
    parts = ((hours, "H"), (minutes, "M"), (seconds, "S"))
    time = "".join(f"{amount}{unit}" for amount, unit in parts if amount)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"
