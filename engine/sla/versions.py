"""SLA policy versions of a case type: storing them, moving open cases between them, and
changing the calendar under open clocks.

- A new version (``run.py sla policy``, or a deploy whose ``[sla]`` changed) serves the
  cases opened from then on.  Open cases keep the version they started with until they
  are migrated (:func:`migrate`): their targets do not change under them by surprise.
- The policy "none" is a version too (an empty definition): cases opened under it have
  no clocks; migrating open cases to it stops theirs.
- A calendar is the shared part: :func:`change_calendar` gives every version in use by
  open cases (and the newest) a successor with the new calendar and moves those cases
  onto it, so a holiday added today moves the due times of every open clock.

Both moves can be dry runs: the same computation -- each open case's breach times under
the policy it runs on and under the one it would move to -- answers which cases move and
by how much, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from engine import audit
from engine.errors import InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.models import TIMER_IS_WAITING, Case, Timer
from engine.store.sla import CaseSla, SlaEvent, SlaPolicyVersion

from . import clocks
from .events import ClockEvent, started
from .options import read_section
from .targets import BREACH, SlaPolicy, due_moments


@dataclass(frozen=True)
class Move:
    """One target of one open case whose breach time changes (``None``: no clock)."""

    case: str
    target: str
    due_before: datetime | None
    due_after: datetime | None


def _newest(work: UnitOfWork, case_type_id: int) -> SlaPolicyVersion | None:
    return work.session.scalar(
        select(SlaPolicyVersion)
        .where(SlaPolicyVersion.case_type_id == case_type_id)
        .order_by(SlaPolicyVersion.number.desc())
        .limit(1)
    )


def _check(definition: Mapping[str, Any]) -> SlaPolicy | None:
    if not definition:
        return None
    try:
        return read_section(definition)[0]
    except ValueError as exc:
        raise InvalidInput("the SLA policy is not valid", {"sla": str(exc)}) from None


def store(
    work: UnitOfWork, case_type_id: int, definition: dict[str, Any], *, actor_id: int | None
) -> tuple[int | None, bool]:
    """Store ``definition`` (``{}``: "none") as the type's newest version unless it already
    is; answers (version number, whether it is new).  Open cases keep their versions.  A
    type that never had a policy gets no "none" version (it has none already)."""
    newest = _newest(work, case_type_id)
    digest = clocks.content_hash(definition)
    if newest is None and not definition:
        return None, False
    if newest is not None and newest.content_hash == digest:
        return newest.number, False
    _check(definition)
    version = SlaPolicyVersion(
        case_type_id=case_type_id,
        number=(newest.number if newest else 0) + 1,
        content_hash=digest,
        definition=definition,
        created_at=work.now,
    )
    work.session.add(version)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="sla_policy",
        entity_id=str(case_type_id),
        action="changed",
        before={"version": newest.number} if newest else None,
        after={"version": version.number, "none": not definition},
    )
    return version.number, True


def _breaches(policy: SlaPolicy | None, events: list[ClockEvent], now: datetime) -> dict:
    if policy is None or not events:
        return {}
    return {m.target: m.due_at for m in due_moments(policy, events, now) if m.threshold == BREACH}


def _open_cases(work: UnitOfWork, case_type_id: int) -> list[Any]:
    return list(
        work.session.execute(
            select(Case.id, Case.number, Case.created_at, CaseSla.policy_id)
            .outerjoin(CaseSla, CaseSla.case_id == Case.id)
            .where(Case.case_type_id == case_type_id, Case.status == "open")
            .order_by(Case.id)
        )
    )


def _moves(
    work: UnitOfWork,
    number: str,
    events: list[ClockEvent],
    before: SlaPolicy | None,
    after: SlaPolicy | None,
) -> list[Move]:
    old, new = _breaches(before, events, work.now), _breaches(after, events, work.now)
    return [
        Move(number, name, old.get(name), new.get(name))
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def _move(work: UnitOfWork, case_id: int, created_at: datetime, to: SlaPolicyVersion) -> None:
    """Put one open case on version ``to`` and re-arm its timers ("none": stop them)."""
    state = work.session.get(CaseSla, case_id)
    if to.content_hash == clocks.NONE_HASH:
        if state is not None:
            work.session.delete(state)
            work.session.execute(
                update(Timer)
                .where(Timer.case_id == case_id, Timer.source == "sla", TIMER_IS_WAITING)
                .values(state="cancelled", fired_at=work.now)
            )
        return
    if state is None:  # opened under "none": its clocks start from its opening
        work.session.add(CaseSla(case_id=case_id, policy_id=to.id))
        work.session.add(SlaEvent(case_id=case_id, kind="started", target=None, at=created_at))
    else:
        state.policy_id = to.id
    work.session.flush()
    clocks.sync_pause(work, case_id, force=True)


def _policy_of(work: UnitOfWork, version: SlaPolicyVersion) -> SlaPolicy | None:
    if version.content_hash == clocks.NONE_HASH:
        return None
    return work.runtime.sla_policy(work.session, version.id).policy


def migrate(
    work: UnitOfWork, case_type_id: int, *, dry_run: bool, actor_id: int | None
) -> tuple[int, list[Move]]:
    """Move the type's open cases onto its newest version; (cases moved, changed due times)."""
    newest = _newest(work, case_type_id)
    if newest is None:
        raise NotFound("the case type has no SLA policy versions")
    target_policy = _policy_of(work, newest)
    moved, moves = 0, []
    for case_id, number, created_at, policy_id in _open_cases(work, case_type_id):
        if policy_id == newest.id or (policy_id is None and target_policy is None):
            continue
        events = clocks.history(work, case_id) if policy_id else [started(created_at)]
        current = work.runtime.sla_policy(work.session, policy_id).policy if policy_id else None
        moves += _moves(work, number, events, current, target_policy)
        moved += 1
        if not dry_run:
            _move(work, case_id, created_at, newest)
    if not dry_run:
        audit.record(
            work,
            actor_id=actor_id,
            entity="sla_policy",
            entity_id=str(case_type_id),
            action="migrated",
            after={"version": newest.number, "open_cases_moved": moved},
        )
    return moved, moves


def change_calendar(
    work: UnitOfWork,
    case_type_id: int,
    calendar: dict[str, Any],
    *,
    dry_run: bool,
    actor_id: int | None,
) -> tuple[int, list[Move]]:
    """Give the versions in use (and the newest) the calendar ``calendar``; open cases move
    onto the successors of their versions.  Answers (cases moved, changed due times)."""
    newest = _newest(work, case_type_id)
    if newest is None or newest.content_hash == clocks.NONE_HASH:
        raise NotFound("the case type's current SLA policy has no calendar to change")
    cases = _open_cases(work, case_type_id)
    in_use = {p for *_, p in cases if p is not None} | {newest.id}
    successors: dict[int, tuple[SlaPolicy, dict[str, Any]]] = {}
    for version_id in sorted(in_use, key=lambda i: (i == newest.id, i)):  # newest last
        row = work.session.get(SlaPolicyVersion, version_id)
        assert row is not None
        definition = {**row.definition, "calendar": calendar}
        policy = _check(definition)
        assert policy is not None
        successors[version_id] = (policy, definition)
    moved, moves = 0, []
    for case_id, number, _, policy_id in cases:
        if policy_id is None:
            continue
        events = clocks.history(work, case_id)
        current = work.runtime.sla_policy(work.session, policy_id).policy
        found = _moves(work, number, events, current, successors[policy_id][0])
        moves += found
        moved += bool(found)
    if dry_run:
        return moved, moves
    stored: dict[int, SlaPolicyVersion] = {}
    for version_id, (_, definition) in successors.items():
        number = (work.session.scalar(
            select(func.max(SlaPolicyVersion.number)).where(
                SlaPolicyVersion.case_type_id == case_type_id
            )
        ) or 0) + 1  # fmt: skip
        row = SlaPolicyVersion(
            case_type_id=case_type_id,
            number=number,
            content_hash=clocks.content_hash(definition),
            definition=definition,
            created_at=work.now,
        )
        work.session.add(row)
        work.session.flush()
        stored[version_id] = row
    for case_id, _, created_at, policy_id in cases:
        if policy_id is not None:
            _move(work, case_id, created_at, stored[policy_id])
    audit.record(
        work,
        actor_id=actor_id,
        entity="sla_policy",
        entity_id=str(case_type_id),
        action="calendar_changed",
        after={"open_cases_moved": moved, "versions": sorted(r.number for r in stored.values())},
    )
    return moved, moves
