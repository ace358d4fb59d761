"""Merging a duplicate case into another (as Zammad merges tickets).

The source's stream moves to the target, its contacts, collaborators and followers join the
target, its open tasks are cancelled and its service-level timers stop as it closes with the
outcome ``merged into C-...``; a ``merged-into`` link points at the target, which is where
mail replies to the source then land (:func:`engine.run.case_links.merge_end`).  A merge is
not undone: the source cannot be reopened or unlinked.  Trusted engine function:
``rules.case_acts.merge_case`` asks who may merge.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, select, update

from engine import audit
from engine.errors import Conflict, InvalidInput
from engine.run import case_edits, cases, workflows
from engine.run.case_links import MERGED_INTO, merged_into, write_link
from engine.runtime import UnitOfWork
from engine.store.access import CaseCollaborator, CaseFollower
from engine.store.models import Case, CaseContact, StreamPost, User

_CLOSED = "closed"


def _refuse(work: UnitOfWork, source: Case, target: Case) -> None:
    """Why this merge cannot happen, if it cannot."""
    if source.id == target.id:
        raise InvalidInput(f"cannot merge {source.number}", {"into": "is the same case"})
    before = merged_into(work, source.id)
    if before is not None:
        went = work.session.get(Case, before)
        raise Conflict(f"{source.number} was already merged into {went.number if went else '?'}")
    after = merged_into(work, target.id)
    if after == source.id:
        raise Conflict(
            f"{target.number} was merged into {source.number}; merging back would make a cycle"
        )
    if after is not None:
        went = work.session.get(Case, after)
        raise Conflict(
            f"{target.number} was merged into {went.number if went else '?'}; merge into that case"
        )
    if target.status == _CLOSED:
        raise Conflict(f"{target.number} is closed; merge into an open case (or reopen it)")
    if source.status == _CLOSED:
        raise Conflict(f"{source.number} is closed; reopen it before merging it")


def _move_posts(work: UnitOfWork, source: Case, target: Case) -> int:
    result = work.session.execute(
        update(StreamPost)
        .where(StreamPost.case_id == source.id)
        .values(case_id=target.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount if isinstance(result, CursorResult) else 0


def _join_contacts(work: UnitOfWork, source: Case, target: Case, actor_id: int | None) -> int:
    """The source's main and additional contacts become contacts of the target (their mail
    then threads there); they stay on the source too."""
    ids = list(
        work.session.scalars(select(CaseContact.contact_id).where(CaseContact.case_id == source.id))
    )
    if source.main_contact_id is not None:
        ids.insert(0, source.main_contact_id)
    return sum(cases.add_case_contact(work, target, i, actor_id=actor_id) for i in ids)


def _join_people(work: UnitOfWork, source: Case, target: Case, actor_id: int | None) -> list[str]:
    """Collaborators of the source collaborate on the target (where their roles' level for
    its type is not "no", as for every collaborator); its followers follow the target."""
    added = []
    collaborators = work.session.scalars(
        select(User)
        .join(CaseCollaborator, CaseCollaborator.user_id == User.id)
        .where(CaseCollaborator.case_id == source.id)
    )
    for user in collaborators:
        if case_edits.add_collaborator(work, target, user, actor_id=actor_id, audited=False):
            added.append(user.username)
    following = set(
        work.session.scalars(select(CaseFollower.user_id).where(CaseFollower.case_id == target.id))
    )
    for user_id in work.session.scalars(
        select(CaseFollower.user_id).where(CaseFollower.case_id == source.id)
    ):
        if user_id not in following:
            work.session.add(CaseFollower(case_id=target.id, user_id=user_id))
    work.session.flush()
    return sorted(added)


def merge(work: UnitOfWork, source: Case, target: Case, *, actor_id: int | None) -> dict[str, Any]:
    """Merge ``source`` into ``target``; answers what moved (audited on both cases)."""
    _refuse(work, source, target)
    tasks = cases.open_task_count(work, source.id)
    moved: dict[str, Any] = {
        "posts": _move_posts(work, source, target),
        "contacts": _join_contacts(work, source, target, actor_id),
        "collaborators": _join_people(work, source, target, actor_id),
        "tasks_cancelled": tasks,
    }
    write_link(work, source, target, MERGED_INTO)
    outcome = f"merged into {target.number}"
    live = workflows.load(work, workflows.CaseRef.of(source))
    live.workflow.cancel()  # its open tasks are withdrawn; closing below stops its timers
    for case, action, after in (
        (source, "merged", {"into": target.number, "outcome": outcome, **moved}),
        (target, "merged_from", {"case": source.number, **moved}),
    ):
        audit.record(
            work,
            actor_id=actor_id,
            entity="case",
            entity_id=case.number or case.id,
            case_id=case.id,
            action=action,
            before={"status": case.status} if case is source else None,
            after=after,
        )
    workflows.save(
        work,
        live,
        actor_id=actor_id,
        extra={"status": _CLOSED, "closed_at": work.now, "outcome": outcome},
    )
    work.session.refresh(source)
    return moved
