"""Access levels and the actions they allow.

A user's access to a case is one level; every action needs a minimum level (and some
actions more: agents only, administrators only, an open task of one's own).  Keeping the
levels a total order makes "what may this user do here" one comparison, in Python and in
SQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, get_args

from engine.errors import InvalidInput


class Level(IntEnum):
    NONE = 0
    SUMMARY = 1  # task users: the case summary shown with their task
    READ = 2  # monitors: view only
    STREAM = 3  # read and post to the stream: collaborators, owners, customers who may edit
    WRITE = 4  # work the case: managers


@dataclass(frozen=True)
class Need:
    """What one action needs beyond a level."""

    level: Level
    agents_only: bool = False  # never for portal users (customers)
    admin_only: bool = False
    task: bool = False  # acts on a task: the user must be a candidate of an open task
    assignee: bool = False  # only the case's assignee (passing their own case on)
    what: str = ""


#: Every action a user can take on a case, and what it needs.  ``edit`` and ``write`` are
#: the same action under the two names people use for it.
ACTIONS: dict[str, Need] = {
    "summary": Need(Level.SUMMARY, what="see the case summary"),
    "read": Need(Level.READ, what="read the case"),
    "read_internal": Need(
        Level.READ, agents_only=True, what="read the case's internal posts and service levels"
    ),
    "post": Need(Level.STREAM, what="post to the stream"),
    "post_internal": Need(Level.STREAM, agents_only=True, what="post internal notes"),
    "write": Need(Level.WRITE, agents_only=True, what="change the case"),
    "edit": Need(Level.WRITE, agents_only=True, what="change the case"),
    "close": Need(Level.WRITE, agents_only=True, what="close the case"),
    "hide": Need(Level.WRITE, agents_only=True, what="hide the case from the portal"),
    "assign": Need(Level.WRITE, agents_only=True, what="assign the case"),
    "delegate_case": Need(
        Level.STREAM, agents_only=True, assignee=True, what="delegate the case assigned to them"
    ),
    "move": Need(Level.WRITE, agents_only=True, what="move the case to another case type"),
    "cancel": Need(Level.WRITE, agents_only=True, what="cancel the case"),
    "reopen": Need(Level.WRITE, agents_only=True, what="reopen the case"),
    "collaborators": Need(Level.WRITE, agents_only=True, what="add or remove collaborators"),
    "merge": Need(Level.WRITE, agents_only=True, what="merge cases"),
    "link": Need(Level.WRITE, agents_only=True, what="link or unlink related cases"),
    "claim": Need(Level.SUMMARY, task=True, what="claim a task"),
    "release": Need(Level.SUMMARY, task=True, what="release a task"),
    "complete": Need(Level.SUMMARY, task=True, what="complete a task"),
    "reassign": Need(Level.SUMMARY, agents_only=True, task=True, what="reassign a task"),
    "delegate": Need(Level.SUMMARY, agents_only=True, task=True, what="delegate a task"),
    "restrict": Need(Level.READ, admin_only=True, what="restrict access to the case"),
    "unrestrict": Need(Level.READ, admin_only=True, what="lift the case's restriction"),
    "grant": Need(Level.READ, admin_only=True, what="grant case-level permissions"),
    "explain": Need(Level.SUMMARY, what="see why they have the access they have"),
}

#: The action names as a type, for the API's parameter (checked against ACTIONS below).
Action = Literal[
    "summary", "read", "read_internal", "post", "post_internal", "write", "edit", "close",
    "hide", "assign", "delegate_case", "move", "cancel", "reopen", "collaborators", "merge",
    "link", "claim", "release", "complete", "reassign", "delegate", "restrict", "unrestrict",
    "grant", "explain",
]  # fmt: skip
assert set(get_args(Action)) == set(ACTIONS), "Action and ACTIONS name the same actions"

#: Task actions an administrator may take on any task of a case they can see.
ADMIN_TASK_ACTIONS = frozenset({"reassign", "release"})


def need(action: str) -> Need:
    """What ``action`` needs; an unknown action is bad input naming the known ones."""
    try:
        return ACTIONS[action]
    except KeyError:
        raise InvalidInput(
            f"unknown action {action!r}", {"action": f"one of {', '.join(ACTIONS)}"}
        ) from None


def needed(action: str) -> Level:
    return need(action).level
