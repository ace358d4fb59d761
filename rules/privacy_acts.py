"""Who may purge closed cases, erase a person or export their data: administrators.

Each act reaches across every case type and every customer, and erasure and purging
cannot be undone: that is administration.  The operator at the command line (no
``--as``) is trusted, as for every other command; a user named with ``--as`` or signed in
on the web must be an administrator.  Every act but the export and the dry runs is
audited by the function it calls.
"""

from __future__ import annotations

from typing import Any

from engine import audit
from engine.errors import Forbidden
from engine.run import retention
from engine.runtime import UnitOfWork
from people import privacy

from .subject import Subject

#: What may be done, and how a refusal names it.
ACTIONS = {"purge": "purge closed cases", "erase": "erase a person", "export": "export a person"}


def require_privacy_admin(subject: Subject | None, action: str) -> None:
    """Refuse ``action`` to anyone but an administrator (or the operator)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown privacy action {action!r}")
    if subject is None or subject.is_admin:
        return
    raise Forbidden(f"only administrators may {ACTIONS[action]}")


def purge_due(work: UnitOfWork, subject: Subject | None) -> list[dict[str, Any]]:
    """What a purge would delete now, per case type with a retention period."""
    require_privacy_admin(subject, "purge")
    return [
        {"case_type": d.case_type, "closed_days": d.period.days, "cases": d.cases}
        for d in retention.due(work)
    ]


def purge_batch(work: UnitOfWork, subject: Subject | None) -> dict[str, int]:
    """Delete one batch of expired closed cases; how many per case type (empty: done)."""
    require_privacy_admin(subject, "purge")
    return retention.purge_batch(work, actor_id=subject.user_id if subject else None)


def erase_person(
    work: UnitOfWork, subject: Subject | None, ref: str, *, dry_run: bool = False
) -> dict[str, Any]:
    """Erase the person an email address or contact id names (or count what would change)."""
    require_privacy_admin(subject, "erase")
    person = privacy.find_person(work, ref)
    return privacy.erase(
        work, person, actor_id=subject.user_id if subject else None, dry_run=dry_run
    )


def export_person(work: UnitOfWork, subject: Subject | None, ref: str) -> dict[str, Any]:
    """Everything stored about the person an email address or contact id names."""
    require_privacy_admin(subject, "export")
    person = privacy.find_person(work, ref)
    audit.record(  # who looked at everything about a person is itself worth knowing
        work,
        actor_id=subject.user_id if subject else None,
        entity="person",
        entity_id=",".join(str(i) for i in person.contact_ids) or "-",
        action="exported",
        after={"contacts": person.contact_ids, "users": person.user_ids},
    )
    return privacy.export(work, person)
