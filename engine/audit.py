"""The append-only audit log: who changed what, when, from what to what."""

from __future__ import annotations

from typing import Any

from .runtime import UnitOfWork


def record(
    work: UnitOfWork,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: str | int,
    action: str,
    case_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry to the current transaction (it commits or rolls back with the change)."""
    work.audit_rows.append(
        {
            "at": work.now,
            "actor_id": actor_id,
            "case_id": case_id,
            "entity": entity,
            "entity_id": str(entity_id),
            "action": action,
            "before": before,
            "after": after,
        }
    )
