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


TYPE_LEVELS = ("no", "read", "write")


def permit_case_type(
    work: UnitOfWork,
    *,
    group: str,
    case_type: str | None,
    write: bool = False,
    level: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Set a group's level on one case type, or on every one when ``None``: ``read``,
    ``write`` (``write=True`` for short), or ``no`` - which grants nothing and keeps the
    group's members out of the type's cases even as collaborators (seed 000)."""
    level = level or ("write" if write else "read")
    if level not in TYPE_LEVELS:
        raise InvalidInput("invalid permission", {"level": f"one of {', '.join(TYPE_LEVELS)}"})
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
        work.session.add(CaseTypePermission(group_id=grp.id, case_type_id=type_id, level=level))
    else:
        row.level = level
    audit.record(
        work,
        actor_id=actor_id,
        entity="permission",
        entity_id=f"{group}:{case_type}",
        action="case_type",
        after={"group": group, "case_type": case_type or "all", "level": level},
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
    same = CustomerPermission.customer_group_id
    known = work.session.scalar(
        select(CustomerPermission.id).where(
            CustomerPermission.group_id == grp.id,
            same.is_(None) if customer_id is None else same == customer_id,
        )
    )
    if known is not None:
        return  # granted already
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
    case_types: list[str] | None = None,
    actor_id: int | None = None,
) -> None:
    """Give a user portal access with the View and Edit levels (``own`` or ``all``), the
    parent toggle (only with both at ``all``, as seed 003 offers it) and the case types
    they may open (none unless listed)."""
    bad = {
        k: f"must be one of {', '.join(LEVELS)}"
        for k, v in (("view", view), ("edit", edit))
        if v not in LEVELS
    }
    if parent_visibility and (view, edit) != ("all", "all"):
        bad["parent"] = "the parent toggle needs view all and edit all"
    keys = sorted(set(case_types or ()))
    known = set(work.session.scalars(select(CaseType.key).where(CaseType.key.in_(keys))))
    if set(keys) - known:
        bad["types"] = f"no case type {', '.join(sorted(set(keys) - known))}"
    if bad:
        raise InvalidInput("invalid portal access", bad)
    user = user_by_name(work, username)
    name = (
        f"{view}-view/{edit}-edit"
        + ("/parent" if parent_visibility else "")
        + (f"/open:{','.join(keys)}" if keys else "")
    )
    role = work.session.scalar(select(PortalRole).where(PortalRole.name == name))
    if role is None:
        role = PortalRole(
            name=name,
            view_level=view,
            edit_level=edit,
            parent_visibility=parent_visibility,
            case_types=keys,
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
