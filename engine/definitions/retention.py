"""``[retention]`` of a case type: how long a closed case is kept before it is purged.

Personal data may be kept only as long as it is needed; a designer says how long that is
for cases of this type.  A case type without the section keeps its closed cases for good::

    [retention]
    closed_days = 730         # purge closed cases this many days after they closed
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

_KEYS = ("closed_days",)


def retention_period(retention: dict[str, Any] | None) -> timedelta | None:
    """How long a closed case of the type is kept; None keeps it for good."""
    days = (retention or {}).get("closed_days")
    return None if days is None else timedelta(days=float(days))


def read_retention(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """Check ``[retention]``; every problem names the key."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, ["[retention] must be a table"]
    problems = [
        f"[retention] has unknown key '{key}'; keys: {', '.join(_KEYS)}"
        for key in raw
        if key not in _KEYS
    ]
    days = raw.get("closed_days")
    if days is None and not problems:
        problems.append("retention.closed_days is missing: the number of days to keep a case")
    elif days is not None and (
        isinstance(days, bool) or not isinstance(days, int | float) or days < 1
    ):
        problems.append("retention.closed_days must be a number of days, 1 or more")
    return ({} if problems else dict(raw)), problems
