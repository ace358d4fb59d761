"""Who a provider account is in Casework, and which of its groups it may hold.

The web layer has verified the identity provider's ID token (``web/sso/``); here its claims
become a Casework user.  An account is linked to its user by the provider's issuer and
``sub`` on its first sign-in (by the user name claim, or by creating the user when that
is allowed), so renaming it at the provider keeps its user and nobody can take over a user
by giving a new account an old name.

Groups: only the Casework groups named in the group mapping are touched, on every
sign-in: the user joins those the provider's groups map to and leaves the other mapped
ones; memberships an administrator gave outside the mapping stay.  A customer (a portal
user or a contact's login) never joins an *agent group* - one that gives access to cases
or work: a case-type permission, a customer or resource permission, a role in a case
type, or a task offered to it - and with ``agents`` off no provider user does; such a
mapping is skipped and named in the audit entry.  Administrator rights never come from
the provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.errors import Forbidden
from engine.runtime import UnitOfWork
from engine.store.access import (
    CaseTypePermission,
    CustomerPermission,
    PortalMembership,
    ResourcePermission,
)
from engine.store.credentials import ProviderIdentity
from engine.store.models import CaseTypeVersion, Contact, Group, TaskCandidate, User
from people import directory, logins

from .admin import set_portal_access


class SignInRefused(Forbidden):
    """The provider vouched for the account, but Casework does not let it in; the message
    says why, for the person at the browser."""


@dataclass(frozen=True)
class Claimed:
    """What the verified ID token says about the account."""

    issuer: str
    subject: str
    username: str
    groups: frozenset[str] = frozenset()
    email: str | None = None
    display_name: str = ""


@dataclass(frozen=True)
class AccountPolicy:
    """How provider accounts become users: ``group_map`` from provider group to Casework
    groups; ``create_users`` for unknown accounts; ``agents`` whether a provider user may
    be an agent at all (otherwise only customers sign in this way); new customers get a
    contact in ``customer_group`` and portal access to open ``portal_case_types``."""

    group_map: Mapping[str, frozenset[str]] = field(default_factory=dict)
    create_users: bool = False
    agents: bool = False
    customer_group: str | None = None
    portal_case_types: tuple[str, ...] = ()

    @property
    def managed_groups(self) -> frozenset[str]:
        return frozenset().union(*self.group_map.values())


@dataclass(frozen=True)
class SignedIn:
    user: User
    customer: bool  # lands in the portal


def sign_in(work: UnitOfWork, claimed: Claimed, policy: AccountPolicy) -> SignedIn:
    """The user the account signs in as, its mapped groups brought up to date and the
    sign-in audited; :class:`SignInRefused` when it may not sign in."""
    link = work.session.scalar(
        select(ProviderIdentity).where(
            ProviderIdentity.issuer == claimed.issuer,
            ProviderIdentity.subject == claimed.subject,
        )
    )
    if link is not None:
        user = work.session.get(User, link.user_id)
        assert user is not None  # the link is deleted with its user
        link.last_sign_in_at = work.now
    else:
        user = _first_sign_in(work, claimed, policy)
    if not user.is_active:
        raise SignInRefused(f"the user '{user.username}' is deactivated")
    customer = not user.is_admin and is_customer(work, user.id)
    if not customer and not policy.agents:
        raise SignInRefused(
            f"'{user.username}' is an agent, and this identity provider signs in customers "
            "only: agents sign in with their password"
        )
    joined, left, skipped = _sync_groups(work, user, claimed.groups, policy, customer=customer)
    skipped_as = "not_for_customers" if customer else "not_for_provider_users"
    logins.record_sign_in(
        work,
        user,
        "identity provider",
        issuer=claimed.issuer,
        joined=joined,
        left=left,
        **{skipped_as: skipped},
    )
    return SignedIn(user, customer)


def _first_sign_in(work: UnitOfWork, claimed: Claimed, policy: AccountPolicy) -> User:
    """Link the account to the user of its name, or to a new user when allowed."""
    user = work.session.scalar(select(User).where(User.username == claimed.username))
    if user is not None:
        other = work.session.scalar(
            select(ProviderIdentity.id).where(
                ProviderIdentity.issuer == claimed.issuer, ProviderIdentity.user_id == user.id
            )
        )
        if other is not None:
            raise SignInRefused(
                f"the user '{claimed.username}' is linked to another account of this "
                "identity provider"
            )
    elif policy.create_users:
        user = _create(work, claimed, policy)
    else:
        raise SignInRefused(
            f"there is no Casework user '{claimed.username}'; ask an administrator to create it"
        )
    work.session.add(
        ProviderIdentity(
            issuer=claimed.issuer,
            subject=claimed.subject,
            user_id=user.id,
            created_at=work.now,
            last_sign_in_at=work.now,
        )
    )
    return user


def _create(work: UnitOfWork, claimed: Claimed, policy: AccountPolicy) -> User:
    """A user with no password (they sign in through the provider only); a customer with
    a contact and portal access unless provider users may be agents."""
    user = directory.add_user(
        work,
        username=claimed.username,
        display_name=claimed.display_name,
        email=claimed.email,
    )
    if not policy.agents:
        assert policy.customer_group is not None  # WebSettings refuse it otherwise
        directory.add_contact(
            work,
            name=claimed.display_name or claimed.username,
            customer_group=policy.customer_group,
            email=claimed.email,
            username=user.username,
        )
        set_portal_access(
            work,
            username=user.username,
            view="own",
            edit="own",
            parent_visibility=False,
            case_types=list(policy.portal_case_types),
        )
    return user


def is_customer(work: UnitOfWork, user_id: int) -> bool:
    """A portal user or a contact's login: the customer side."""
    if work.session.get(PortalMembership, user_id) is not None:
        return True
    contact = work.session.scalar(select(Contact.id).where(Contact.user_id == user_id).limit(1))
    return contact is not None


def agent_groups(work: UnitOfWork, groups: Iterable[Group]) -> set[str]:
    """The names of those ``groups`` that give access to cases or work."""
    by_id = {g.id: g.name for g in groups}
    ids = list(by_id)
    found: set[int] = set()
    for statement in (
        select(CaseTypePermission.group_id).where(
            CaseTypePermission.group_id.in_(ids), CaseTypePermission.level != "no"
        ),
        select(CustomerPermission.group_id).where(CustomerPermission.group_id.in_(ids)),
        select(ResourcePermission.group_id).where(ResourcePermission.group_id.in_(ids)),
        select(TaskCandidate.group_id).where(TaskCandidate.group_id.in_(ids)),
    ):
        found.update(work.session.scalars(statement.distinct()))
    names = {by_id[i] for i in found}
    for config in work.session.scalars(select(CaseTypeVersion.config)):
        roles = (config or {}).get("case_type", {}).get("roles", {})
        for members in roles.values():
            names.update(set(members) & set(by_id.values()))
    return names


def _sync_groups(
    work: UnitOfWork, user: User, provided: frozenset[str], policy: AccountPolicy, *, customer: bool
) -> tuple[list[str], list[str], list[str]]:
    """Join the mapped groups the provider names, leave the other mapped ones; agent
    groups are skipped for customers (and for everyone when provider users may not be
    agents).  Returns the groups joined, left and skipped."""
    managed = policy.managed_groups
    if not managed:
        return [], [], []
    existing = list(work.session.scalars(select(Group).where(Group.name.in_(managed))))
    wanted = {name for g in provided for name in policy.group_map.get(g, ())}
    barred = agent_groups(work, existing) if customer or not policy.agents else set()
    current = set(directory.groups_of(work, user.id)) & managed
    joined, left, skipped = [], [], []
    for group in sorted(existing, key=lambda g: g.name):
        name = group.name
        if name in wanted and name in barred:
            skipped.append(name)
        elif name in wanted and name not in current:
            directory.add_member(work, username=user.username, group=name, actor_id=user.id)
            joined.append(name)
        if name in current and (name not in wanted or name in barred):
            directory.remove_member(work, username=user.username, group=name, actor_id=user.id)
            left.append(name)
    return joined, left, skipped
