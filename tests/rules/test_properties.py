"""Property: for random worlds, the SQL filter returns exactly the cases ``decide`` allows.

Runs on SQLite and on PostgreSQL (the ``world`` fixture follows ``db_url``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import Level
from tests.rules.conftest import visible
from tests.rules.world import World

GROUPS = ("g0", "g1", "g2")
TYPES = ("t0", "t1")

maybe_type = st.sampled_from((None, *TYPES))


@st.composite
def worlds(draw: st.DrawFn) -> dict:
    customers = draw(st.integers(1, 4))
    return {
        "parents": [
            draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
            for i in range(customers)
        ],
        "roles": {
            t: draw(
                st.dictionaries(
                    st.sampled_from(("manager", "monitor", "escalation")),
                    st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
                    max_size=2,
                )
            )
            for t in TYPES
        },
        "permissions": [
            {
                "group": g,
                "types": draw(st.lists(maybe_type, max_size=2, unique=True)),
                "write": draw(st.booleans()),
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
                "portal": draw(
                    st.one_of(
                        st.none(),
                        st.tuples(
                            st.sampled_from(("own", "all")),
                            st.sampled_from(("own", "all")),
                            st.booleans(),
                        ),
                    )
                ),
            }
            for _ in range(draw(st.integers(1, 4)))
        ],
        "cases": [
            {
                "type": draw(st.sampled_from(TYPES)),
                "contact": draw(st.one_of(st.none(), st.integers(0, 5))),
                "raiser": draw(st.one_of(st.none(), st.integers(0, 3))),
                "extra": draw(st.lists(st.integers(0, 5), max_size=2, unique=True)),
                "restricted": draw(st.booleans()),
                "hidden": draw(st.booleans()),
                "grants": draw(
                    st.lists(
                        st.tuples(
                            st.one_of(st.sampled_from(GROUPS), st.integers(0, 3)),
                            st.sampled_from(("read", "full")),
                        ),
                        max_size=2,
                    )
                ),
                "collaborators": draw(st.lists(st.integers(0, 3), max_size=2, unique=True)),
                "task_groups": draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True)),
            }
            for _ in range(draw(st.integers(1, 7)))
        ],
    }


def build(world: World, spec: dict) -> list[str]:
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
            write=p["write"],
            customers=tuple(None if c is None else f"c{c}" for c in p["customers"]),
        )
    users = []
    for i, u in enumerate(spec["users"]):
        name = f"u{i}"
        world.user(name, admin=u["admin"], groups=tuple(u["groups"]))
        world.contact(f"k{i}", f"c{u['customer']}", user=name)
        if u["portal"]:
            view, edit, parent = u["portal"]
            world.portal(name, view=view, edit=edit, parent=parent)
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
        world.case(
            f"case{n}",
            c["type"],
            contact=None if c["contact"] is None else contacts[c["contact"] % len(contacts)],
            raiser=user(c["raiser"]),
            contacts=tuple({contacts[x % len(contacts)] for x in c["extra"]}),
            restricted=c["restricted"],
            hidden=c["hidden"],
            grants=grants,
            collaborators=tuple(u for u in map(user, c["collaborators"]) if u),
            task_groups=tuple(c["task_groups"]),
        )
    return users


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds())
def test_it_filters_in_sql_exactly_what_the_rules_allow(world: World, spec: dict):
    for handles in (
        world.users,
        world.groups,
        world.customers,
        world.contacts,
        world.types,
        world.cases,
    ):
        handles.clear()  # each example builds and checks only its own rows
    for name in build(world, spec):
        for level in (Level.SUMMARY, Level.READ, Level.WRITE):
            visible(world, name, level)  # asserts SQL == Python for every case
