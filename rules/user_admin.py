"""Administering users: what an administrator may do to them, and the nonsense refused.

Every act here is for administrators only (``Forbidden`` otherwise); the operator at the
command line (no ``--as``, ``subject`` None) is trusted, as for every other command, and is
refused the same nonsense.  Refused, with the
problem named at the form field it belongs to (``InvalidInput``):

* a customer (a portal user or a contact's login) joining an *agent group* - one that gives
  access to cases or work (``rules.provider_users.agent_groups``): customers would read
  every case of the group's case types;
* deactivating the last active administrator (yourself, usually): nobody could administer
  Casework any more;
* an agent's login (an administrator, or a member of an agent group) becoming a customer's
  contact: the same mix from the other side.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select

from engine import audit
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.models import Case, Contact, Group, HumanTask, User
from people import directory, user_access

from .provider_users import agent_groups, is_customer
from .subject import Subject

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def require_admin(subject: Subject | None) -> None:
    """Refuse anyone but an administrator (or the operator, ``None``)."""
    if subject is not None and not subject.is_admin:
        raise Forbidden(f"{subject.username} is not an administrator")


def _actor(subject: Subject | None) -> int | None:
    return subject.user_id if subject is not None else None


def join_group(
    work: UnitOfWork, subject: Subject | None, *, username: str, group: str, role: str | None = None
) -> None:
    """Put a user in a group, unless the user is a customer and the group an agent group;
    ``role``: ``member`` or ``lead`` (also of an existing membership)."""
    require_admin(subject)
    user = directory.user_by_name(work, username)
    grp = directory.group_by_name(work, group)
    if not user.is_admin and is_customer(work, user.id) and agent_groups(work, [grp]):
        raise InvalidInput(
            "the member was not added",
            {
                "group": f"{username} is a customer and may not join {group}, "
                "which gives access to cases or work"
            },
        )
    directory.add_member(work, username=username, group=group, actor_id=_actor(subject), role=role)


def leave_group(work: UnitOfWork, subject: Subject | None, *, username: str, group: str) -> None:
    require_admin(subject)
    directory.remove_member(work, username=username, group=group, actor_id=_actor(subject))


def switch_user(work: UnitOfWork, subject: Subject | None, *, username: str, active: bool) -> User:
    """Deactivate or reactivate a user; the last active administrator stays active."""
    require_admin(subject)
    user = directory.user_by_name(work, username)
    last = user.is_admin and user_access.active_admins(work) == [user.id]
    if not active and last:
        whom = "yourself" if subject and user.id == subject.user_id else username
        raise InvalidInput(
            "the user was not deactivated",
            {"active": f"you cannot deactivate {whom}: the last active administrator"},
        )
    user_access.set_active(work, user, active, actor_id=_actor(subject))
    return user


def invite(
    work: UnitOfWork,
    subject: Subject | None,
    *,
    username: str,
    display_name: str,
    email: str | None,
    groups: Sequence[str] = (),
    leads: Sequence[str] = (),
) -> tuple[User, str]:
    """A new user without a password, a member of ``groups`` and a lead of ``leads`` (each
    through :func:`join_group`, so a customer stays out of agent groups), and the secret of
    their one-time invitation link.  An unknown group is "not found" before anyone is
    created."""
    require_admin(subject)
    if email and (len(email) > 320 or not _EMAIL.match(email)):
        raise InvalidInput(
            "the user was not invited", {"email": f"{email!r} is not a mail address"}
        )
    roles = {group: "member" for group in groups} | {group: "lead" for group in leads}
    known = set(work.session.scalars(select(Group.name).where(Group.name.in_(roles))))
    unknown = [group for group in roles if group not in known]
    if unknown:
        raise NotFound(f"no group '{unknown[0]}'")
    user = directory.add_user(
        work,
        username=username,
        display_name=display_name,
        email=email or None,
        actor_id=_actor(subject),
    )
    for group, role in roles.items():
        join_group(work, subject, username=user.username, group=group, role=role)
    return user, user_access.issue_link(work, user, "invite", actor_id=_actor(subject))


def reset_password(work: UnitOfWork, subject: Subject | None, *, username: str) -> tuple[User, str]:
    """Forget a user's password, end their sessions, and make a one-time link to set one."""
    require_admin(subject)
    user = directory.user_by_name(work, username)
    if not user.is_active:
        raise InvalidInput(
            "no link was made", {"active": f"{username} is deactivated: reactivate first"}
        )
    return user, user_access.issue_link(work, user, "reset", actor_id=_actor(subject))


def open_assignments(
    work: UnitOfWork, subject: Subject | None, *, username: str
) -> list[dict[str, str]]:
    """The open cases assigned to the user and the open tasks they hold (claimed or
    assigned): after a deactivation these wait for someone else, so administrators see
    them named on the user's page, in ``users deactivate`` and in the API."""
    require_admin(subject)
    user = directory.user_by_name(work, username)
    held = work.session.execute(
        select(Case.number, Case.subject)
        .where(Case.assignee_id == user.id, Case.status == "open")
        .order_by(Case.id)
    ).all()
    tasks = work.session.execute(
        select(HumanTask.id, HumanTask.name, Case.number)
        .join(Case, Case.id == HumanTask.case_id)
        .where(
            HumanTask.state == "open",
            (HumanTask.claimed_by_id == user.id) | (HumanTask.assignee_id == user.id),
        )
        .order_by(HumanTask.id)
    ).all()
    return [{"kind": "case", "case": n, "what": str(t)} for n, t in held] + [
        {"kind": "task", "case": str(n), "what": f"task {i}: {name}"} for i, name, n in tasks
    ]


def _agent_membership(work: UnitOfWork, user: User) -> str | None:
    """Why ``user`` is an agent (an administrator, or the agent groups it is in), or None."""
    if user.is_admin:
        return "an administrator"
    names = directory.groups_of(work, user.id)
    groups = list(work.session.scalars(select(Group).where(Group.name.in_(names))))
    barred = sorted(agent_groups(work, groups))
    return f"in the agent group {', '.join(barred)}" if barred else None


def add_contact(
    work: UnitOfWork,
    subject: Subject,
    *,
    name: str,
    customer_group: str,
    email: str | None,
    username: str | None,
) -> Contact:
    """A customer's contact, linked to a portal login when ``username`` is given; an agent's
    login may not become a contact (the mirror of a customer joining an agent group)."""
    require_admin(subject)
    errors = _contact_problems(name, email)
    if username:
        why = _agent_membership(work, directory.user_by_name(work, username))
        if why:
            errors["username"] = f"{username} is {why} and cannot be a customer's contact"
    if errors:
        raise InvalidInput("the contact was not saved", errors)
    return directory.add_contact(
        work,
        name=name,
        customer_group=customer_group,
        email=email or None,
        username=username or None,
        actor_id=subject.user_id,
    )


def edit_contact(
    work: UnitOfWork, subject: Subject, contact_id: int, *, name: str, email: str | None
) -> Contact:
    """Change a contact's name and address."""
    require_admin(subject)
    contact = work.session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    errors = _contact_problems(name, email)
    if errors:
        raise InvalidInput("the contact was not saved", errors)
    before = {"name": contact.name, "email": contact.email}
    contact.name, contact.email = name, email or None
    audit.record(
        work,
        actor_id=subject.user_id,
        entity="contact",
        entity_id=contact.id,
        action="changed",
        before=before,
        after={"name": contact.name, "email": contact.email},
    )
    return contact


def _contact_problems(name: str, email: str | None) -> dict[str, str]:
    errors = {}
    if not name or len(name) > 200:
        errors["name"] = "is required (at most 200 characters)"
    if email and (len(email) > 320 or not _EMAIL.match(email)):
        errors["email"] = f"{email!r} is not a mail address"
    return errors
