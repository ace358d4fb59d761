"""Access levels and the actions they allow.

A user's access to a case is one level; every action needs a minimum level.  Keeping
this a total order makes "what may this user do here" one comparison, in Python and
in SQL alike.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal


class Level(IntEnum):
    NONE = 0
    SUMMARY = 1  # task users: the case summary shown with their task
    READ = 2
    WRITE = 3


#: What a user may do to a case (and ask about, through the API's access explanation).
Action = Literal["summary", "read", "read_internal", "post", "write", "post_internal", "close"]

#: Action -> the level it needs.  ``read_internal`` also needs a non-portal user.
ACTIONS: dict[str, Level] = {
    "summary": Level.SUMMARY,
    "read": Level.READ,
    "read_internal": Level.READ,
    "post": Level.READ,
    "write": Level.WRITE,
    "post_internal": Level.WRITE,
    "close": Level.WRITE,
}


def needed(action: str) -> Level:
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}") from None
