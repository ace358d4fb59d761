"""The daily SLA digest: one mail per manager with the cases breached in the last day and
those due to breach in the next, through the same outbox and templates as every notice.

A case type opts in with ``[sla.notices] digest_groups``; their members get it, listing
only the cases the decision lets them see.  ``run.py sla digest`` queues it (run it daily,
from cron); a second run the same day queues nothing (one dedupe key per person and day).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.runtime import UnitOfWork
from engine.sla import clocks as sla_clocks
from engine.store.models import TIMER_IS_WAITING, Case, CaseType, Group, Membership, Timer, User
from mail.outbox import queue_notice
from mail.render import TARGET_NAMES, format_due
from mail.settings import MailSettings
from rules.checks import can
from rules.subject import load_subject

DAY = timedelta(days=1)


def _subscribers(work: UnitOfWork) -> dict[int, list[int]]:
    """User id -> the case types whose digest they get."""
    found: dict[int, list[int]] = defaultdict(list)
    for type_id in work.session.scalars(select(CaseType.id).order_by(CaseType.id)):
        policy_id = sla_clocks.current_policy_id(work, type_id)
        if policy_id is None:
            continue
        groups = work.runtime.sla_policy(work.session, policy_id).options.digest_groups
        if not groups:
            continue
        for user_id in work.session.scalars(
            select(Membership.user_id)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.name.in_(sorted(groups)))
            .distinct()
        ):
            found[user_id].append(type_id)
    return found


def _line(case: Case, timer: Timer, base_url: str, zone: str) -> dict[str, Any]:
    return {
        "case_number": case.number,
        "case_subject": case.subject,
        "case_url": f"{base_url}/cases/{case.number}",
        "target_name": TARGET_NAMES.get(timer.name, timer.name.replace("_", " ")),
        "due_local": format_due(timer.due_at, zone),
    }


def queue_digests(work: UnitOfWork, mail: MailSettings) -> int:
    """Queue today's digest for every subscriber with something to report; answers how
    many were queued (none twice a day)."""
    breach = (Timer.source == "sla", Timer.threshold >= 1.0)
    queued = 0
    for user_id, type_ids in _subscribers(work).items():
        user = work.session.get(User, user_id)
        if user is None or not user.is_active or not user.email:
            continue
        subject = load_subject(work, user)
        lists: dict[str, list[dict[str, Any]]] = {"breached": [], "at_risk": []}
        for key, condition in (
            ("breached", (Timer.state == "fired", Timer.fired_at > work.now - DAY)),
            ("at_risk", (TIMER_IS_WAITING, Timer.due_at <= work.now + DAY)),
        ):
            rows = work.session.execute(
                select(Case, Timer)
                .join(Timer, Timer.case_id == Case.id)
                .where(Case.case_type_id.in_(type_ids), *breach, *condition)
                .order_by(Timer.due_at)
            ).all()
            for case, timer in rows:
                if can(work, subject, "summary", case):
                    lists[key].append(_line(case, timer, mail.base_url, "UTC"))
        if not lists["breached"] and not lists["at_risk"]:
            continue
        day = work.now.date().isoformat()
        message = queue_notice(
            work.session,
            case_id=None,
            kind="digest",
            recipients=[user.email],
            sender=mail.sender,
            context={"day": day, **lists},
            domain=mail.domain,
            dedupe_key=f"digest:{day}:to={user.email}",
            now=work.now,
            token=f"digest{user.id:08d}",
        )
        queued += message is not None
    return queued
