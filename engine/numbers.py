"""Whole numbers as people type them: ids, ports, limits.

``int()`` accepts more than a person means by a number ("١٢", " 12", "1_000") and
``str.isdigit()`` accepts digits ``int()`` refuses ("²"), so each place that checked a
typed number by hand answered some input with a crash instead of "not a number".  Every
typed number is read here instead: ASCII digits only, within a range, else ``None`` for
the caller to name the problem in its own words.
"""

from __future__ import annotations

#: The largest id a row can have: the range of the databases' INTEGER primary keys.
MAX_ID = 2**31 - 1


def spells_a_number(text: object) -> bool:
    """Whether ``text`` is ASCII digits only (and not absurdly many of them)."""
    spelled = str(text)
    return spelled.isascii() and spelled.isdigit() and len(spelled) <= 30


def whole_number(text: object, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """The number ``text`` spells in ASCII digits when it lies in ``[low, high]``; else None."""
    spelled = str(text)
    if not spells_a_number(spelled):
        return None
    value = int(spelled)
    return value if low <= value <= high else None
