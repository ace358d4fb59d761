"""Users, groups, memberships, customer groups and contacts.

Membership is the only thing that decides who may act on a task; it is read at
query time, so adding or removing a member takes effect on every open task at once.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, delete, select

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.db import changed_rows
from engine.store.models import Account, Contact, CustomerGroup, Group, Membership, User
from people import passwords

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$")


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise InvalidInput(
            f"invalid {kind} name",
            {
                "name": f"{name!r} must start with a letter or digit and use only letters, digits, "
                ". _ @ + - (at most 150 characters)"
            },
        )


# Built once: mail intake creates a user and a contact for every new sender.
_USER_ID_BY_NAME = select(User.id).where(User.username == bindparam("username"))
_CUSTOMER_GROUP_ID = select(CustomerGroup.id).where(CustomerGroup.name == bindparam("name"))


def add_user(
    work: UnitOfWork,
    *,
    username: str,
    display_name: str = "",
    email: str | None = None,
    password: str | None = None,
    is_admin: bool = False,
    actor_id: int | None = None,
) -> User:
    """Create a user; the password must meet the policy and is stored only as an argon2
    hash (users made by mail intake have none and cannot sign in until one is set)."""
    _check_name("user", username)
    if work.session.scalar(_USER_ID_BY_NAME, {"username": username}) is not None:
        raise Conflict(f"user '{username}' already exists")
    password_hash = passwords.hash_new(password, username=username) if password else None
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        password_hash=password_hash,
        is_admin=is_admin,
        is_active=True,
        created_at=work.now,
    )
    work.session.add(user)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="created",
        after={"username": username, "is_admin": is_admin},
    )
    return user


def add_group(
    work: UnitOfWork, *, name: str, description: str = "", actor_id: int | None = None
) -> Group:
    _check_name("group", name)
    if work.session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Conflict(f"group '{name}' already exists")
    group = Group(name=name, description=description, created_at=work.now)
    work.session.add(group)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="group",
        entity_id=group.id,
        action="created",
        after={"name": name},
    )
    return group


def user_by_name(work: UnitOfWork, username: str) -> User:
    user = work.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user


def group_by_name(work: UnitOfWork, name: str) -> Group:
    group = work.session.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise NotFound(f"no group '{name}'")
    return group


#: A member's roles in a group: a ``lead`` also manages what the group shares (its canned
#: replies); a plain ``member`` uses it.
MEMBER_ROLES = ("member", "lead")


def add_member(
    work: UnitOfWork,
    *,
    username: str,
    group: str,
    actor_id: int | None = None,
    role: str | None = None,
) -> None:
    """Put a user in a group (idempotent: adding twice is not an error); ``role`` (one of
    :data:`MEMBER_ROLES`), when given, is set on a new or existing membership."""
    if role is not None and role not in MEMBER_ROLES:
        raise InvalidInput(
            "the member was not added", {"role": f"must be one of {', '.join(MEMBER_ROLES)}"}
        )
    user, grp = user_by_name(work, username), group_by_name(work, group)
    entity_id = f"{user.id}:{grp.id}"
    held = work.session.get(Membership, (user.id, grp.id))
    if held is not None:
        if role is not None and held.role != role:
            before, held.role = held.role, role
            audit.record(
                work,
                actor_id=actor_id,
                entity="membership",
                entity_id=entity_id,
                action="role_changed",
                before={"role": before},
                after={"role": role},
            )
        return
    work.session.add(
        Membership(user_id=user.id, group_id=grp.id, role=role or "member", created_at=work.now)
    )
    audit.record(
        work,
        actor_id=actor_id,
        entity="membership",
        entity_id=entity_id,
        action="added",
        after={"user": username, "group": group, "role": role or "member"},
    )


def remove_member(
    work: UnitOfWork, *, username: str, group: str, actor_id: int | None = None
) -> None:
    user, grp = user_by_name(work, username), group_by_name(work, group)
    removed = changed_rows(
        work.session,
        delete(Membership).where(Membership.user_id == user.id, Membership.group_id == grp.id),
    )
    if not removed:
        raise NotFound(f"user '{username}' is not a member of '{group}'")
    audit.record(
        work,
        actor_id=actor_id,
        entity="membership",
        entity_id=f"{user.id}:{grp.id}",
        action="removed",
        before={"user": username, "group": group},
    )


def groups_of(work: UnitOfWork, user_id: int) -> list[str]:
    return list(
        work.session.scalars(
            select(Group.name)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
            .order_by(Group.name)
        )
    )


def list_users(work: UnitOfWork) -> list[User]:
    return list(work.session.scalars(select(User).order_by(User.username)))


def list_groups(work: UnitOfWork) -> list[tuple[Group, list[str]]]:
    """Every group with the names of its members."""
    rows = work.session.execute(
        select(Group, User.username)
        .outerjoin(Membership, Membership.group_id == Group.id)
        .outerjoin(User, User.id == Membership.user_id)
        .order_by(Group.name, User.username)
    ).all()
    result: dict[int, tuple[Group, list[str]]] = {}
    for group, username in rows:
        entry = result.setdefault(group.id, (group, []))
        if username:
            entry[1].append(username)
    return list(result.values())


def group_leads(work: UnitOfWork) -> dict[str, set[str]]:
    """Each group's leads by user name, so a page can mark them among the members."""
    rows = work.session.execute(
        select(Group.name, User.username)
        .join(Membership, Membership.group_id == Group.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == "lead")
    )
    leads: dict[str, set[str]] = {}
    for group, username in rows:
        leads.setdefault(group, set()).add(username)
    return leads


def add_customer_group(
    work: UnitOfWork, *, name: str, parent: str | None = None, actor_id: int | None = None
) -> CustomerGroup:
    if work.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name)):
        raise Conflict(f"customer group '{name}' already exists")
    parent_id = None
    if parent:
        parent_id = work.session.scalar(
            select(CustomerGroup.id).where(CustomerGroup.name == parent)
        )
        if parent_id is None:
            raise NotFound(f"no customer group '{parent}'")
    group = CustomerGroup(name=name, parent_id=parent_id)
    work.session.add(group)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="customer_group",
        entity_id=group.id,
        action="created",
        after={"name": name, "parent": parent},
    )
    return group


def add_contact(
    work: UnitOfWork,
    *,
    name: str,
    customer_group: str | None = None,
    email: str | None = None,
    username: str | None = None,
    account: str | None = None,
    actor_id: int | None = None,
) -> Contact:
    """A customer-side person; ``username`` links the portal login that acts as this contact.
    A contact on an account belongs to the account's customer group."""
    on = work.session.scalar(select(Account).where(Account.name == account)) if account else None
    if account and on is None:
        raise NotFound(f"no account '{account}'")
    if customer_group is None:
        if on is None:
            raise InvalidInput("invalid contact", {"customer": "name a customer group or account"})
        group_id: int | None = on.customer_group_id
    else:
        group_id = work.session.scalar(_CUSTOMER_GROUP_ID, {"name": customer_group})
        if group_id is None:
            raise NotFound(f"no customer group '{customer_group}'")
        if on is not None and on.customer_group_id != group_id:
            raise InvalidInput(
                "invalid contact",
                {"account": f"'{account}' is not an account of customer group '{customer_group}'"},
            )
    user_id = user_by_name(work, username).id if username else None
    contact = Contact(
        name=name,
        email=email,
        customer_group_id=group_id,
        account_id=on.id if on else None,
        user_id=user_id,
    )
    work.session.add(contact)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="contact",
        entity_id=contact.id,
        action="created",
        after={
            "name": name,
            "customer_group": customer_group,
            "account": account,
            "user": username,
        },
    )
    return contact
