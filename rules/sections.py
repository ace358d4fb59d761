"""Which sections of a case page each role sees (the GOSS permission summary, seed 001).

Sections: the read-only case details (original submission), case actions, contacting
the owner, communications, contact details, linked cases and additional details.
Managers see and use everything; monitors see but act on little; owners see their
submission and the communications; task users see a summary through their task.

The roles a user holds *on one case* come from the rules that gave them access to it
(see :func:`roles_of`), so sections never widen what the access decision allows: a
manager of the case type who is granted read-only on a restricted case sees what a
monitor sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

from engine.errors import InvalidInput

from .levels import Level

Section = Literal[
    "case_details",
    "case_actions",
    "contact_owner",
    "communications",
    "contact_details",
    "linked_cases",
    "additional_details",
]
SECTIONS: tuple[str, ...] = get_args(Section)

_VIEWER = frozenset(
    {"case_details", "communications", "contact_details", "linked_cases", "additional_details"}
)
DEFAULT_MATRIX: dict[str, frozenset[str]] = {
    "admin": frozenset(SECTIONS),
    "manager": frozenset(SECTIONS),
    "monitor": _VIEWER,
    "escalation": frozenset(SECTIONS),  # while escalated they work the case
    "owner": frozenset({"case_details", "communications"}),
    "task_user": frozenset({"case_details"}),
}


def check_section(section: str | None) -> None:
    """An unknown section is bad input naming the known ones."""
    if section is not None and section not in SECTIONS:
        raise InvalidInput(
            f"unknown section {section!r}", {"section": f"one of {', '.join(SECTIONS)}"}
        )


def role_of(rule: str, level: Level) -> str | None:
    """The page role a rule's grant of ``level`` plays (None: it grants nothing)."""
    if level <= Level.NONE:
        return None
    if rule in ("portal", "raiser"):
        return "owner"
    if rule == "task_user":
        return "task_user"
    if rule == "admin":
        return "admin"
    if rule == "escalation":
        return "escalation"
    if level >= Level.WRITE:
        return "manager"  # the system rule or a full grant
    if level == Level.STREAM and rule == "restriction":
        return "owner"  # a customer's full grant: read and post, as on their own case
    return "monitor"  # read by the system rule, a read grant, a collaborator


def roles_of(steps: Iterable[tuple[str, Level | None]]) -> frozenset[str]:
    """The roles of every rule that gave access (the deciding rule alone when one decides)."""
    roles = {role_of(rule, level) for rule, level in steps if level is not None}
    return frozenset(r for r in roles if r is not None)


def sections_for(
    roles: frozenset[str], matrix: Mapping[str, frozenset[str]] = DEFAULT_MATRIX
) -> frozenset[str]:
    """Union of the sections of every role held."""
    seen: set[str] = set()
    for role in roles:
        seen |= matrix.get(role, frozenset())
    return frozenset(seen)
