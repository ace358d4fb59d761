"""Breach notices for BPMN timers marked as SLAs (``engine.definitions.sla_timers``).

A timer row of such an event that settles as fired is a breach: it is told through
``engine.sla.clocks.notify``, the path TOML targets take, so the notice, its template,
its quiet hours, its recipients and its once-only outbox key are the same.
"""

from __future__ import annotations

from datetime import datetime

from engine.runtime import LoadedVersion, UnitOfWork
from engine.sla import clocks as sla_clocks

#: (timer row name ``<BPMN id>:<engine task id>``, cycle, due time) of a fired BPMN timer
FiredTimer = tuple[str, int, datetime]


def breached(
    work: UnitOfWork, case_id: int, version: LoadedVersion, fired: list[FiredTimer]
) -> None:
    """Send the breach notice of every fired timer the version marks as an SLA."""
    for name, cycle, due_at in fired:
        target = version.sla_timers.get(name.split(":", 1)[0])
        if target is not None:
            sla_clocks.notify(work, case_id, target, threshold=1.0, due_at=due_at, cycle=cycle)
