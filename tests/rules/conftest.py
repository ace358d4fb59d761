"""A permission world per test, and helpers that check SQL against the Python rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.runtime import Runtime
from engine.store.models import Case, User
from rules import Level, load_subject
from rules.facts import load_facts
from rules.visibility import case_filter, decide_level
from tests.rules.world import World


@pytest.fixture
def world(runtime: Runtime) -> World:
    return World(runtime)


def visible(world: World, user: str, level: Level = Level.READ) -> set[str]:
    """Case names the user sees at ``level``; asserts SQL and Python agree."""
    names = {v: k for k, v in world.cases.items()}
    with world.rt.unit() as work:
        subject = load_subject(work, work.session.get(User, world.users[user]))
        sql = set(
            work.session.scalars(
                select(Case.id).where(Case.id.in_(list(names)), case_filter(subject, level))
            )
        )
        python = {
            case.id
            for case in work.session.scalars(select(Case).where(Case.id.in_(list(names))))
            if decide_level(subject, load_facts(work, case, subject))[0] >= level
        }
    assert sql == python, f"SQL {sorted(sql)} != rules {sorted(python)} for {user} at {level!r}"
    return {names[i] for i in sql}
