"""Granting system permissions and portal roles (administration of the rules' inputs)."""

from __future__ import annotations

from sqlalchemy import select

from engine import audit
from engine.errors import InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.access import (
    AutoFollow,
    CaseTypePermission,
    CustomerPermission,
    PortalMembership,
    PortalRole,
)
from engine.store.models import CaseType, CustomerGroup
from people.directory import group_by_name, user_by_name

LEVELS = ("own", "all")


def permit_case_type(
    work: UnitOfWork, *, group: str, case_type: str | None, write: bool, actor_id: int | None = None
) -> None:
    """Let a group read (and perhaps write) one case type, or every one when ``None``."""
    grp = group_by_name(work, group)
    type_id = None
    if case_type is not None:
        type_id = work.session.scalar(select(CaseType.id).where(CaseType.key == case_type))
        if type_id is None:
            raise NotFound(f"no case type '{case_type}'")
    row = work.session.scalar(
        select(CaseTypePermission).where(
            CaseTypePermission.group_id == grp.id,
            CaseTypePermission.case_type_id.is_(type_id)
            if type_id is None
            else CaseTypePermission.case_type_id == type_id,
        )
    )
    if row is None:
        work.session.add(CaseTypePermission(group_id=grp.id, case_type_id=type_id, can_write=write))
    else:
        row.can_write = write
    audit.record(
        work,
        actor_id=actor_id,
        entity="permission",
        entity_id=f"{group}:{case_type}",
        action="case_type",
        after={"group": group, "case_type": case_type or "all", "write": write},
    )


def permit_customers(
    work: UnitOfWork, *, group: str, customer: str | None, actor_id: int | None = None
) -> None:
    """Let a group read the cases and contacts of a customer group, or of all when ``None``."""
    grp = group_by_name(work, group)
    customer_id = None
    if customer is not None:
        customer_id = work.session.scalar(
            select(CustomerGroup.id).where(CustomerGroup.name == customer)
        )
        if customer_id is None:
            raise NotFound(f"no customer group '{customer}'")
    work.session.add(CustomerPermission(group_id=grp.id, customer_group_id=customer_id))
    audit.record(
        work,
        actor_id=actor_id,
        entity="permission",
        entity_id=f"{group}:{customer}",
        action="customers",
        after={"group": group, "customer": customer or "all"},
    )


def set_portal_access(
    work: UnitOfWork,
    *,
    username: str,
    view: str,
    edit: str,
    parent_visibility: bool,
    actor_id: int | None = None,
) -> None:
    """Give a user portal access with the View and Edit levels (``own`` or ``all``)."""
    bad = {
        k: f"must be one of {', '.join(LEVELS)}"
        for k, v in (("view", view), ("edit", edit))
        if v not in LEVELS
    }
    if bad:
        raise InvalidInput("invalid portal access", bad)
    user = user_by_name(work, username)
    name = f"{view}-view/{edit}-edit" + ("/parent" if parent_visibility else "")
    role = work.session.scalar(select(PortalRole).where(PortalRole.name == name))
    if role is None:
        role = PortalRole(
            name=name, view_level=view, edit_level=edit, parent_visibility=parent_visibility
        )
        work.session.add(role)
        work.session.flush()
    membership = work.session.get(PortalMembership, user.id)
    if membership is None:
        work.session.add(PortalMembership(user_id=user.id, portal_role_id=role.id))
    else:
        membership.portal_role_id = role.id
    audit.record(
        work,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="portal",
        after={"role": name},
    )


def auto_follow(work: UnitOfWork, *, user_id: int, case_type: str) -> None:
    """Follow every new case of a case type (only those the user may read)."""
    type_id = work.session.scalar(select(CaseType.id).where(CaseType.key == case_type))
    if type_id is None:
        raise NotFound(f"no case type '{case_type}'")
    work.session.merge(AutoFollow(user_id=user_id, case_type_id=type_id))
