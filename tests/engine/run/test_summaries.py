"""Read models name people by username, whether a summary names one person or many."""

from __future__ import annotations

import pytest

from engine.run import summaries
from engine.runtime import Runtime
from people import directory


@pytest.mark.parametrize("count", [1, 2, 4, 5, 9])
def test_people_are_named_by_username_however_many(runtime: Runtime, count: int):
    with runtime.unit() as work:
        ids = [directory.add_user(work, username=f"user{n}").id for n in range(count)]
    with runtime.unit() as work:
        named = summaries._usernames(work, [*ids, None, ids[0]])  # gaps and repeats are fine
    assert named == {user_id: (f"user{n}", True) for n, user_id in enumerate(ids)}


def test_a_deactivated_person_is_named_and_marked(runtime: Runtime):
    with runtime.unit() as work:
        jo, kim = (directory.add_user(work, username=name) for name in ("jo", "kim"))
        jo.is_active = False
        ids = (jo.id, kim.id)
    with runtime.unit() as work:
        named = summaries._usernames(work, ids)
    assert named[ids[0]] == ("jo", False) and named[ids[1]] == ("kim", True)
