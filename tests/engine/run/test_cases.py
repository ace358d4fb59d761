"""A support case from opening to closing, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from engine.errors import Conflict, Forbidden, InvalidInput
from engine.run import cases, posts, task_queries, tasks
from engine.store.models import AuditEntry, Case, CaseContact, HumanTask
from people import directory
from rules import load_subject, posts_query
from rules.admin import set_portal_access
from tests.conftest import Support


def _open(support: Support, subject: str = "Printer jams", raiser: str = "carol") -> str:
    rt = support.runtime
    with rt.unit() as work:
        case = cases.open_case(
            work,
            case_type="SUPPORT",
            subject=subject,
            raiser=support.users[raiser],
            actor_id=support.users[raiser].id,
        )
        return case.number


def _inbox(support: Support, user: str, scope: str = "all") -> list[tuple[int, str, str]]:
    with support.runtime.unit() as work:
        who = directory.user_by_name(work, user)
        return [
            (i.task.id, i.case_number, i.task.name)
            for i in task_queries.inbox(work, who, scope=scope)
        ]


def _complete(support: Support, task_id: int, user: str, data: dict | None = None) -> None:
    with support.runtime.unit() as work:
        tasks.complete(work, task_id=task_id, user=directory.user_by_name(work, user), data=data)


def _task_named(support: Support, number: str, name: str) -> int:
    with support.runtime.unit() as work:
        case = cases.case_by_number(work, number)
        return next(
            i.task.id for i in task_queries.case_tasks(work, case.id) if i.task.name == name
        )


def test_it_opens_a_case_with_a_number_and_a_triage_task_for_the_service_desk(support: Support):
    number = _open(support)
    assert number == "C-000001"
    assert [name for _, n, name in _inbox(support, "alice") if n == number] == ["Triage case"]
    assert [name for _, n, name in _inbox(support, "bob") if n == number] == ["Triage case"]
    assert _inbox(support, "sam") == []
    assert _inbox(support, "carol") == []


def test_it_runs_the_whole_lifecycle_and_closes_the_case(support: Support):
    number = _open(support)
    _complete(
        support,
        _task_named(support, number, "Triage case"),
        "alice",
        {"category": "hardware", "priority": "high", "needs_investigation": False},
    )
    _complete(
        support,
        _task_named(support, number, "Propose resolution"),
        "bob",
        {"resolution": "Replace the roller"},
    )
    confirm = _task_named(support, number, "Confirm resolution")
    assert [t for t, _, _ in _inbox(support, "carol")] == [confirm]
    _complete(support, confirm, "carol", {"resolved": "true"})
    with support.runtime.unit() as work:
        case = cases.case_by_number(work, number)
        assert case.status == "closed" and case.closed_at is not None
        assert cases.case_data(work, case)["resolution"] == "Replace the roller"
        actions = [
            (e.entity, e.action)
            for e in work.session.scalars(
                select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.id)
            )
        ]
    assert actions[0] == ("case", "opened")
    assert actions.count(("task", "completed")) == 3
    assert actions[-1] == ("case", "closed")


def test_it_routes_to_specialists_only_when_triage_asks_for_it(support: Support):
    number = _open(support)
    _complete(
        support,
        _task_named(support, number, "Triage case"),
        "alice",
        {"needs_investigation": True, "triage_note": "logs please"},
    )
    assert [name for _, _, name in _inbox(support, "sam")] == ["Investigate"]
    assert _inbox(support, "alice") == []


def test_it_joins_membership_at_query_time(support: Support):
    number = _open(support)
    assert _inbox(support, "mona") == []
    with support.runtime.unit() as work:
        directory.add_member(work, username="mona", group="service-desk")
    assert [n for _, n, _ in _inbox(support, "mona")] == [number]
    with support.runtime.unit() as work:
        directory.remove_member(work, username="mona", group="service-desk")
    assert _inbox(support, "mona") == []


def test_it_refuses_a_non_member_and_a_former_member(support: Support):
    number = _open(support)
    triage = _task_named(support, number, "Triage case")
    with pytest.raises(Forbidden, match="group service-desk"):
        _complete(support, triage, "sam", {})
    with support.runtime.unit() as work:
        tasks.claim(work, task_id=triage, user=support.users["alice"])
    with support.runtime.unit() as work:
        directory.remove_member(work, username="alice", group="service-desk")
    with pytest.raises(Forbidden):
        _complete(support, triage, "alice", {})


def test_it_lists_every_bad_form_field_and_stores_nothing(support: Support):
    number = _open(support)
    triage = _task_named(support, number, "Triage case")
    with support.runtime.unit() as work:
        version_before = cases.case_by_number(work, number).row_version
    with pytest.raises(InvalidInput) as refused:
        _complete(
            support,
            triage,
            "alice",
            {
                "category": "toaster",
                "priority": 7,
                "needs_investigation": "maybe",
                "is_admin": True,
            },
        )
    assert set(refused.value.errors) == {"category", "priority", "needs_investigation", "is_admin"}
    assert "hardware" in refused.value.errors["category"]
    with support.runtime.unit() as work:
        task = work.session.get(HumanTask, triage)
        assert task.state == "open"
        case = cases.case_by_number(work, number)
        assert case.row_version == version_before


def test_it_requires_required_fields(support: Support):
    number = _open(support)
    _complete(support, _task_named(support, number, "Triage case"), "alice", {})
    with pytest.raises(InvalidInput) as refused:
        _complete(
            support,
            _task_named(support, number, "Propose resolution"),
            "alice",
            {"resolution": "   "},
        )
    assert refused.value.errors == {"resolution": "is required"}


def test_it_refuses_to_close_a_case_with_open_tasks(support: Support):
    number = _open(support)
    with support.runtime.unit() as work, pytest.raises(Conflict, match="1 open task"):
        cases.close_case(work, number=number, actor_id=support.users["alice"].id)


def test_it_keeps_claims_exclusive_and_hands_over_only_to_candidates(support: Support):
    number = _open(support)
    triage = _task_named(support, number, "Triage case")
    users = support.users
    with support.runtime.unit() as work:
        tasks.claim(work, task_id=triage, user=users["alice"])
    with support.runtime.unit() as work, pytest.raises(Conflict, match="claimed by alice"):
        tasks.claim(work, task_id=triage, user=users["bob"])
    assert _inbox(support, "bob", scope="groups") == []
    with support.runtime.unit() as work, pytest.raises(Forbidden):
        tasks.reassign(work, task_id=triage, actor=users["alice"], to=users["sam"])
    with support.runtime.unit() as work:
        tasks.delegate(work, task_id=triage, actor=users["alice"], to=users["bob"])
    assert [t for t, _, _ in _inbox(support, "bob", scope="mine")] == [triage]
    with support.runtime.unit() as work:
        tasks.release(work, task_id=triage, user=users["bob"])
    assert [t for t, _, _ in _inbox(support, "alice", scope="mine")] == [triage]


def test_it_keeps_the_spec_out_of_the_saved_case(support: Support):
    number = _open(support)
    with support.runtime.unit() as work:
        state = json.loads(cases.case_by_number(work, number).workflow_state)
    assert "spec" not in state["workflow"]
    assert "subprocess_specs" not in state["workflow"]


def test_it_records_an_append_only_audit_log(support: Support):
    _open(support)
    with support.runtime.unit() as work:
        assert work.session.scalar(select(AuditEntry.id).limit(1)) is not None
    with pytest.raises(Exception, match="append-only"), support.runtime.db.begin() as connection:
        connection.execute(text("update audit_log set action = 'forged'"))
    with pytest.raises(Exception, match="append-only"), support.runtime.db.begin() as connection:
        connection.execute(text("delete from audit_log"))


def test_it_stores_the_earliest_timer_due_time_on_the_case(support: Support, clock):
    number = _open(support)
    with support.runtime.unit() as work:
        case = work.session.scalar(select(Case).where(Case.number == number))
        assert case.next_timer_due is not None
        assert (case.next_timer_due - clock.now()).total_seconds() == 4 * 3600


def test_it_gives_owner_tasks_only_to_the_raiser_and_contacts_of_that_case(support: Support):
    carols = _open(support, "Carol's printer", raiser="carol")
    _open(support, "Dave's invoice", raiser="dave")
    _complete(support, _task_named(support, carols, "Triage case"), "alice", {})
    _complete(
        support,
        _task_named(support, carols, "Propose resolution"),
        "alice",
        {"resolution": "Reboot"},
    )
    confirm = _task_named(support, carols, "Confirm resolution")
    assert [t for t, _, _ in _inbox(support, "dave")] == []
    with pytest.raises(Forbidden, match="the case's owner"):
        _complete(support, confirm, "dave", {"resolved": True})
    with support.runtime.unit() as work:
        directory.add_customer_group(work, name="ACME")
        erin = directory.add_user(work, username="erin")
        contact = directory.add_contact(work, name="Erin", customer_group="ACME", username="erin")
        case = cases.case_by_number(work, carols)
        work.session.add(CaseContact(case_id=case.id, contact_id=contact.id))
    assert [t for t, _, _ in _inbox(support, "erin")] == [confirm]
    with support.runtime.unit() as work:
        assert task_queries.is_eligible(work, confirm, erin)


def test_it_keeps_internal_posts_out_of_the_customer_stream(support: Support):
    number = _open(support)
    with support.runtime.unit() as work:
        posts.add_post(work, number=number, author=support.users["carol"], body="Still broken")
        posts.add_post(
            work, number=number, author=support.users["alice"], body="Vendor bug", internal=True
        )
        with pytest.raises(InvalidInput):
            posts.add_post(work, number=number, author=support.users["alice"], body="  ")
    with support.runtime.unit() as work:
        set_portal_access(work, username="carol", view="own", edit="own", parent_visibility=False)
    with support.runtime.unit() as work:
        case_id = cases.case_by_number(work, number).id
        seen = {
            who: [
                (p.body, p.internal)
                for p in work.session.scalars(
                    posts_query(load_subject(work, support.users[who]), case_id)
                )
            ]
            for who in ("carol", "alice", "sam")
        }
    assert seen == {
        "carol": [("Still broken", False)],
        "alice": [("Still broken", False), ("Vendor bug", True)],
        "sam": [],  # no role in the case type, no task: nothing to read
    }
