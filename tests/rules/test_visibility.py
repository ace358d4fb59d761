"""One test per rule of the source documents, each on SQLite and PostgreSQL.

Every assertion goes through ``visible``, which also checks that the SQL filter and
the Python decision agree on every case of the world.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden
from engine.store.access import (
    CaseItem,
    CaseLink,
    Item,
    ResourcePermission,
    TodoAttachment,
)
from engine.store.models import Case, Contact, StreamPost, User
from rules import (
    Level,
    additional_contacts_query,
    contact_filter,
    explain,
    load_subject,
    posts_query,
    related_cases_query,
    resource_filter,
    search_query,
)
from rules.restriction import restrict, restriction_blockers
from tests.rules.conftest import visible
from tests.rules.world import World


def _base(world: World) -> None:
    """Two processes, two customers (one a child of the other), the usual groups."""
    for g in ("sales", "support", "resellers", "admins"):
        world.group(g)
    world.customer("endcust")
    world.customer("reseller")
    world.customer("reseller_child", parent="reseller")
    world.case_type("Sales")
    world.case_type("Products")


def test_it_needs_process_and_customer_group_permission_consol(world: World):
    _base(world)
    world.permit("sales", types=("Sales",), customers=("reseller",))
    world.user("ann", groups=("sales",))
    world.contact("end", "endcust")
    world.contact("res", "reseller")
    for i in range(4):
        world.case(f"sales-end-{i}", "Sales", contact="end")
    for i in range(6):
        world.case(f"sales-res-{i}", "Sales", contact="res")
    world.case("products-res", "Products", contact="res")
    assert visible(world, "ann") == {f"sales-res-{i}" for i in range(6)}


def test_it_refuses_process_permission_without_customer_group_permission(world: World):
    _base(world)
    world.permit("sales", types=("Sales",))
    world.user("ann", groups=("sales",))
    world.contact("res", "reseller")
    world.case("c", "Sales", contact="res")
    world.case("no-contact", "Sales")
    assert visible(world, "ann") == {"no-contact"}


def test_it_lets_admins_see_everything_even_restricted_cases_without_grants(world: World):
    _base(world)
    world.user("root", admin=True)
    world.case("open", "Sales")
    world.case("locked", "Sales", restricted=True)
    assert visible(world, "root", Level.WRITE) == {"open", "locked"}


def test_it_hides_a_restricted_case_from_full_system_permission_without_grant(world: World):
    _base(world)
    world.permit("support", types=(None,), write=True, customers=(None,))
    world.user("sue", groups=("support",))
    world.user("ron", groups=("resellers",))
    world.case("restricted", "Sales", restricted=True, grants=(("ron", "read"),))
    world.case("normal", "Sales")
    assert visible(world, "sue") == {"normal"}
    assert visible(world, "ron") == {"restricted"}
    assert visible(world, "ron", Level.WRITE) == set()


def test_it_grants_restricted_cases_to_groups_with_a_level(world: World):
    _base(world)
    world.user("rae", groups=("resellers",))
    world.case("r", "Sales", restricted=True, grants=(("resellers", "full"),))
    assert visible(world, "rae", Level.WRITE) == {"r"}


def test_it_gives_collaborators_read_and_stream_unless_their_level_is_no_seed_000(world: World):
    _base(world)
    world.permit("support", types=("Products",))
    world.permit("support", types=("Sales",), level="no")
    world.user("col", groups=("support",))
    world.user("nobody")  # no role at all: still a collaborator's read and stream access
    world.contact("end", "endcust")
    world.case("p", "Products", contact="end", collaborators=("col", "nobody"))
    world.case("s", "Sales", contact="end", collaborators=("col",))
    assert visible(world, "col") == {"p"}  # the level "no" for Sales keeps them out
    assert visible(world, "nobody", Level.STREAM) == {"p"}
    assert visible(world, "col", Level.STREAM) == {"p"}
    assert visible(world, "col", Level.WRITE) == set()


def test_it_shows_task_users_only_a_summary(world: World):
    _base(world)
    world.user("tess", groups=("support",))
    world.case("with-task", "Sales", task_groups=("support",))
    assert visible(world, "tess", Level.SUMMARY) == {"with-task"}
    assert visible(world, "tess", Level.READ) == set()


def test_it_lets_the_raiser_read_their_case(world: World):
    _base(world)
    world.user("rita")
    world.case("mine", "Sales", raiser="rita")
    world.case("other", "Sales")
    assert visible(world, "rita") == {"mine"}


def test_it_gives_portal_contacts_their_own_cases_only_at_the_own_level(world: World):
    _base(world)
    world.user("pat")
    world.user("max")
    world.contact("pat", "reseller", user="pat")
    world.contact("colleague", "reseller")
    world.portal("pat", view="own")
    world.case("main", "Sales", contact="pat")
    world.case("additional", "Sales", contact="colleague", contacts=("pat",))
    world.case("colleagues", "Sales", contact="colleague")
    world.case("raised", "Sales", raiser="pat")
    assert visible(world, "pat") == {"main", "additional", "raised"}
    assert visible(world, "pat", Level.STREAM) == {"main", "additional", "raised"}
    assert visible(world, "pat", Level.WRITE) == set()  # customers never work a case


def test_it_gives_portal_view_all_the_customers_cases_and_parent_toggle_the_children(
    world: World,
):
    _base(world)
    for name, edit, parent in (("pia", "own", False), ("paul", "all", True)):
        world.user(name)
        world.contact(name, "reseller", user=name)
        world.portal(name, view="all", edit=edit, parent=parent)
    world.contact("child-contact", "reseller_child")
    world.contact("peer", "reseller")
    world.case("peer-case", "Sales", contact="peer")
    world.case("child-case", "Sales", contact="child-contact")
    world.case("hidden", "Sales", contact="peer", hidden=True)
    assert visible(world, "pia") == {"peer-case"}
    assert visible(world, "pia", Level.STREAM) == set()  # edit "own": view only here
    assert visible(world, "paul") == {"peer-case", "child-case"}
    # edit "all" lets paul post on his customer's cases; a child's cases are view only
    assert visible(world, "paul", Level.STREAM) == {"peer-case"}
    assert visible(world, "paul", Level.WRITE) == set()


def test_it_never_shows_hidden_cases_in_the_portal_even_own_ones(world: World):
    _base(world)
    world.user("pat")
    world.contact("pat", "reseller", user="pat")
    world.portal("pat", view="all", edit="all")
    world.case("hidden-own", "Sales", contact="pat", hidden=True)
    assert visible(world, "pat") == set()


def test_it_explains_each_decision_with_the_rule_trail(world: World):
    _base(world)
    world.permit("sales", types=("Sales",))
    world.user("ann", groups=("sales",))
    world.contact("res", "reseller")
    case_id = world.case("c", "Sales", contact="res")
    with world.rt.unit() as work:
        subject = load_subject(work, work.session.get(User, world.users["ann"]))
        decision = explain(work, subject, work.session.get(Case, case_id), "read")
    assert not decision.allowed
    text = "\n".join(decision.lines())
    assert "read permission for the case type but not for the customer group" in text
    assert [step.rule for step in decision.trail] == [
        "admin",
        "portal_hidden",
        "restriction",
        "portal",
        "system",
        "escalation",
        "collaborator",
        "raiser",
        "task_user",
    ]
    assert decision.rule == "none"  # no rule gives ann access to that case


def test_it_keeps_internal_posts_from_portal_users(world: World):
    _base(world)
    world.user("pat")
    world.contact("pat", "reseller", user="pat")
    world.portal("pat")
    world.permit("support", types=("Sales",), customers=(None,))
    world.user("sue", groups=("support",))
    case_id = world.case("c", "Sales", contact="pat")
    with world.rt.unit() as work:
        for internal in (False, True):
            work.session.add(
                StreamPost(
                    case_id=case_id,
                    author_id=world.users["sue"],
                    body=f"internal={internal}",
                    internal=internal,
                    created_at=work.now,
                )
            )
    with world.rt.unit() as work:
        seen = {}
        for who in ("pat", "sue"):
            subject = load_subject(work, work.session.get(User, world.users[who]))
            seen[who] = [p.body for p in work.session.scalars(posts_query(subject, case_id))]
    assert seen == {"pat": ["internal=False"], "sue": ["internal=False", "internal=True"]}


@pytest.mark.parametrize("obstacle", ["shared item", "checked out", "crowded to-do", "twice"])
def test_it_refuses_to_restrict_when_linked_items_would_leak(world: World, obstacle: str):
    _base(world)
    world.user("root", admin=True)
    case_id = world.case("c", "Sales")
    other = world.case("other", "Sales")
    with world.rt.unit() as work:
        item = Item(
            kind="attachment",
            name="contract.pdf",
            checked_out_to="ACME Legal" if obstacle == "checked out" else None,
        )
        work.session.add(item)
        work.session.flush()
        work.session.add(CaseItem(case_id=case_id, item_id=item.id))
        if obstacle == "shared item":
            work.session.add(CaseItem(case_id=other, item_id=item.id))
        if obstacle == "crowded to-do":  # a to-do of the other case carrying the item
            todo = Item(kind="todo", name="Review")
            work.session.add(todo)
            work.session.flush()
            work.session.add_all(
                [
                    TodoAttachment(todo_id=todo.id, item_id=item.id),
                    CaseItem(case_id=other, item_id=todo.id),
                ]
            )
    with world.rt.unit() as work:
        subject = load_subject(work, work.session.get(User, world.users["root"]))
        case = work.session.get(Case, case_id)
        if obstacle == "twice":
            restrict(work, subject, case)
    with world.rt.unit() as work:
        subject = load_subject(work, work.session.get(User, world.users["root"]))
        case = work.session.get(Case, case_id)
        expected = {
            "shared item": "also belongs to 1 other case",
            "checked out": "checked out to ACME Legal",
            "crowded to-do": "carries other cases",
            "twice": "already restricted",
        }[obstacle]
        assert any(expected in b for b in restriction_blockers(work, case))
        with pytest.raises(Conflict, match=expected):
            restrict(work, subject, case)


def test_it_lets_only_admins_restrict_and_no_grants_means_admins_only(world: World):
    _base(world)
    world.permit("support", types=(None,), write=True, customers=(None,))
    world.user("sue", groups=("support",))
    world.user("root", admin=True)
    case_id = world.case("c", "Sales")
    with world.rt.unit() as work:
        sue = load_subject(work, work.session.get(User, world.users["sue"]))
        with pytest.raises(Forbidden):
            restrict(work, sue, work.session.get(Case, case_id))
    with world.rt.unit() as work:
        root = load_subject(work, work.session.get(User, world.users["root"]))
        restrict(work, root, work.session.get(Case, case_id))
    assert visible(world, "sue") == set()
    assert visible(world, "root") == {"c"}


def test_it_lists_contacts_related_cases_and_search_results_only_when_readable(world: World):
    _base(world)
    world.permit("sales", types=("Sales",), customers=("reseller",))
    world.user("ann", groups=("sales",))
    world.contact("res", "reseller")
    world.contact("end", "endcust")
    main = world.case("Printer 50% off_label", "Sales", contact="res", contacts=("end",))
    readable = world.case("Related readable", "Sales", contact="res")
    hidden = world.case("Related hidden", "Sales", contact="end")
    with world.rt.unit() as work:
        work.session.add_all(
            [
                CaseLink(case_id=main, other_case_id=readable),
                CaseLink(case_id=main, other_case_id=hidden),
            ]
        )
    with world.rt.unit() as work:
        ann = load_subject(work, work.session.get(User, world.users["ann"]))
        related = [c.id for c in work.session.scalars(related_cases_query(ann, main))]
        extra = [c.name for c in work.session.scalars(additional_contacts_query(ann, main))]
        contacts = set(
            work.session.scalars(
                select(Contact.name).where(
                    Contact.id.in_(list(world.contacts.values())), contact_filter(ann)
                )
            )
        )
        found = [c.subject for c in work.session.scalars(search_query(ann, "50% off_"))]
        wildcard = [c.subject for c in work.session.scalars(search_query(ann, "%"))]
        none = list(work.session.scalars(search_query(ann, "hidden")))
    assert related == [readable]
    assert extra == []  # the additional contact's customer group is not readable
    assert contacts == {"res"}
    assert found == ["Printer 50% off_label"] and wildcard == ["Printer 50% off_label"]
    assert none == []


def test_it_shows_resources_only_of_readable_resource_types(world: World):
    _base(world)
    world.user("ann", groups=("sales",))
    with world.rt.unit() as work:
        work.session.add(
            ResourcePermission(group_id=world.groups["sales"], resource_type="printer")
        )
        work.session.add_all(
            [
                Item(kind="resource", name="P-1", resource_type="printer"),
                Item(kind="resource", name="Server", resource_type="server"),
            ]
        )
    with world.rt.unit() as work:
        ann = load_subject(work, work.session.get(User, world.users["ann"]))
        names = set(work.session.scalars(select(Item.name).where(resource_filter(ann))))
    assert names == {"P-1"}
