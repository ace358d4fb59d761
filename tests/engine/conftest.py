"""The shipped support case type with its groups and people, on a fresh database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine import deploy, directory
from engine.runtime import Runtime
from engine.store.models import User
from tests.conftest import PROCESSES

PEOPLE = {
    "service-desk": ["alice", "bob"],
    "specialists": ["sam"],
    "support-leads": ["lee"],
    "support-monitors": ["mona"],
}


@dataclass
class Support:
    runtime: Runtime
    users: dict[str, User]
    version: int


def seed_directory(rt: Runtime, customers: tuple[str, ...] = ("carol", "dave")) -> dict[str, User]:
    users: dict[str, User] = {}
    with rt.unit() as work:
        for group, members in PEOPLE.items():
            directory.add_group(work, name=group)
            for name in members:
                users[name] = directory.add_user(work, username=name)
                directory.add_member(work, username=name, group=group)
        for name in customers:
            users[name] = directory.add_user(work, username=name)
    return users


@pytest.fixture
def support(runtime: Runtime) -> Support:
    users = seed_directory(runtime)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", None, "SUPPORT")
    with runtime.unit() as work:
        result = deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    return Support(runtime, users, result.version)
