"""Build small permission worlds directly in the store, for rule tests.

Rows are inserted the way the product stores them, without running processes: the
rules read only case columns, access tables, memberships and open task rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from designer import deploy
from engine.runtime import Runtime, UnitOfWork
from engine.store.access import (
    CaseAccess,
    CaseCollaborator,
    CaseGrant,
    CaseTypePermission,
    CustomerPermission,
    PortalMembership,
    PortalRole,
)
from engine.store.models import (
    Case,
    CaseContact,
    CaseType,
    CaseTypeVersion,
    Contact,
    CustomerGroup,
    Group,
    HumanTask,
    Membership,
    TaskCandidate,
    User,
)
from tests.conftest import PROCESSES

_ids = itertools.count(1)


_SPEC_JSON: list[str] = []


def _spec_json(work: UnitOfWork) -> str:
    """A runnable spec for a world's case type (the shipped process; the rules never read
    it, but reading a task or a case's fields loads its version), serialized once."""
    if not _SPEC_JSON:
        config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
        compiled = deploy.read_definition(PROCESSES / "support.bpmn", config)
        assert compiled.spec is not None
        _SPEC_JSON.append(
            work.runtime.serializer.spec_to_json(compiled.spec, compiled.subprocess_specs)
        )
    return _SPEC_JSON[0]


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


@dataclass
class World:
    """Handles to what was created, by short names chosen in the test."""

    rt: Runtime
    users: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    _work: UnitOfWork | None = None

    @contextmanager
    def _unit(self) -> Iterator[UnitOfWork]:
        if self._work is not None:
            yield self._work
            return
        with self.rt.unit() as work:
            yield work

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Build everything inside in one transaction (a large world builds fast)."""
        with self.rt.unit() as work:
            self._work = work
            try:
                yield
            finally:
                self._work = None

    def user(self, name: str, *, admin: bool = False, groups: tuple[str, ...] = ()) -> int:
        with self._unit() as work:
            user = User(
                username=unique(name),
                display_name=name,
                is_admin=admin,
                is_active=True,
                created_at=work.now,
            )
            work.session.add(user)
            work.session.flush()
            for g in groups:
                work.session.add(
                    Membership(user_id=user.id, group_id=self.groups[g], created_at=work.now)
                )
            self.users[name] = user.id
        return user.id

    def group(self, name: str) -> int:
        with self._unit() as work:
            group = Group(name=unique(name), created_at=work.now)
            work.session.add(group)
            work.session.flush()
            self.groups[name] = group.id
        return group.id

    def customer(self, name: str, parent: str | None = None) -> int:
        with self._unit() as work:
            row = CustomerGroup(name=unique(name), parent_id=self.customers.get(parent or ""))
            work.session.add(row)
            work.session.flush()
            self.customers[name] = row.id
        return row.id

    def contact(self, name: str, customer: str, user: str | None = None) -> int:
        with self._unit() as work:
            row = Contact(
                name=name,
                customer_group_id=self.customers[customer],
                user_id=self.users[user] if user else None,
            )
            work.session.add(row)
            work.session.flush()
            self.contacts[name] = row.id
        return row.id

    def case_type(self, name: str, roles: dict[str, tuple[str, ...]] | None = None) -> int:
        with self._unit() as work:
            names = {g: work.session.get(Group, gid).name for g, gid in self.groups.items()}
            key = unique("T").upper()
            kind = CaseType(key=key, name=name, prefix="T", created_at=work.now)
            work.session.add(kind)
            work.session.flush()
            config = {
                "case_type": {
                    "key": key,
                    "name": name,
                    "prefix": "T",
                    "roles": {r: [names[g] for g in gs] for r, gs in (roles or {}).items()},
                },
                "routing": {},
            }
            version = CaseTypeVersion(
                case_type_id=kind.id,
                number=1,
                content_hash=unique("h"),
                process_id="p",
                source_name="-",
                bpmn_xml="",
                config=config,
                spec_json=_spec_json(work),
                deployed_at=work.now,
            )
            work.session.add(version)
            work.session.flush()
            kind.current_version_id = version.id
            self.types[name] = kind.id
        return kind.id

    def permit(
        self,
        group: str,
        *,
        types: tuple[str | None, ...] = (),
        write: bool = False,
        level: str | None = None,
        customers: tuple[str | None, ...] = (),
    ) -> None:
        with self._unit() as work:
            for t in types:
                work.session.add(
                    CaseTypePermission(
                        group_id=self.groups[group],
                        level=level or ("write" if write else "read"),
                        case_type_id=None if t is None else self.types[t],
                    )
                )
            for c in customers:
                work.session.add(
                    CustomerPermission(
                        group_id=self.groups[group],
                        customer_group_id=None if c is None else self.customers[c],
                    )
                )

    def portal(
        self,
        user: str,
        *,
        view: str = "own",
        edit: str = "own",
        parent: bool = False,
        types: tuple[str, ...] = (),
    ) -> None:
        with self._unit() as work:
            keys = [work.session.get(CaseType, self.types[t]).key for t in types]
            role = PortalRole(
                name=unique("portal"),
                view_level=view,
                edit_level=edit,
                parent_visibility=parent,
                case_types=keys,
            )
            work.session.add(role)
            work.session.flush()
            work.session.add(PortalMembership(user_id=self.users[user], portal_role_id=role.id))

    def case(
        self,
        name: str,
        case_type: str,
        *,
        contact: str | None = None,
        raiser: str | None = None,
        contacts: tuple[str, ...] = (),
        restricted: bool = False,
        hidden: bool = False,
        grants: tuple[tuple[str, str], ...] = (),
        collaborators: tuple[str, ...] = (),
        task_groups: tuple[str, ...] = (),
    ) -> int:
        with self._unit() as work:
            contact_row = work.session.get(Contact, self.contacts[contact]) if contact else None
            row = Case(
                subject=name,
                status="open",
                case_type_id=self.types[case_type],
                version_id=self._version(work, case_type),
                customer_group_id=contact_row.customer_group_id if contact_row else None,
                main_contact_id=contact_row.id if contact_row else None,
                raiser_id=self.users[raiser] if raiser else None,
                priority="normal",
                created_at=work.now,
                updated_at=work.now,
                workflow_state="",
                row_version=1,
            )
            work.session.add(row)
            work.session.flush()
            row.number = f"T-{row.id:06d}"
            for c in contacts:
                work.session.add(CaseContact(case_id=row.id, contact_id=self.contacts[c]))
            if restricted or hidden:
                work.session.add(
                    CaseAccess(case_id=row.id, restricted=restricted, hidden_from_portal=hidden)
                )
            for who, level in grants:
                is_group = who in self.groups
                work.session.add(
                    CaseGrant(
                        case_id=row.id,
                        level=level,
                        group_id=self.groups[who] if is_group else None,
                        user_id=None if is_group else self.users[who],
                    )
                )
            for who in collaborators:
                work.session.add(CaseCollaborator(case_id=row.id, user_id=self.users[who]))
            self.cases[name] = row.id
        if task_groups:
            self.task(name, groups=task_groups)
        return row.id

    def task(
        self,
        case: str,
        *,
        role: str | None = None,
        groups: tuple[str, ...] = (),
        users: tuple[str, ...] = (),
        owner: bool = False,
        claimed_by: str | None = None,
        state: str = "open",
    ) -> int:
        """A task row of ``case`` in a lane playing ``role``, for candidate groups, users
        and/or the case's owner (as the engine mirrors a human task)."""
        with self._unit() as work:
            task = HumanTask(
                case_id=self.cases[case],
                engine_task_id=unique("e"),
                element_id="t",
                name=f"Task ({role or 'manager'})",
                role=role,
                state=state,
                claimed_by_id=self.users[claimed_by] if claimed_by else None,
                created_at=work.now,
                row_version=1,
            )
            work.session.add(task)
            work.session.flush()
            for g in groups:
                work.session.add(
                    TaskCandidate(task_id=task.id, kind="group", group_id=self.groups[g])
                )
            for u in users:
                work.session.add(TaskCandidate(task_id=task.id, kind="user", user_id=self.users[u]))
            if owner:
                work.session.add(TaskCandidate(task_id=task.id, kind="owner"))
            return task.id

    def _version(self, work: UnitOfWork, case_type: str) -> int:
        kind = work.session.get(CaseType, self.types[case_type])
        assert kind is not None and kind.current_version_id is not None
        return kind.current_version_id
