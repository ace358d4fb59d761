"""Properties of the one decision after merges and links, over random worlds, on both databases.

The worlds of :mod:`tests.rules.test_properties` get posts (public and internal) on random
cases, then links of every kind and merges among their cases, made by an administrator
through the rules' doors.  Then, for every user and every case:

(f) the case page's related list and ``case links`` list a linked case only when the user
    may read it (seed 002: related cases one cannot see are not shown), every linked case
    they may read, and ``case links`` only when their roles show the linked-cases section
    (seed 001); a case they may not see is "not found" on the page and ``case links``;
(g) a post is in exactly one case's stream - the case its merges led it to - and only for
    those the seed rules let read *that* case (internal posts to agents only): a
    merged source's posts follow the target's rules, never the source's.  The expected
    home of each post is worked out from the merges the test made, not read back from the
    rows the merge moved;
(a) the SQL filter still agrees with the Python decision at every level.

The world's cases run no process, so the one step of a merge that needs one (withdrawing the
source's open tasks) is replaced by closing the source's row, as saving the workflow does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.errors import CaseworkError, NotFound
from engine.run import case_merge, workflows
from engine.runtime import UnitOfWork
from engine.store.access import CaseLink
from engine.store.models import Case, StreamPost, User
from rules import case_acts, case_links, load_subject
from rules.case_view import case_page, linked_cases
from rules.checks import posts_at_level, posts_query
from rules.decision import decide
from rules.facts import load_facts
from tests.rules.test_properties import _check_filters, fresh, worlds
from tests.rules.world import World

LINK_KINDS = ("related", "duplicate-of", "duplicated-by", "parent-of", "child-of")


@contextmanager
def no_process(work: UnitOfWork) -> Iterator[None]:
    """Merge world cases: the workflow step closes the source row with the merge's values."""

    def load(_: UnitOfWork, ref: workflows.CaseRef) -> Any:
        return SimpleNamespace(ref=ref, workflow=SimpleNamespace(cancel=lambda: None))

    def save(_: UnitOfWork, live: Any, *, actor_id: int | None, extra: dict[str, Any]) -> None:
        case = work.session.get(Case, live.ref.id)
        for column, value in extra.items():
            setattr(case, column, value)
        work.session.flush()

    fake = SimpleNamespace(CaseRef=workflows.CaseRef, load=load, save=save)
    with mock.patch.object(case_merge, "workflows", fake):
        yield


def _act(work: UnitOfWork, act: Any) -> bool:
    """Run one change in a savepoint; False (nothing kept) when the product refused it."""
    savepoint = work.session.begin_nested()
    try:
        act()
    except CaseworkError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _check_user(
    world: World, name: str, homes: dict[int, tuple[int, bool]], numbers: dict[int, str]
) -> None:
    """(f) and (g) for one user; ``homes``: each post's expected case and whether internal.
    The case page's own parts are asked (its related list and stream; the whole page also
    loads process data a world's case has none of), ``case links`` and the stream query
    (``posts_query``)."""
    with world.rt.unit() as work:
        user = work.session.get(User, world.users[name])
        subject = load_subject(work, user)
        agent = subject.portal is None
        cases = list(work.session.scalars(select(Case).where(Case.id.in_(list(numbers)))))
        reads = {c.id: decide(subject, load_facts(work, c, subject), "read").allowed for c in cases}
        for case in cases:
            number = case.number or ""
            facts = load_facts(work, case, subject)
            decision = decide(subject, facts, "summary")
            if not decision.allowed:
                hidden = (
                    partial(case_page, work, subject, user, number),
                    partial(case_links.links_of, work, subject, number),
                )
                for door in hidden:
                    with pytest.raises(NotFound):
                        door()
                continue
            links = select(CaseLink.other_case_id).where(CaseLink.case_id == case.id)
            readable = {numbers[i] for i in work.session.scalars(links) if reads.get(i)}
            listed = {r["number"] for r in linked_cases(work, subject, case)}
            assert listed == readable, (name, number, listed, readable)
            if reads[case.id]:
                door = {r["number"] for r in case_links.links_of(work, subject, number)}
                shows_links = "linked_cases" in decision.sections
                assert door == (listed if shows_links else set()), (name, number, door)
            expected = {
                post
                for post, (home, internal) in homes.items()
                if home == case.id and reads[case.id] and (agent or not internal)
            }
            streamed = {p.id for p, _ in posts_at_level(work, subject, case.id, decision.level)}
            queried = set(work.session.scalars(posts_query(subject, case.id)))
            assert streamed == expected, (name, number, sorted(streamed), sorted(expected))
            assert {p.id for p in queried} == expected, (name, number, "posts_query")


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds(), data=st.data())
def test_merges_and_links_show_nothing_the_seed_rules_hide(
    world: World, spec: dict[str, Any], data: st.DataObject
):
    users = fresh(world, spec)
    world.user("boss", admin=True)
    names = sorted(world.cases)
    some_case = st.sampled_from(names)
    posts = data.draw(st.lists(st.tuples(some_case, st.booleans()), min_size=1, max_size=6))
    links = data.draw(
        st.lists(st.tuples(some_case, some_case, st.sampled_from(LINK_KINDS)), max_size=4)
    )
    merges = data.draw(st.lists(st.tuples(some_case, some_case), max_size=3))
    numbers: dict[int, str] = {}
    homes: dict[int, tuple[int, bool]] = {}
    with world.rt.unit() as work:
        boss = work.session.get(User, world.users["boss"])
        admin = load_subject(work, boss)
        for case in work.session.scalars(
            select(Case).where(Case.id.in_(list(world.cases.values())))
        ):
            numbers[case.id] = case.number or ""
        number = {n: numbers[world.cases[n]] for n in names}
        for case_name, internal in posts:
            post = case_acts.add_post(work, admin, boss, number[case_name], "x", internal=internal)
            homes[post.id] = (world.cases[case_name], internal)
        for a, b, kind in links:
            _act(work, lambda a=a, b=b, kind=kind: case_links.link_case(
                work, admin, number[a], number[b], kind
            ))  # fmt: skip
        merged: dict[int, int] = {}
        with no_process(work):
            for source, target in merges:
                if _act(work, lambda s=source, t=target: case_links.merge_case(
                    work, admin, number[s], number[t]
                )):  # fmt: skip
                    merged[world.cases[source]] = world.cases[target]
        for post, (home, internal) in list(homes.items()):
            while home in merged:  # A into B, later B into C: A's posts end in C
                home = merged[home]
            homes[post] = (home, internal)
        moved = dict(work.session.execute(select(StreamPost.id, StreamPost.case_id).where(
            StreamPost.id.in_(list(homes))
        )).tuples().all())  # fmt: skip
        assert moved == {post: home for post, (home, _) in homes.items()}
    for name in users:
        _check_filters(world, name)
        _check_user(world, name, homes, numbers)
