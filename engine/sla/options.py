"""What a case type's ``[sla]`` section says beyond time arithmetic: when the clocks pause
and when notices may be sent.

    [sla.pause]
    roles = ["owner"]                 # an open task of these roles = waiting on the customer
    tasks = ["Confirm resolution"]    # ... or these tasks (BPMN id or name)
    [sla.notices]
    quiet_hours = true                # notices wait for the calendar's next opening hour
    urgent_priorities = ["urgent"]    # ... except for cases of these priorities
    urgent_targets = ["first_response"]   # ... and for these targets (also past a
                                      # recipient's own quiet hours, rules.notice_hours)
    digest_groups = ["support-leads"] # members get a daily digest (run.py sla digest)

The rest of the section (calendar, targets) is an :class:`SlaPolicy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .hours import check_keys
from .targets import SlaPolicy

_SECTION_KEYS = {"calendar", "targets", "pause", "notices"}


@dataclass(frozen=True)
class SlaOptions:
    """Pause and notice rules of one policy version."""

    pause_roles: frozenset[str] = frozenset()
    pause_tasks: frozenset[str] = frozenset()
    quiet_hours: bool = False
    urgent_priorities: frozenset[str] = frozenset({"urgent"})
    urgent_targets: frozenset[str] = frozenset()
    digest_groups: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaOptions:
        pause = _table(data, "pause", {"roles", "tasks"})
        notices = _table(
            data,
            "notices",
            {"quiet_hours", "urgent_priorities", "urgent_targets", "digest_groups"},
        )
        quiet = notices.get("quiet_hours", False)
        if not isinstance(quiet, bool):
            raise ValueError(f"notices.quiet_hours: expected true or false, got {quiet!r}")
        return cls(
            pause_roles=_names(pause, "pause.roles"),
            pause_tasks=_names(pause, "pause.tasks"),
            quiet_hours=quiet,
            urgent_priorities=_names(notices, "notices.urgent_priorities", default={"urgent"}),
            urgent_targets=_names(notices, "notices.urgent_targets"),
            digest_groups=_names(notices, "notices.digest_groups"),
        )

    def pauses_for(self, *, role: str | None, element_id: str, name: str) -> bool:
        """Whether an open task with this role, BPMN id and name means "waiting on the customer"."""
        return role in self.pause_roles or bool({element_id, name} & self.pause_tasks)


def read_section(data: Mapping[str, Any]) -> tuple[SlaPolicy, SlaOptions]:
    """Split and check a whole ``[sla]`` section; ``ValueError`` names the bad key."""
    if not isinstance(data, Mapping):
        raise ValueError(f"sla: expected a table, got {data!r}")
    check_keys("sla", data, _SECTION_KEYS)
    policy = SlaPolicy.from_dict({k: v for k, v in data.items() if k in ("calendar", "targets")})
    return policy, SlaOptions.from_dict(data)


def _table(data: Mapping[str, Any], key: str, known: set[str]) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected a table, got {value!r}")
    check_keys(key, value, known)
    return value


def _names(table: Mapping[str, Any], where: str, default: set[str] | None = None) -> frozenset[str]:
    value = table.get(where.split(".")[-1])
    if value is None:
        return frozenset(default or ())
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: expected a list of names, got {value!r}")
    return frozenset(value)
