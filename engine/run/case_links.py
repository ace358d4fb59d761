"""Links between cases with a kind (related, duplicate, parent and child, merged), and the
merge pointer mail follows.

A link is stored once per direction, each row saying how *its* case relates to the other
(``duplicate-of`` on one side is ``duplicated-by`` on the other), so a case page lists its
links with one indexed read.  ``merged-into`` / ``merged-from`` are written only by
:mod:`engine.run.case_merge` and never removed: they are how replies to a merged case find
the case it went into.  Trusted engine functions: ``rules.case_acts`` asks who may link.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.access import CaseLink
from engine.store.models import Case

#: each kind a person may choose, and how the other case sees it
KINDS: dict[str, str] = {
    "related": "related",
    "duplicate-of": "duplicated-by",
    "duplicated-by": "duplicate-of",
    "parent-of": "child-of",
    "child-of": "parent-of",
}
MERGED_INTO, MERGED_FROM = "merged-into", "merged-from"
_MERGE_KINDS = (MERGED_INTO, MERGED_FROM)
#: how far a chain of merges is followed (A into B, later B into C, ...)
_CHAIN_LIMIT = 50

_MERGED_INTO = select(CaseLink.other_case_id).where(
    CaseLink.case_id == bindparam("case_id"), CaseLink.kind == MERGED_INTO
)


def merged_into(work: UnitOfWork, case_id: int) -> int | None:
    """The case this one was merged into, if it was."""
    return work.session.scalar(_MERGED_INTO, {"case_id": case_id})


def merge_end(work: UnitOfWork, case_id: int) -> int:
    """Where mail for ``case_id`` belongs: the last case of its chain of merges (itself when
    it was never merged)."""
    seen = {case_id}
    while len(seen) <= _CHAIN_LIMIT:
        after = merged_into(work, case_id)
        if after is None or after in seen:
            return case_id
        seen.add(after)
        case_id = after
    return case_id


def kinds_of(work: UnitOfWork, case_id: int) -> dict[int, str]:
    """Every case linked to ``case_id`` and how ``case_id`` relates to it (unfiltered: the
    caller lists only those the viewer may read)."""
    rows = work.session.execute(
        select(CaseLink.other_case_id, CaseLink.kind).where(CaseLink.case_id == case_id)
    )
    return dict(rows.tuples().all())


def _record(
    work: UnitOfWork, case: Case, action: str, actor_id: int | None, other: Case, kind: str
) -> None:
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action=action,
        after={"case": other.number, "kind": kind},
    )


def write_link(work: UnitOfWork, case: Case, other: Case, kind: str) -> str | None:
    """Store both directions of a link of ``kind`` (as ``case`` sees it); answers the kind
    it replaced (None: the cases were not linked).  Not audited: the caller says why."""
    back = MERGED_FROM if kind == MERGED_INTO else KINDS[kind]
    known = work.session.get(CaseLink, (case.id, other.id))
    if known is None:
        work.session.add_all(
            [
                CaseLink(case_id=case.id, other_case_id=other.id, kind=kind),
                CaseLink(case_id=other.id, other_case_id=case.id, kind=back),
            ]
        )
        work.session.flush()
        return None
    before = known.kind
    for here, there, value in ((case, other, kind), (other, case, back)):
        work.session.execute(
            update(CaseLink)
            .where(CaseLink.case_id == here.id, CaseLink.other_case_id == there.id)
            .values(kind=value)
            .execution_options(synchronize_session=False)
        )
    work.session.expire(known)
    return before


def link(work: UnitOfWork, case: Case, other: Case, kind: str, *, actor_id: int | None) -> bool:
    """Link two cases (or change how they are linked); audited on both.  False when they
    already were linked this way."""
    if kind not in KINDS:
        raise InvalidInput(f"cannot link {case.number}", {"kind": f"one of {', '.join(KINDS)}"})
    if case.id == other.id:
        raise InvalidInput(f"cannot link {case.number}", {"case": "is the same case"})
    current = kinds_of(work, case.id).get(other.id)
    if current == kind:
        return False
    if current in _MERGE_KINDS:
        raise Conflict(f"{case.number} and {other.number} were merged; a merge stays")
    write_link(work, case, other, kind)
    _record(work, case, "linked", actor_id, other, kind)
    _record(work, other, "linked", actor_id, case, KINDS[kind])
    return True


def unlink(work: UnitOfWork, case: Case, other: Case, *, actor_id: int | None) -> str:
    """Remove the link between two cases, audited on both; answers the kind it was."""
    kind = kinds_of(work, case.id).get(other.id)
    if kind is None:
        raise NotFound(f"{case.number} is not linked to {other.number}")
    if kind in _MERGE_KINDS:
        raise Conflict(f"{case.number} and {other.number} were merged; a merge stays")
    work.session.execute(
        delete(CaseLink).where(
            ((CaseLink.case_id == case.id) & (CaseLink.other_case_id == other.id))
            | ((CaseLink.case_id == other.id) & (CaseLink.other_case_id == case.id))
        )
    )
    _record(work, case, "unlinked", actor_id, other, kind)
    _record(work, other, "unlinked", actor_id, case, KINDS[kind])
    return kind
