"""SLA clocks of cases: policy versions, pauses, answers, and the timer rows they imply.

One mechanism serves every change.  A case's clock history (``sla_events``) is replayed
under the policy version the case runs on, and the case's waiting SLA timer rows are
rewritten to the thresholds still ahead (:func:`rearm`).  Opening a case, an agent's
answer, waiting on the customer and resuming, and a migration to another policy version
or calendar (``engine.sla.versions``) each append events or switch the policy, then
re-arm.  A threshold that already fired in a cycle is never written again, so each
(case, target, threshold, cycle) fires once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from engine import audit
from engine.errors import NotFound
from engine.runtime import CaseInfo, LoadedPolicy, SlaNotice, UnitOfWork
from engine.sla import (
    ClockEvent,
    TargetStatus,
    due_moments,
    evaluate,
    paused,
    started,
)
from engine.store.fast import Prepared, prepared_insert
from engine.store.models import TIMER_IS_WAITING, Case, HumanTask, Timer
from engine.store.sla import CaseSla, SlaEvent, SlaPolicyVersion

from . import facts

#: (role, BPMN id, name) of an open human task
OpenTask = tuple[str | None, str, str]
_STATE = Prepared(
    select(CaseSla.policy_id, CaseSla.waiting_on_customer, CaseSla.paused).where(
        CaseSla.case_id == bindparam("b_case_id")
    )
)
_INSERT_EVENT = prepared_insert(SlaEvent.__table__, ["case_id", "kind", "target", "at"])
_INSERT_STATE = prepared_insert(
    CaseSla.__table__, ["case_id", "policy_id", "waiting_on_customer", "paused"]
)
_INSERT_TIMER = prepared_insert(
    Timer.__table__,
    ["case_id", "source", "name", "threshold", "cycle", "due_at", "state", "attempts"],
)
_HALT = Prepared(  # a waiting row of a met target was settled when it was met
    update(Timer.__table__)
    .where(
        Timer.__table__.c.case_id == bindparam("b_case_id"),
        Timer.__table__.c.source == "sla",
        Timer.__table__.c.state == "waiting",
    )
    .values(state="cancelled", fired_at=bindparam("now"))
)
_OPEN_TASKS = Prepared(
    select(HumanTask.role, HumanTask.element_id, HumanTask.name).where(
        HumanTask.case_id == bindparam("case_id"), HumanTask.state == "open"
    )
)
_SET_PAUSED = Prepared(
    update(CaseSla.__table__)
    .where(CaseSla.__table__.c.case_id == bindparam("b_case_id"))
    .values(paused=bindparam("paused"))
)
_CURRENT_POLICY = Prepared(
    select(SlaPolicyVersion.id, SlaPolicyVersion.content_hash)
    .where(SlaPolicyVersion.case_type_id == bindparam("case_type_id"))
    .order_by(SlaPolicyVersion.number.desc())
    .limit(1)
)


# --- policy versions ---------------------------------------------------------------------


#: the content hash of the policy "none" (no targets; ``engine.sla.versions``)
NONE_HASH = hashlib.sha256(b"{}").hexdigest()


def content_hash(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()


def current_policy_id(work: UnitOfWork, case_type_id: int) -> int | None:
    """The newest policy version of a case type; ``None`` without one or when it is "none"."""
    row = _CURRENT_POLICY.first(work.session, {"case_type_id": case_type_id})
    return row[0] if row and row[1] != NONE_HASH else None


# --- events ------------------------------------------------------------------------------


def arm(work: UnitOfWork, case: CaseInfo, open_tasks: Iterable[OpenTask]) -> None:
    """Start the clocks of a new case on its type's current policy (no policy: no clocks).

    A new case has no history and no timer rows yet, so they are written directly --
    this runs for every case opened, by hand or by mail.
    """
    policy_id = current_policy_id(work, case.case_type_id)
    if policy_id is None:
        return
    loaded = work.runtime.sla_policy(work.session, policy_id)
    is_paused = any(
        loaded.options.pauses_for(role=role, element_id=element_id, name=name)
        for role, element_id, name in open_tasks
    )
    _INSERT_STATE.execute(
        work.session,
        {
            "case_id": case.id,
            "policy_id": policy_id,
            "waiting_on_customer": False,
            "paused": is_paused,
        },
    )
    events = [started(work.now), *([paused(work.now)] if is_paused else [])]
    _INSERT_EVENT.execute_many(
        work.session,
        [{"case_id": case.id, "kind": e.kind, "target": None, "at": e.at} for e in events],
    )
    moments = due_moments(loaded.policy, events, work.now)
    if moments:
        _INSERT_TIMER.execute_many(
            work.session,
            [_timer_row(case.id, m.target, m.threshold, 0, m.due_at) for m in moments],
        )


def _timer_row(
    case_id: int, name: str, threshold: float, cycle: int, due_at: datetime
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "source": "sla",
        "name": name,
        "threshold": threshold,
        "cycle": cycle,
        "due_at": due_at,
        "state": "waiting",
        "attempts": 0,
    }


def responded(work: UnitOfWork, case_id: int) -> None:
    """An agent answered the customer: first response is met and the next-update clock
    starts a new cycle.  Each target is its own clock; resetting one never moves another."""
    facts.responded(work, case_id)
    state = work.session.get(CaseSla, case_id)
    if state is None:
        return
    policy = work.runtime.sla_policy(work.session, state.policy_id).policy
    names = {t.name for t in policy.targets}
    past = history(work, case_id)
    already_met = any(e.kind == "met" and e.target == "first_response" for e in past)
    new = []
    if "first_response" in names and not already_met:
        new.append(ClockEvent("met", work.now, "first_response"))
    if "next_update" in names:
        new.append(ClockEvent("reset", work.now, "next_update"))
    if not new:
        return
    _INSERT_EVENT.execute_many(
        work.session,
        [{"case_id": case_id, "kind": e.kind, "target": e.target, "at": e.at} for e in new],
    )
    rearm(work, case_id, state.policy_id, [*past, *new])  # the history, read once


def set_waiting(work: UnitOfWork, case_id: int, waiting: bool, *, actor_id: int | None) -> bool:
    """Set or clear "waiting on the customer"; True when that changed anything."""
    state = work.session.get(CaseSla, case_id)
    if state is None:
        raise NotFound("the case has no SLA targets to pause")
    if state.waiting_on_customer == waiting:
        return False
    state.waiting_on_customer = waiting
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=str(case_id),
        case_id=case_id,
        action="waiting_on_customer" if waiting else "customer_answered",
        after={"waiting_on_customer": waiting},
    )
    sync_pause(work, case_id)
    return True


def customer_answered(work: UnitOfWork, case_id: int, *, actor_id: int | None) -> None:
    """The customer wrote: a wait on the customer ends (no-op when none is set)."""
    state = work.session.get(CaseSla, case_id)
    if state is not None and state.waiting_on_customer:
        set_waiting(work, case_id, False, actor_id=actor_id)


def sync_pause(
    work: UnitOfWork,
    case_id: int,
    open_tasks: Iterable[OpenTask] | None = None,
    *,
    force: bool = False,
) -> None:
    """Pause or resume the clocks when "waiting on the customer" changed: the manual flag,
    or an open task of a pausing role or task.  Called after every save of a case, with
    the tasks open now (``None``: read them), so it costs one indexed read when nothing
    changed."""
    row = _STATE.first(work.session, {"b_case_id": case_id})
    if row is None:
        return
    policy_id, waiting, was_paused = row[0], bool(row[1]), bool(row[2])
    options = work.runtime.sla_policy(work.session, policy_id).options
    if open_tasks is None:
        open_tasks = _OPEN_TASKS.rows(work.session, {"case_id": case_id})
    is_paused = waiting or any(
        options.pauses_for(role=role, element_id=element_id, name=name)
        for role, element_id, name in open_tasks
    )
    if is_paused != was_paused:
        _SET_PAUSED.execute(work.session, {"b_case_id": case_id, "paused": is_paused})
        _INSERT_EVENT.execute(
            work.session,
            {
                "case_id": case_id,
                "kind": "paused" if is_paused else "resumed",
                "target": None,
                "at": work.now,
            },
        )
    elif not force:
        return
    if is_paused:  # paused clocks have no threshold ahead: no history to replay
        _HALT.execute(work.session, {"b_case_id": case_id, "now": work.now})
    else:
        rearm(work, case_id, policy_id)


# --- timer rows --------------------------------------------------------------------------


def history(work: UnitOfWork, case_id: int) -> list[ClockEvent]:
    rows = work.session.execute(
        select(SlaEvent.kind, SlaEvent.at, SlaEvent.target)
        .where(SlaEvent.case_id == case_id)
        .order_by(SlaEvent.id)
    )
    return [ClockEvent(kind, at, target) for kind, at, target in rows]


def rearm(
    work: UnitOfWork, case_id: int, policy_id: int, events: list[ClockEvent] | None = None
) -> None:
    """Rewrite the case's SLA timer rows to the thresholds still ahead of it under the
    policy version ``policy_id``.  ``events``: the whole history when the caller has it
    already (else it is read)."""
    policy = work.runtime.sla_policy(work.session, policy_id).policy
    if events is None:
        events = history(work, case_id)
    cycles = Counter(e.target for e in events if e.kind == "reset")
    ahead = {
        (m.target, m.threshold, cycles[m.target]): m.due_at
        for m in due_moments(policy, events, work.now)
    }
    met = {name for name, s in evaluate(policy, events, work.now).items() if s.state == "met"}
    rows = {
        (t.name, t.threshold, t.cycle): t
        for t in work.session.scalars(
            select(Timer).where(Timer.case_id == case_id, Timer.source == "sla")
        )
    }
    for key, row in rows.items():
        if row.state in ("fired", "met"):
            continue  # settled for good: a threshold fires once per cycle
        if key in ahead:
            row.due_at, row.state = ahead[key], "waiting"
        elif row.state == "waiting":
            row.state = "met" if row.name in met else "cancelled"
            row.fired_at = work.now
    work.session.flush()
    new = [_timer_row(case_id, *key, due_at) for key, due_at in ahead.items() if key not in rows]
    if new:
        _INSERT_TIMER.execute_many(work.session, new)


# --- firing ------------------------------------------------------------------------------


def claim_next(work: UnitOfWork, passed: Collection[int] = ()) -> int | None:
    """The earliest due SLA timer row no other worker holds (nor one in ``passed``), locked
    for this transaction on PostgreSQL (``FOR UPDATE SKIP LOCKED``); :func:`fire` then
    flips it.  Workers firing at once each take the next free row instead of queueing
    behind the same one."""
    return work.session.scalar(
        select(Timer.id)
        .where(
            TIMER_IS_WAITING,
            Timer.source == "sla",
            Timer.due_at <= work.now,
            Timer.id.not_in(passed),
        )
        .order_by(Timer.due_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def fire(work: UnitOfWork, timer_id: int) -> SlaNotice | None:
    """Fire one SLA threshold exactly once: only the transaction that flips the row acts."""
    flipped = work.session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.state == "waiting")
        .values(state="fired", fired_at=work.now)
        .returning(Timer.case_id, Timer.name, Timer.threshold, Timer.due_at, Timer.cycle)
    ).first()
    if flipped is None:
        return None
    case_id, target, threshold, due_at, cycle = flipped
    if work.session.get(CaseSla, case_id) is None:
        return None
    return notify(work, case_id, target, threshold=threshold, due_at=due_at, cycle=cycle)


def notify(
    work: UnitOfWork,
    case_id: int,
    target: str,
    *,
    threshold: float,
    due_at: datetime,
    cycle: int,
) -> SlaNotice | None:
    """Hand a reached threshold to the notice hook, the one path every SLA notice takes
    (TOML targets and BPMN timers marked as SLAs alike).  Quiet hours and the time zone
    come from the case's SLA policy; a case without one is told in UTC, at once."""
    case = work.session.execute(
        select(Case.status, Case.version_id, Case.priority).where(Case.id == case_id)
    ).first()
    if case is None or case.status != "open":
        return None
    state = work.session.get(CaseSla, case_id)
    time_zone, send_after, urgent = "UTC", work.now, False
    if state is not None:
        loaded = work.runtime.sla_policy(work.session, state.policy_id)
        calendar, options = loaded.policy.calendar, loaded.options
        urgent = case.priority in options.urgent_priorities or target in options.urgent_targets
        time_zone = calendar.zone.key
        if options.quiet_hours and not urgent:
            send_after = calendar.next_open(work.now)
    notice = SlaNotice(
        target=target,
        threshold=threshold,
        due_at=due_at,
        cycle=cycle,
        time_zone=time_zone,
        send_after=send_after,
        urgent=urgent,
    )
    version = work.runtime.version(work.session, case.version_id)
    work.runtime.hooks.sla_due(work, CaseInfo(case_id, version), notice)
    return notice


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseClocks:
    """What ``sla show`` reports: the policy version, each target, the pauses."""

    policy_number: int
    paused: bool
    waiting_on_customer: bool
    targets: list[TargetStatus]
    pauses: list[tuple[datetime, datetime | None]]


def clocks(work: UnitOfWork, case_id: int) -> CaseClocks | None:
    state = work.session.get(CaseSla, case_id)
    if state is None:
        return None
    loaded: LoadedPolicy = work.runtime.sla_policy(work.session, state.policy_id)
    events = history(work, case_id)
    pauses: list[tuple[datetime, datetime | None]] = []
    for event in events:
        if event.kind == "paused":
            pauses.append((event.at, None))
        elif event.kind == "resumed" and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], event.at)
    return CaseClocks(
        policy_number=loaded.number,
        paused=state.paused,
        waiting_on_customer=state.waiting_on_customer,
        targets=list(evaluate(loaded.policy, events, work.now).values()),
        pauses=pauses,
    )
