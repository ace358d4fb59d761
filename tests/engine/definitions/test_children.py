"""``[children]`` in a case type's TOML: what it propagates to child records, checked at
deploy with every problem named."""

from __future__ import annotations

import pytest

from engine.definitions.children import propagation
from engine.definitions.config import parse_config
from engine.errors import DefinitionError

HEAD = {"case_type": {"key": "SUPPORT", "prefix": "C"}}


def test_a_children_table_is_kept_with_the_case_type():
    config = parse_config(
        {**HEAD, "children": {"propagate": ["assignee", "teams"]}}, source="support.toml"
    )
    assert config.to_dict()["children"] == {"propagate": ["assignee", "teams"]}
    assert propagation(config.children) == {"assignee", "teams"}
    assert propagation(parse_config(HEAD, source="support.toml").children) == frozenset()


@pytest.mark.parametrize(
    ("children", "message"),
    [
        ({"propagate": ["owner"]}, "children.propagate must list what to propagate"),
        ({"propagate": "assignee"}, "children.propagate must list what to propagate"),
        ({"inherit": True}, "[children] has unknown key 'inherit'"),
        ("assignee", "[children] must be a table"),
    ],
)
def test_deploy_names_every_mistake_in_children(children: object, message: str):
    with pytest.raises(DefinitionError) as caught:
        parse_config({**HEAD, "children": children}, source="support.toml")
    assert any(message in p.message for p in caught.value.problems), caught.value.problems
