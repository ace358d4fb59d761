"""Properties of the one access decision, over random worlds, on SQLite and PostgreSQL.

A world has users (administrators, agents in groups, portal customers with every View/Edit
level and the parent toggle), customer groups with parents, case types whose roles are
held by groups, permission levels no/read/write, cases that are restricted (with grants to
users, groups and administrators), hidden from the portal, with collaborators and tasks in
every lane.  For every user:

(a) the SQL filter returns exactly the cases the Python rules give each level;
(b) the inbox holds exactly the open tasks they may act on of cases they may see;
(c) every action the rules layer lets through (the functions the CLI, the API and the pages
    call) is one the decision allows, and "not found" comes exactly when the decision says
    they may not see the case - never "forbidden" or a conflict, which would reveal it;
    editing a case (subject and priority, assigning, delegating, moving, reopening,
    managing collaborators) included;
(d) collaborators added and removed through those doors get exactly what the decision gives
    them, in every list: read and stream access from collaboration alone, unless their
    level for the case type is "no" (seed 000), and nothing on a restricted case;
(e) child records (linked to one or two cases, shared with users and groups, by hand or
    propagated, some restricted or checked out): the SQL filter shows exactly the records
    the Python decision does; nobody sees one without reading one of its cases, nor from
    the case alone (seed 000); their doors answer "not found" exactly for unseen records,
    and restricting one succeeds only for administrators and only when no seed-004 guard
    names a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.errors import CaseworkError, Conflict, Forbidden, InvalidInput, NotFound
from engine.run import task_queries
from engine.store.access import CaseItem, Item, ItemGrant
from engine.store.models import Case, CaseType, Group, HumanTask, User
from rules import Level, case_acts, child_records, load_subject, task_acts
from rules.decision import decide
from rules.facts import load_facts
from rules.restriction import grant, record_blockers, restrict, unrestrict
from rules.visibility import case_filter, decide_level
from tests.rules.world import World

GROUPS = ("g0", "g1", "g2")
TYPES = ("t0", "t1")
LANE_ROLES = ("manager", "task_user", "escalation", "monitor", "owner")

maybe_type = st.sampled_from((None, *TYPES))
user_index = st.integers(0, 4)


@st.composite
def tasks_of_a_case(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [
        {
            "role": draw(st.sampled_from(LANE_ROLES)),
            "groups": draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True)),
            "users": draw(st.lists(user_index, max_size=1, unique=True)),
            "claimed_by": draw(st.one_of(st.none(), user_index)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    customers = draw(st.integers(1, 4))
    portal_levels = st.sampled_from(
        (("own", "own", False), ("all", "own", False), ("all", "all", False), ("all", "all", True))
    )
    return {
        "parents": [
            draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
            for i in range(customers)
        ],
        "roles": {
            t: draw(
                st.dictionaries(
                    st.sampled_from(("manager", "monitor", "escalation", "task_user")),
                    st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True),
                    max_size=3,
                )
            )
            for t in TYPES
        },
        "permissions": [
            {
                "group": g,
                "types": draw(st.lists(maybe_type, max_size=2, unique=True)),
                "level": draw(st.sampled_from(("no", "read", "write"))),
                "customers": draw(
                    st.lists(
                        st.one_of(st.none(), st.integers(0, customers - 1)), max_size=2, unique=True
                    )
                ),
            }
            for g in GROUPS
        ],
        "users": [
            {
                "admin": draw(st.booleans()) and draw(st.booleans()),
                "groups": draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True)),
                "customer": draw(st.integers(0, customers - 1)),
                "portal": draw(st.one_of(st.none(), portal_levels)),
            }
            for _ in range(draw(st.integers(1, 5)))
        ],
        "cases": [
            {
                "type": draw(st.sampled_from(TYPES)),
                "contact": draw(st.one_of(st.none(), st.integers(0, 8))),
                "raiser": draw(st.one_of(st.none(), user_index)),
                "extra": draw(st.lists(st.integers(0, 8), max_size=2, unique=True)),
                "restricted": draw(st.booleans()),
                "hidden": draw(st.booleans()),
                "grants": draw(
                    st.lists(
                        st.tuples(
                            st.one_of(st.sampled_from(GROUPS), user_index),
                            st.sampled_from(("read", "full")),
                        ),
                        max_size=2,
                    )
                ),
                "collaborators": draw(st.lists(user_index, max_size=2, unique=True)),
                "tasks": draw(tasks_of_a_case()),
            }
            for _ in range(draw(st.integers(1, 6)))
        ],
    }


def build(world: World, spec: dict[str, Any]) -> list[str]:
    for g in GROUPS:
        world.group(g)
    for i, parent in enumerate(spec["parents"]):
        world.customer(f"c{i}", parent=None if parent is None else f"c{parent}")
    for t in TYPES:
        world.case_type(t, roles={r: tuple(gs) for r, gs in spec["roles"][t].items()})
    for p in spec["permissions"]:
        world.permit(
            p["group"],
            types=tuple(p["types"]),
            level=p["level"],
            customers=tuple(None if c is None else f"c{c}" for c in p["customers"]),
        )
    users = []
    for i, u in enumerate(spec["users"]):
        name = f"u{i}"
        world.user(name, admin=u["admin"], groups=tuple(u["groups"]))
        world.contact(f"k{i}", f"c{u['customer']}", user=name)
        if u["portal"]:
            view, edit, parent = u["portal"]
            world.portal(name, view=view, edit=edit, parent=parent, types=TYPES[:1])
        users.append(name)
    for i in range(len(spec["parents"])):
        world.contact(f"x{i}", f"c{i}")
    contacts = list(world.contacts)

    def user(index: int | None) -> str | None:
        return None if index is None or index >= len(users) else users[index]

    for n, c in enumerate(spec["cases"]):
        grants = tuple(
            (g if isinstance(g, str) else user(g), level)
            for g, level in c["grants"]
            if isinstance(g, str) or user(g)
        )
        name = f"case{n}"
        world.case(
            name,
            c["type"],
            contact=None if c["contact"] is None else contacts[c["contact"] % len(contacts)],
            raiser=user(c["raiser"]),
            contacts=tuple({contacts[x % len(contacts)] for x in c["extra"]}),
            restricted=c["restricted"],
            hidden=c["hidden"],
            grants=grants,
            collaborators=tuple(u for u in map(user, c["collaborators"]) if u),
        )
        for t in c["tasks"]:
            world.task(
                name,
                role=t["role"],
                groups=tuple(t["groups"]),
                users=tuple(u for u in map(user, t["users"]) if u),
                owner=t["role"] == "owner",
                claimed_by=user(t["claimed_by"]),
            )
    return users


class _Undo(Exception):
    """Raised at the end of a unit so that nothing the checks did is kept."""


def _outcome(work: Any, act: Callable[[], object]) -> type[Exception] | None:
    """Run one action in a savepoint that is always rolled back; which error, if any."""
    savepoint = work.session.begin_nested()
    try:
        act()
    except CaseworkError as exc:
        return type(exc)
    finally:
        savepoint.rollback()
        work.session.expire_all()  # rows changed by statements in it: read them again
    return None


def _check_actions(world: World, name: str, users: list[str]) -> None:
    """(c): the rules layer lets through only what the decision allows."""
    case_ids = list(world.cases.values())
    try:
        with world.rt.unit() as work:
            user = work.session.get(User, world.users[name])
            subject = load_subject(work, user)
            others = [work.session.get(User, world.users[u]) for u in users if u != name]
            group = work.session.get(Group, world.groups["g0"]).name
            opens = {t.key for t in case_acts.openable_types(work, subject)}
            for case in work.session.scalars(select(Case).where(Case.id.in_(case_ids))):
                facts = load_facts(work, case, subject)
                sees = decide(subject, facts, "summary").allowed
                number = case.number
                acts: dict[str, Callable[[], object]] = {
                    "post": partial(case_acts.add_post, work, subject, user, number, "x"),
                    "post_internal": partial(
                        case_acts.add_post, work, subject, user, number, "x", internal=True
                    ),
                    "hide": partial(case_acts.set_hidden, work, subject, number, True),
                    "restrict": partial(restrict, work, subject, case),
                    "grant": partial(grant, work, subject, case, groups=[(group, "read")]),
                    "unrestrict": partial(unrestrict, work, subject, case),
                    "explain": partial(case_acts.explain_for, work, subject, subject, number),
                }
                other_type = work.session.scalar(
                    select(CaseType.key).where(
                        CaseType.id.in_(list(world.types.values())),
                        CaseType.id != case.case_type_id,
                    )
                )
                acts.update(
                    {
                        # a bad priority is refused as input only past the permission check
                        # (a world's cases run no process that an edit could save)
                        "edit": partial(case_acts.edit_case, work, subject, number, priority="?"),
                        "assign": partial(case_acts.assign_case, work, subject, number, user),
                        "reopen": partial(case_acts.reopen_case, work, subject, number),
                        "collaborators": partial(
                            case_acts.set_collaborator, work, subject, number, user, present=True
                        ),
                    }
                )
                if other_type is not None:
                    acts["move"] = partial(case_acts.move_case, work, subject, number, other_type)
                if others:
                    acts["delegate_case"] = partial(
                        case_acts.assign_case, work, subject, number, others[0], delegate=True
                    )
                if task_queries.case_tasks(
                    work, case.id
                ):  # closing is refused while tasks are open
                    acts["close"] = partial(case_acts.close_case, work, subject, user, number)
                for action, act in acts.items():
                    outcome = _outcome(work, act)
                    allowed = decide(subject, facts, action).allowed
                    assert (outcome is NotFound) == (not sees), (name, number, action, outcome)
                    if outcome in (None, Conflict, InvalidInput):  # past the permission check
                        assert allowed, (name, number, action, "let through, decision denies")
                    if outcome is Forbidden:  # moving also needs the right to open the new type
                        refused_target = action == "move" and other_type not in opens
                        assert not allowed or refused_target, (name, number, action)
            for task in work.session.scalars(
                select(HumanTask).where(HumanTask.case_id.in_(case_ids))
            ):
                case = work.session.get(Case, task.case_id)
                facts = load_facts(work, case, subject)
                sees = decide(subject, facts, "summary").allowed
                task_id = task.id
                acts = {
                    "explain": partial(task_acts.show_task, work, subject, user, task_id),
                    "claim": partial(task_acts.claim, work, subject, user, task_id),
                    "release": partial(task_acts.release, work, subject, user, task_id),
                }
                if others:
                    acts["reassign"] = partial(
                        task_acts.hand_over, work, subject, user, task_id, others[0], delegate=False
                    )
                for action, act in acts.items():
                    outcome = _outcome(work, act)
                    assert (outcome is NotFound) == (not sees), (name, task_id, action, outcome)
                    if outcome is None or (outcome is Conflict and task.state == "open"):
                        assert decide(subject, facts, action).allowed, (name, task_id, action)
            raise _Undo
    except _Undo:
        pass


def _check_filters(world: World, name: str) -> None:
    """(a): at every level, the SQL filter returns exactly the cases the rules give it."""
    case_ids = list(world.cases.values())
    with world.rt.unit() as work:
        subject = load_subject(work, work.session.get(User, world.users[name]))
        levels = {
            case.id: decide_level(subject, load_facts(work, case, subject))[0]
            for case in work.session.scalars(select(Case).where(Case.id.in_(case_ids)))
        }
        for level in (Level.SUMMARY, Level.READ, Level.STREAM, Level.WRITE):
            sql = set(
                work.session.scalars(
                    select(Case.id).where(Case.id.in_(case_ids), case_filter(subject, level))
                )
            )
            python = {case_id for case_id, got in levels.items() if got >= level}
            assert sql == python, (name, level, sorted(sql), sorted(python))


def _check_inbox(world: World, name: str) -> None:
    """(b): the inbox is exactly the open tasks they may act on of cases they may see."""
    case_ids = list(world.cases.values())
    with world.rt.unit() as work:
        user = work.session.get(User, world.users[name])
        subject = load_subject(work, user)
        inbox = {i.task.id for i in task_acts.inbox(work, subject, user, limit=1000)}
        expected = set()
        for task in work.session.scalars(
            select(HumanTask).where(HumanTask.case_id.in_(case_ids), HumanTask.state == "open")
        ):
            case = work.session.get(Case, task.case_id)
            seen = decide(subject, load_facts(work, case, subject), "summary").allowed
            if seen and task_queries.is_eligible(work, task.id, user):
                expected.add(task.id)
    assert inbox == expected, (name, sorted(inbox), sorted(expected))


def fresh(world: World, spec: dict[str, Any]) -> list[str]:
    """Build ``spec``'s world and return its users' names; the handles of earlier examples
    are forgotten, so each example builds and checks only its own rows."""
    for handles in (
        world.users,
        world.groups,
        world.customers,
        world.contacts,
        world.types,
        world.cases,
    ):
        handles.clear()
    with world.batch():
        return build(world, spec)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds())
def test_every_entry_point_agrees_with_the_one_decision(world: World, spec: dict[str, Any]):
    users = fresh(world, spec)
    for name in users:
        _check_filters(world, name)
        _check_inbox(world, name)
        _check_actions(world, name, users)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds(), data=st.data())
def test_collaborators_added_through_the_door_get_what_the_decision_gives(
    world: World, spec: dict[str, Any], data: st.DataObject
):
    users = fresh(world, spec)
    world.user("boss", admin=True)
    changes = data.draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(world.cases)), st.sampled_from(users), st.booleans()),
            max_size=6,
        )
    )
    with world.rt.unit() as work:
        boss = work.session.get(User, world.users["boss"])
        admin = load_subject(work, boss)
        for case_name, name, present in changes:
            case = work.session.get(Case, world.cases[case_name])
            person = work.session.get(User, world.users[name])
            if load_subject(work, person).portal is not None and present:
                continue  # customers are refused as collaborators (test_case_edit)
            if person.id == case.assignee_id:
                continue
            case_acts.set_collaborator(work, admin, case.number, person, present=present)
    for name in users:
        _check_filters(world, name)  # every list agrees with the decision after the changes
        with world.rt.unit() as work:
            subject = load_subject(work, work.session.get(User, world.users[name]))
            if subject.portal is not None or subject.is_admin:
                continue
            for case in work.session.scalars(
                select(Case).where(Case.id.in_(list(world.cases.values())))
            ):
                facts = load_facts(work, case, subject)
                if subject.user_id not in facts.collaborators or facts.restricted:
                    continue
                level = decide_level(subject, facts)[0]
                if subject.denies_type(case.case_type_id):  # "no": nothing from collaboration
                    raised = facts.raiser_id == subject.user_id
                    assert level <= Level.SUMMARY or raised, (name, case.number, level)
                else:
                    assert level >= Level.STREAM, (name, case.number, level)


@st.composite
def child_records_of(draw: st.DrawFn, cases: int, users: int) -> list[dict[str, Any]]:
    who = st.one_of(st.sampled_from(GROUPS), st.integers(0, users - 1))
    return [
        {
            "cases": draw(st.lists(st.integers(0, cases - 1), min_size=1, max_size=2, unique=True)),
            "kind": draw(st.sampled_from(("mail", "call", "note", "attachment", "todo"))),
            "grants": draw(st.lists(st.tuples(who, st.booleans()), max_size=3)),
            "restricted": draw(st.booleans()) and draw(st.booleans()),
            "checked_out": draw(st.booleans()) and draw(st.booleans()),
        }
        for _ in range(draw(st.integers(1, 5)))
    ]


def _add_records(world: World, users: list[str], specs: list[dict[str, Any]]) -> list[int]:
    """Records as the engine stores them (``propagated`` grants as propagation leaves them)."""
    ids = []
    with world.rt.unit() as work:
        for r in specs:
            item = Item(
                kind=r["kind"],
                name="r",
                restricted=r["restricted"],
                checked_out_to="Elsewhere" if r["checked_out"] else None,
            )
            work.session.add(item)
            work.session.flush()
            for c in r["cases"]:
                work.session.add(CaseItem(case_id=world.cases[f"case{c}"], item_id=item.id))
            for target, propagated in r["grants"]:
                is_group = isinstance(target, str)
                work.session.add(
                    ItemGrant(
                        item_id=item.id,
                        user_id=None if is_group else world.users[users[target]],
                        group_id=world.groups[target] if is_group else None,
                        propagated=propagated and not r["restricted"],
                    )
                )
            ids.append(item.id)
    return ids


def _check_records(world: World, name: str, record_ids: list[int]) -> None:
    """(e) for one user."""
    try:
        with world.rt.unit() as work:
            subject = load_subject(work, work.session.get(User, world.users[name]))
            group = work.session.get(Group, world.groups["g0"]).name
            sql = set(
                work.session.scalars(
                    select(Item.id).where(
                        Item.id.in_(record_ids), child_records.record_filter(subject)
                    )
                )
            )
            python = set()
            for item in work.session.scalars(select(Item).where(Item.id.in_(record_ids))):
                seen = child_records.may_see(work, subject, item)
                if seen:
                    python.add(item.id)
                linked = work.session.scalars(
                    select(Case)
                    .join(CaseItem, CaseItem.case_id == Case.id)
                    .where(CaseItem.item_id == item.id)
                )
                reads = any(
                    decide(subject, load_facts(work, c, subject), "read").allowed for c in linked
                )
                listed = work.session.scalar(
                    select(ItemGrant.id).where(
                        ItemGrant.item_id == item.id,
                        (ItemGrant.user_id == subject.user_id)
                        | ItemGrant.group_id.in_(sorted(subject.group_ids)),
                    )
                )
                if seen:  # never from the case alone, never without the case
                    assert reads and subject.portal is None, (name, item.id)
                    assert subject.is_admin or listed is not None, (name, item.id)
                record_id = item.id
                acts: dict[str, Callable[[], object]] = {
                    "show": partial(child_records.record_for, work, subject, record_id),
                    "share": partial(
                        child_records.share_record, work, subject, record_id, groups=[group]
                    ),
                    "check_in": partial(child_records.check_in, work, subject, record_id),
                    "restrict": partial(child_records.restrict_record, work, subject, record_id),
                }
                blocked = bool(record_blockers(work, item))
                works = any(
                    decide(subject, load_facts(work, c, subject), "edit").allowed
                    for c in work.session.scalars(
                        select(Case)
                        .join(CaseItem, CaseItem.case_id == Case.id)
                        .where(CaseItem.item_id == item.id)
                    )
                )
                for action, act in acts.items():
                    outcome = _outcome(work, act)
                    assert (outcome is NotFound) == (not seen), (name, record_id, action, outcome)
                    if action == "share" and outcome is None:  # changing needs working a case
                        assert works, (name, record_id)
                    if action == "restrict" and seen:
                        expected = Forbidden if not subject.is_admin else blocked and Conflict
                        assert outcome is (expected or None), (name, record_id, outcome)
            assert sql == python, (name, sorted(sql), sorted(python))
            raise _Undo
    except _Undo:
        pass


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds(), data=st.data())
def test_child_records_agree_with_the_one_decision(
    world: World, spec: dict[str, Any], data: st.DataObject
):
    users = fresh(world, spec)
    specs = data.draw(child_records_of(len(spec["cases"]), len(users)))
    record_ids = _add_records(world, users, specs)
    for name in users:
        _check_records(world, name, record_ids)
