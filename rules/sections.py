"""Which sections of a case page each role sees (the GOSS permission summary).

Sections: the read-only case details (original submission), case actions,
contacting the owner, communications, contact details, linked cases and additional
details.  Managers see and use everything; monitors see but act on little; owners
see their submission and the communications; task users see a summary through
their task.
"""

from __future__ import annotations

from collections.abc import Mapping

from .levels import Level

SECTIONS = (
    "case_details",
    "case_actions",
    "contact_owner",
    "communications",
    "contact_details",
    "linked_cases",
    "additional_details",
)

DEFAULT_MATRIX: dict[str, frozenset[str]] = {
    "admin": frozenset(SECTIONS),
    "manager": frozenset(SECTIONS),
    "monitor": frozenset(
        {"case_details", "communications", "contact_details", "linked_cases", "additional_details"}
    ),
    "escalation": frozenset(
        {"case_details", "communications", "contact_details", "linked_cases", "additional_details"}
    ),
    "owner": frozenset({"case_details", "communications"}),
    "task_user": frozenset({"case_details"}),
}


def roles_on_case(
    *, is_admin: bool, level: Level, type_roles: frozenset[str], is_owner: bool
) -> frozenset[str]:
    """The roles that decide the sections a user sees on one case."""
    roles = set(type_roles & {"manager", "monitor", "escalation"})
    if is_admin:
        roles.add("admin")
    if level >= Level.WRITE and not roles:
        roles.add("manager")  # write permission without a case-type role acts as a manager
    elif level >= Level.READ and not roles and not is_owner:
        roles.add("monitor")
    if is_owner:
        roles.add("owner")
    if level == Level.SUMMARY:
        roles = {"task_user"}
    return frozenset(roles) if level > Level.NONE else frozenset()


def sections_for(
    roles: frozenset[str], matrix: Mapping[str, frozenset[str]] = DEFAULT_MATRIX
) -> frozenset[str]:
    """Union of the sections of every role held."""
    seen: set[str] = set()
    for role in roles:
        seen |= matrix.get(role, frozenset())
    return frozenset(seen)
