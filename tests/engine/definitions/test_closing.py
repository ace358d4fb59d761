"""``[closing]`` in a case type's TOML: checked at deploy with every problem named, and the
policy it gives (replies reopen, open a follow-up, or closed is final; the grace period)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.definitions.closing import ClosingPolicy
from engine.definitions.config import parse_config
from engine.errors import DefinitionError

HEAD = {"case_type": {"key": "SUPPORT", "prefix": "C"}}
CLOSED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_closing_table_is_kept_with_the_case_type():
    config = parse_config(
        {**HEAD, "closing": {"replies": "reopen", "grace_days": 14, "outcomes": ["solved"]}},
        source="support.toml",
    )
    assert config.to_dict()["closing"] == {
        "replies": "reopen",
        "grace_days": 14,
        "outcomes": ["solved"],
    }


@pytest.mark.parametrize(
    ("closing", "message"),
    [
        ({"replies": "maybe"}, "closing.replies must be one of reopen, follow_up, final"),
        ({"grace_days": -1}, "closing.grace_days must be a number of days, 0 or more"),
        ({"grace_days": "7d"}, "closing.grace_days must be a number of days, 0 or more"),
        ({"outcomes": "solved"}, "closing.outcomes must list outcome names"),
        ({"outcomes": ["cancelled"]}, "'cancelled' is the outcome of cancelling"),
        ({"after": 1}, "[closing] has unknown key 'after'"),
    ],
)
def test_deploy_names_every_mistake_in_closing(closing: dict, message: str):
    with pytest.raises(DefinitionError) as caught:
        parse_config({**HEAD, "closing": closing}, source="support.toml")
    assert any(message in p.message for p in caught.value.problems), caught.value.problems


def test_replies_reopen_within_the_grace_period_then_open_a_follow_up():
    policy = ClosingPolicy.of({"replies": "reopen", "grace_days": 7})
    assert policy.reply_reopens(CLOSED, CLOSED + timedelta(days=7))
    assert not policy.reply_reopens(CLOSED, CLOSED + timedelta(days=7, seconds=1))
    assert not policy.reopenable(CLOSED, CLOSED + timedelta(days=8))
    assert ClosingPolicy.of({"replies": "reopen"}).reply_reopens(CLOSED, CLOSED + timedelta(999))


def test_follow_up_is_the_default_and_final_means_final_after_its_grace():
    default = ClosingPolicy.of(None)
    assert default.replies == "follow_up" and not default.reply_reopens(CLOSED, CLOSED)
    assert default.reopenable(CLOSED, CLOSED + timedelta(days=365))  # agents reopen any time
    final = ClosingPolicy.of({"replies": "final"})
    assert not final.reopenable(CLOSED, CLOSED) and "are final" in final.why_final()
    grace = ClosingPolicy.of({"replies": "final", "grace_days": 1})
    assert grace.reopenable(CLOSED, CLOSED + timedelta(hours=23))
    assert not grace.reopenable(CLOSED, CLOSED + timedelta(days=2))
