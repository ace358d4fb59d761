"""``[children]`` of a case type: who a case's child records are shared with on their own.

A child record (a mail, a call, a note, an attachment, a to-do linked to a case) has its
own access list: seeing the case does not mean seeing its children (seed 000, "Access to
child records").  A designer may switch on propagation, so that the case's assignee
and/or its teams (the groups of the type's ``manager`` role) are put on the access list
of every child record - when it is added and again whenever the assignee changes::

    [children]
    propagate = ["assignee", "teams"]    # either, both, or [] (the default)
"""

from __future__ import annotations

from typing import Any

PROPAGATE = ("assignee", "teams")
_KEYS = ("propagate",)


def propagation(children: dict[str, Any] | None) -> frozenset[str]:
    """What the stored ``[children]`` section propagates (checked when deployed)."""
    return frozenset((children or {}).get("propagate", ()))


def read_children(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """Check ``[children]``; every problem names the key."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, ["[children] must be a table"]
    problems = [
        f"[children] has unknown key '{key}'; keys: {', '.join(_KEYS)}"
        for key in raw
        if key not in _KEYS
    ]
    propagate = raw.get("propagate", [])
    if not isinstance(propagate, list) or not all(p in PROPAGATE for p in propagate):
        problems.append(
            f"children.propagate must list what to propagate: {', '.join(PROPAGATE)} "
            '(["assignee", "teams"])'
        )
    return ({} if problems else dict(raw)), problems
