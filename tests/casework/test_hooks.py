"""Assignment, collaborators, followers and views, with the shipped support process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.errors import Conflict, NotFound
from engine.run import cases, posts, tasks
from engine.runtime import Runtime
from engine.store.access import CaseCollaborator, CaseFollower, Notification
from engine.store.models import HumanTask, User
from mail.outbox import list_messages
from people import directory
from rules import load_subject
from rules.admin import auto_follow, set_portal_access
from rules.saved_views import add_view, view_query, views_for
from tests.conftest import PROCESSES, seed_directory, support_toml, wired_app


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Runtime:
    runtime = wired_app(db_url).runtime
    seed_directory(runtime)
    with runtime.unit() as work:
        for name in ("bea", "ben"):
            directory.add_user(work, username=name)
            directory.add_member(work, username=name, group="service-desk")
    config_path = tmp_path / "support.toml"
    config_path.write_text(
        support_toml()
        + """
[assignment]
cases = {rule = "round_robin", group = "service-desk"}
tasks = "least_busy"
"""
    )
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with runtime.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    yield runtime
    runtime.close()


def _open(rt: Runtime, raiser: str = "carol") -> tuple[int, str]:
    with rt.unit() as work:
        user = directory.user_by_name(work, raiser)
        opened = cases.open_case(
            work, case_type="SUPPORT", subject="x", raiser=user, actor_id=user.id
        )
        return opened.id, opened.number


def _name(rt: Runtime, user_id: int | None) -> str | None:
    with rt.unit() as work:
        return work.session.get(User, user_id).username if user_id else None


def test_it_assigns_cases_round_robin_and_adds_creator_and_assignee_as_collaborators(rt):
    assignees = []
    for _ in range(4):
        case_id, _ = _open(rt)
        with rt.unit() as work:
            case = cases.case_by_number(work, f"C-{case_id:06d}")
            assignees.append(_name(rt, case.assignee_id))
            collaborators = set(
                work.session.scalars(
                    select(CaseCollaborator.user_id).where(CaseCollaborator.case_id == case_id)
                )
            )
            assert collaborators == {case.raiser_id, case.assignee_id}
    members = sorted(["alice", "bob", "bea", "ben"], key=lambda n: n)
    assert sorted(assignees) == members  # each member once before anyone twice


def test_it_claims_ready_tasks_for_the_least_busy_candidate(rt):
    claimed = []
    for _ in range(4):
        case_id, _ = _open(rt)
        with rt.unit() as work:
            task = work.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id))
            claimed.append(_name(rt, task.claimed_by_id))
    assert sorted(claimed) == ["alice", "bea", "ben", "bob"]


def test_it_notifies_followers_only_of_what_they_may_read(rt):
    with rt.unit() as work:
        for name in ("mona", "carol", "dave"):
            directory.user_by_name(work, name).email = f"{name}@example.com"
        directory.user_by_name(work, "alice").display_name = "Alice"
    with rt.unit() as work:
        mona = directory.user_by_name(work, "mona")
        auto_follow(work, user_id=mona.id, case_type="SUPPORT")
        dave = directory.user_by_name(work, "dave")
        auto_follow(work, user_id=dave.id, case_type="SUPPORT")  # a customer: reads nothing
        set_portal_access(work, username="carol", view="own", edit="own", parent_visibility=False)
    case_id, number = _open(rt)
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        # seed 000: a portal user follows the case they created, by themselves
        assert work.session.get(CaseFollower, (case_id, carol.id)) is not None
        alice = directory.user_by_name(work, "alice")
        posts.add_post(work, number=number, author=alice, body="public answer")
        posts.add_post(work, number=number, author=alice, body="internal note", internal=True)
    with rt.unit() as work:
        mails = sorted((m.recipients[0], m.kind, m.subject) for m in list_messages(work.session))
    assert mails == [
        # the customer gets the public answer itself (from the default sender, the case type
        # having no mailbox), not a notice about it; the internal note never reaches them
        ("carol@example.com", "case_reply", f"[{number}] x"),
        ("mona@example.com", "case_opened", f"[{number}] New case: x"),
        ("mona@example.com", "post_added", f"[{number}] Internal note from Alice: x"),
        ("mona@example.com", "post_added", f"[{number}] New message from Alice: x"),
    ]
    with rt.unit() as work:
        got = sorted(
            (_name(rt, n.user_id), n.kind, n.post_id is not None)
            for n in work.session.scalars(
                select(Notification).where(Notification.case_id == case_id)
            )
        )
    assert got == [
        ("carol", "post_added", True),
        ("mona", "case_opened", False),
        ("mona", "post_added", True),
        ("mona", "post_added", True),
    ]


def test_it_offers_views_to_groups_and_intersects_them_with_visibility(rt):
    _open(rt)
    _open(rt, raiser="dave")
    with rt.unit() as work:
        add_view(
            work,
            name="Open support",
            case_types=["SUPPORT"],
            scopes=["open"],
            filters={},
            groups=["service-desk"],
        )
        add_view(
            work,
            name="Mine",
            case_types=[],
            scopes=[],
            filters={"assignee": "me"},
            groups=["service-desk"],
        )
    with rt.unit() as work:
        alice = load_subject(work, directory.user_by_name(work, "alice"))
        sam = load_subject(work, directory.user_by_name(work, "sam"))
        assert [v.name for v in views_for(work, alice)] == ["Mine", "Open support"]
        assert views_for(work, sam) == []
        assert len(list(work.session.scalars(view_query(work, alice, "Open support")))) == 2
        mine = list(work.session.scalars(view_query(work, alice, "Mine")))
        assert all(c.assignee_id == alice.user_id for c in mine)
        carol_subject = load_subject(work, directory.user_by_name(work, "carol"))
        with pytest.raises(NotFound):
            view_query(work, carol_subject, "Open support")


def test_it_completes_a_task_claimed_by_assignment_only_as_that_agent(rt):
    case_id, _ = _open(rt)
    with rt.unit() as work:
        task = work.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id))
        holder = work.session.get(User, task.claimed_by_id)
        other = next(n for n in ("alice", "bob", "bea", "ben") if n != holder.username)
        with pytest.raises(Conflict, match=f"claimed by {holder.username}"):
            tasks.complete(work, task_id=task.id, user=directory.user_by_name(work, other), data={})
