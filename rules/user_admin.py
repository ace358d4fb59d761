"""Administering users: what an administrator may do to them, and the nonsense refused.

Every act here is for administrators only (``Forbidden`` otherwise).  Refused, with the
problem named at the form field it belongs to (``InvalidInput``):

* a customer (a portal user or a contact's login) joining an *agent group* - one that gives
  access to cases or work (``rules.provider_users.agent_groups``): customers would read
  every case of the group's case types;
* deactivating the last active administrator (yourself, usually): nobody could administer
  Casework any more.
"""

from __future__ import annotations

from engine.errors import Forbidden, InvalidInput
from engine.runtime import UnitOfWork
from engine.store.models import User
from people import accounts, directory

from .provider_users import agent_groups, is_customer
from .subject import Subject


def require_admin(subject: Subject) -> None:
    if not subject.is_admin:
        raise Forbidden(f"{subject.username} is not an administrator")


def join_group(work: UnitOfWork, subject: Subject, *, username: str, group: str) -> None:
    """Put a user in a group, unless the user is a customer and the group an agent group."""
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
    directory.add_member(work, username=username, group=group, actor_id=subject.user_id)


def leave_group(work: UnitOfWork, subject: Subject, *, username: str, group: str) -> None:
    require_admin(subject)
    directory.remove_member(work, username=username, group=group, actor_id=subject.user_id)


def switch_user(work: UnitOfWork, subject: Subject, *, username: str, active: bool) -> User:
    """Deactivate or reactivate a user; the last active administrator stays active."""
    require_admin(subject)
    user = directory.user_by_name(work, username)
    last = user.is_admin and accounts.active_admins(work) == [user.id]
    if not active and last:
        whom = "yourself" if user.id == subject.user_id else username
        raise InvalidInput(
            "the user was not deactivated",
            {"active": f"you cannot deactivate {whom}: the last active administrator"},
        )
    accounts.set_active(work, user, active, actor_id=subject.user_id)
    return user


def invite(
    work: UnitOfWork, subject: Subject, *, username: str, display_name: str, email: str | None
) -> tuple[User, str]:
    """A new user without a password, and the secret of their one-time invitation link."""
    require_admin(subject)
    user = directory.add_user(
        work,
        username=username,
        display_name=display_name,
        email=email or None,
        actor_id=subject.user_id,
    )
    return user, accounts.issue_link(work, user, "invite", actor_id=subject.user_id)


def reset_password(work: UnitOfWork, subject: Subject, *, username: str) -> tuple[User, str]:
    """Forget a user's password, end their sessions, and make a one-time link to set one."""
    require_admin(subject)
    user = directory.user_by_name(work, username)
    if not user.is_active:
        raise InvalidInput(
            "no link was made", {"active": f"{username} is deactivated: reactivate first"}
        )
    return user, accounts.issue_link(work, user, "reset", actor_id=subject.user_id)
