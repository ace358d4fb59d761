"""Who may read the SLA report, and over which case types.

The report aggregates cases, so it is decided per case type rather than per case: an
agent sees the types their permissions or roles let them read (administrators every
type); customers are refused, as on every agent page.  A case type asked for by name
that the user may not read is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.errors import Forbidden, NotFound
from engine.runtime import UnitOfWork
from engine.store.models import CaseType

from .subject import ALL, Subject


def report_types(
    work: UnitOfWork, subject: Subject | None, case_type: str | None = None
) -> frozenset[int] | None:
    """Case-type ids the report may cover (``None``: every type).  ``subject`` ``None`` is
    the operator on the command line, trusted like ``sla show`` without ``--as``."""
    if subject is not None and subject.portal is not None:
        raise Forbidden("SLA reports are for agents")
    everything = subject is None or subject.is_admin or subject.readable_types == ALL
    if case_type is None:
        if everything:
            return None
        assert subject is not None
        return frozenset(t for t in subject.readable_types if not subject.denies_type(t))
    type_id = work.session.scalar(select(CaseType.id).where(CaseType.key == case_type))
    if type_id is None or not (everything or (subject is not None and subject.reads_type(type_id))):
        raise NotFound(f"no case type '{case_type}'")
    return frozenset({type_id})
