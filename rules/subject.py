"""Who is asking: everything the rules need to know about the acting user, loaded once.

A :class:`Subject` is built per request (or per CLI command) from the directory and
the permission tables, so that both the Python decision function and the SQL
filters work from the same facts without querying them again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, union_all

from engine.runtime import UnitOfWork
from engine.store.access import (
    CaseTypePermission,
    CustomerPermission,
    PortalMembership,
    PortalRole,
    ResourcePermission,
)
from engine.store.fast import Prepared, tagged
from engine.store.models import (
    Account,
    CaseType,
    CaseTypeVersion,
    Contact,
    CustomerGroup,
    Group,
    Membership,
    User,
)

#: Stands for "every case type" / "every customer group" in a permission set.
ALL: frozenset[int] = frozenset({-1})

#: Case-type roles that carry system permissions on that case type (from its TOML).
ROLE_LEVELS = {"manager": "write", "monitor": "read", "escalation": "read"}


@dataclass(frozen=True)
class Portal:
    """A customer's portal access (seed 003): View and Edit levels ``own`` (cases naming
    them) or ``all`` (every case of their customer); with both at ``all`` the parent
    toggle lets them view, never edit, the cases of their customer's child customers.
    Accounts work alike: "all" shows the cases linked to the accounts of their contacts,
    and the parent toggle those linked to their accounts' child accounts (view only).
    ``case_types`` are the keys of the case types the portal role lets them open."""

    view_all: bool
    edit_all: bool
    parent_visibility: bool
    own_customers: frozenset[int]  # the customer groups of the user's own contacts
    child_customers: frozenset[int]  # their descendants, when the parent toggle is on
    case_types: frozenset[str] = frozenset()
    own_accounts: frozenset[int] = frozenset()  # the accounts of the user's own contacts
    child_accounts: frozenset[int] = frozenset()  # their descendants, with the parent toggle

    @property
    def customer_groups(self) -> frozenset[int]:
        """Every customer group whose cases the "all" view level shows."""
        return self.own_customers | self.child_customers


@dataclass(frozen=True)
class Subject:
    user_id: int
    username: str
    is_admin: bool
    group_ids: frozenset[int]
    readable_types: frozenset[int]
    writable_types: frozenset[int]
    denied_types: frozenset[int]  # an explicit "no" level (ALL: "no" for every type)
    customer_groups: frozenset[int]
    resource_types: frozenset[str]
    contact_ids: frozenset[int]
    portal: Portal | None = None
    #: the groups the user leads (a membership's role ``lead``): they manage what it shares
    lead_group_ids: frozenset[int] = frozenset()

    def reads_type(self, case_type_id: int) -> bool:
        return self.readable_types == ALL or case_type_id in self.readable_types

    def writes_type(self, case_type_id: int) -> bool:
        return self.writable_types == ALL or case_type_id in self.writable_types

    def denies_type(self, case_type_id: int) -> bool:
        """The user's roles give no access to the type: no read level and an explicit "no"
        (seed 000: collaborators read "provided their access level ... is other than no")."""
        if self.reads_type(case_type_id):
            return False
        return self.denied_types == ALL or case_type_id in self.denied_types

    def reads_customer(self, customer_group_id: int | None) -> bool:
        if customer_group_id is None:
            return True
        return self.customer_groups == ALL or customer_group_id in self.customer_groups


# Prepared once: a subject is loaded on most requests, and these small reads cost more in
# the ORM's machinery than in the database.  Group-scoped permissions are read through the
# user's memberships, so the statement takes only the user id.
_UID: BindParameter[int] = bindparam("uid")
_MY_GROUPS = select(Membership.group_id).where(Membership.user_id == _UID).scalar_subquery()


#: Everything about the user that lives in rows naming them or their groups, in one round
#: trip (on PostgreSQL each statement is one; a request used to spend six on these):
#: m memberships (group, role), t case-type levels (type or NULL for all, level),
#: c customer permissions (customer or NULL for all), r resource permissions,
#: k the user's contacts (contact, customer, account), g their groups' names.
_USER_FACTS = Prepared(
    union_all(
        tagged("m", Membership.group_id, text=Membership.role).where(Membership.user_id == _UID),
        tagged("t", CaseTypePermission.case_type_id, text=CaseTypePermission.level).where(
            CaseTypePermission.group_id.in_(_MY_GROUPS)
        ),
        tagged("c", CustomerPermission.customer_group_id).where(
            CustomerPermission.group_id.in_(_MY_GROUPS)
        ),
        tagged("r", text=ResourcePermission.resource_type).where(
            ResourcePermission.group_id.in_(_MY_GROUPS)
        ),
        tagged("k", Contact.id, Contact.customer_group_id, Contact.account_id).where(
            Contact.user_id == _UID
        ),
        tagged("g", text=Group.name).where(Group.id.in_(_MY_GROUPS)),
    )
)
_CURRENT_VERSIONS = Prepared(
    select(CaseType.id, CaseTypeVersion.id, CaseTypeVersion.content_hash).join(
        CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id
    )
)
_VERSION_CONFIG = Prepared(
    select(CaseTypeVersion.config).where(CaseTypeVersion.id == bindparam("version_id"))
)
_PORTAL_ROLE = Prepared(
    select(
        PortalRole.view_level,
        PortalRole.edit_level,
        PortalRole.parent_visibility,
        PortalRole.case_types,
    )
    .join(PortalMembership, PortalMembership.portal_role_id == PortalRole.id)
    .where(PortalMembership.user_id == _UID)
)


def load_subject(work: UnitOfWork, user: User) -> Subject:
    """Collect the user's groups, system permissions, case-type roles and portal access."""
    facts: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in "mtcrkg"}
    for kind, *row in _USER_FACTS.rows(work.session, {"uid": user.id}):
        facts[kind].append(tuple(row))
    groups = frozenset(group for group, _, _, _ in facts["m"])
    readable: set[int] = set()
    writable: set[int] = set()
    denied: set[int] = set()
    all_read = all_write = all_denied = False
    for type_id, _, _, level in facts["t"]:
        if type_id is None:
            all_read = all_read or level in ("read", "write")
            all_write = all_write or level == "write"
            all_denied = all_denied or level == "no"
            continue
        if level in ("read", "write"):
            readable.add(type_id)
        if level == "write":
            writable.add(type_id)
        if level == "no":
            denied.add(type_id)
    names = {name for _, _, _, name in facts["g"]}
    for type_id, roles in (_case_type_roles(work, names) if groups else {}).items():
        levels = {ROLE_LEVELS[r] for r in roles if r in ROLE_LEVELS}
        if levels:
            readable.add(type_id)
        if "write" in levels:
            writable.add(type_id)
    customer_ids = [customer for customer, _, _, _ in facts["c"]]
    contacts = facts["k"]
    return Subject(
        user_id=user.id,
        username=user.username,
        is_admin=user.is_admin,
        group_ids=groups,
        lead_group_ids=frozenset(group for group, _, _, role in facts["m"] if role == "lead"),
        readable_types=ALL if all_read else frozenset(readable),
        writable_types=ALL if all_write else frozenset(writable),
        denied_types=ALL if all_denied else frozenset(denied),
        customer_groups=ALL if None in customer_ids else frozenset(customer_ids),
        resource_types=frozenset(resource for _, _, _, resource in facts["r"]),
        contact_ids=frozenset(c for c, _, _, _ in contacts),
        # Administrators act as agents: they are never limited to a portal role.
        portal=None
        if user.is_admin
        else _portal(
            work,
            user,
            {g for _, g, _, _ in contacts},
            {a for _, _, a, _ in contacts if a is not None},
        ),
    )


def _case_type_roles(work: UnitOfWork, names: set[str]) -> dict[int, frozenset[str]]:
    """Roles the groups named ``names`` hold in each case type's current version."""
    result: dict[int, frozenset[str]] = {}
    for type_id, version_id, content_hash in _CURRENT_VERSIONS.rows(work.session, {}):
        roles = _VERSION_ROLES.get(content_hash)
        if roles is None:  # a version's roles never change: read its config once
            config = _VERSION_CONFIG.first(work.session, {"version_id": version_id})
            stored = config[0]["case_type"].get("roles", {}) if config else {}
            roles = {role: frozenset(groups) for role, groups in stored.items()}
            _VERSION_ROLES.put(content_hash, roles)
        held = frozenset(role for role, members in roles.items() if names & members)
        if held:
            result[type_id] = held
    return result


class _RolesByVersion:
    """The roles of a version's TOML by the version's content hash (which covers its TOML,
    so equal hashes mean equal roles, in any database): a subject is loaded on most
    requests, and parsing every case type's stored config each time cost more than all
    of the subject's queries together."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._found: dict[str, dict[str, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def get(self, content_hash: str) -> dict[str, frozenset[str]] | None:
        return self._found.get(content_hash)

    def put(self, content_hash: str, roles: dict[str, frozenset[str]]) -> None:
        with self._lock:
            if len(self._found) >= self._size:
                self._found.pop(next(iter(self._found)))
            self._found[content_hash] = roles


_VERSION_ROLES = _RolesByVersion()


def _portal(
    work: UnitOfWork, user: User, customer_groups: set[int], accounts: set[int]
) -> Portal | None:
    row = _PORTAL_ROLE.first(work.session, {"uid": user.id})
    if row is None:
        return None
    view_level, edit_level, parent_visibility, case_types = row
    children = _descendants(work, customer_groups, CustomerGroup) if parent_visibility else set()
    child_accounts = set()
    if parent_visibility and accounts:  # most customers are on no account: no read then
        child_accounts = _descendants(work, accounts, Account)
    return Portal(
        view_all=view_level == "all",
        edit_all=edit_level == "all",
        parent_visibility=bool(parent_visibility),
        own_customers=frozenset(customer_groups),
        child_customers=frozenset(children - customer_groups),
        case_types=frozenset(case_types or ()),
        own_accounts=frozenset(accounts),
        child_accounts=frozenset(child_accounts - accounts),
    )


def _descendants(
    work: UnitOfWork, roots: set[int], model: type[CustomerGroup] | type[Account]
) -> set[int]:
    """Child customer groups (or accounts) at any depth (a parent customer sees its
    children's cases)."""
    parents = dict(work.session.execute(select(model.id, model.parent_id)).tuples().all())
    found: set[int] = set()
    for group_id, _ in parents.items():
        cursor, seen = parents.get(group_id), {group_id}
        while cursor is not None and cursor not in seen:
            if cursor in roots:
                found.add(group_id)
                break
            seen.add(cursor)
            cursor = parents.get(cursor)
    return found
