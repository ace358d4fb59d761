"""Per-recipient quiet hours for SLA notices: a user's own setting, else the first of
their groups' defaults (by group name), else the case type's policy calendar.

A breach or warning that falls in a recipient's night is queued for the start of their
day; one marked urgent (an urgent priority or target, ``[sla.notices]``) goes at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine import audit
from engine.errors import InvalidInput, NotFound
from engine.runtime import SlaNotice, UnitOfWork
from engine.sla.quiet import deliver_at, wall_time, zone
from engine.store.models import Group, Membership, User
from engine.store.sla import NoticeHours
from people.directory import group_by_name, user_by_name


def set_hours(
    work: UnitOfWork,
    *,
    user: str | None,
    group: str | None,
    time_zone: str,
    quiet_from: str,
    quiet_to: str,
    actor_id: int | None = None,
) -> None:
    """Set the time zone and quiet hours of one user or one group (its members' default)."""
    if (user is None) == (group is None):
        raise InvalidInput("name a user or a group", {"user": "one of --user and --group"})
    try:
        zone(time_zone)
        wall_time(quiet_from, "from")
        wall_time(quiet_to, "to")
    except ValueError as exc:
        raise InvalidInput("the quiet hours are not valid", {"quiet_hours": str(exc)}) from None
    row = _row(work, user=user, group=group)
    if row is None:
        row = NoticeHours(
            user_id=user_by_name(work, user).id if user else None,
            group_id=group_by_name(work, group).id if group else None,
            time_zone=time_zone,
            quiet_from=quiet_from,
            quiet_to=quiet_to,
        )
        work.session.add(row)
    else:
        row.time_zone, row.quiet_from, row.quiet_to = time_zone, quiet_from, quiet_to
    audit.record(
        work,
        actor_id=actor_id,
        entity="notice_hours",
        entity_id=f"user:{user}" if user else f"group:{group}",
        action="set",
        after={"time_zone": time_zone, "quiet": f"{quiet_from}-{quiet_to}"},
    )


def clear_hours(work: UnitOfWork, *, user: str | None, group: str | None) -> None:
    row = _row(work, user=user, group=group)
    if row is None:
        raise NotFound("no quiet hours are set there")
    work.session.delete(row)


def _row(work: UnitOfWork, *, user: str | None, group: str | None) -> NoticeHours | None:
    if user is not None:
        column, value = NoticeHours.user_id, user_by_name(work, user).id
    elif group is not None:
        column, value = NoticeHours.group_id, group_by_name(work, group).id
    else:
        return None
    return work.session.scalar(select(NoticeHours).where(column == value))


def hours_for(work: UnitOfWork, user: User) -> NoticeHours | None:
    """The user's own setting, else their first group's (by name) that has one."""
    own = work.session.scalar(select(NoticeHours).where(NoticeHours.user_id == user.id))
    if own is not None:
        return own
    return work.session.scalar(
        select(NoticeHours)
        .join(Group, Group.id == NoticeHours.group_id)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id)
        .order_by(Group.name)
        .limit(1)
    )


def send_after(work: UnitOfWork, user: User, notice: SlaNotice) -> datetime:
    """When ``notice`` may reach ``user``: at once when urgent, after their own quiet hours
    when they (or a group of theirs) keep any, else as the policy's calendar says."""
    if notice.urgent:
        return work.now
    hours = hours_for(work, user)
    if hours is None:
        return notice.send_after
    return deliver_at(work.now, hours.time_zone, hours.quiet_from, hours.quiet_to)
