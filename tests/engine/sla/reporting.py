"""A support case type with a 24/7 SLA and a few cases run to known times, shared by the
report's tests (engine, rules, CLI, API and page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from designer import deploy
from engine.clock import ManualClock
from engine.run import cases, posts, task_queries, tasks
from engine.runtime import Runtime
from engine.sla import clocks
from engine.store.models import User
from mail.settings import MailSettings
from people import directory
from tests.conftest import PROCESSES, seed_directory, support_toml, wired_app

SLA = """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
[sla.targets.resolution]
within = "PT8H"
"""


@dataclass
class World:
    runtime: Runtime
    clock: ManualClock
    users: dict[str, User]


def build(db_url: str, tmp_path: Path) -> World:
    """Cases of January 2026 (the clock starts 2026-01-05 09:00 UTC):

    - A answered after 30 min, closed after 2 h: both targets met;
    - B answered after 2 h, closed after 10 h: both breached;
    - C just opened: first answer due in 1 h, resolution in 8 h.
    """
    clock = ManualClock()
    rt = wired_app(db_url, clock, MailSettings()).runtime
    users = seed_directory(rt)
    path = tmp_path / "support.toml"
    path.write_text(support_toml() + SLA)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    world = World(rt, clock, users)
    a = open_case(world, "A")
    answer(world, a, after=timedelta(minutes=30))
    finish(world, a, after=timedelta(minutes=90))
    b = open_case(world, "B")
    answer(world, b, after=timedelta(hours=2))
    finish(world, b, after=timedelta(hours=8))
    open_case(world, "C")
    return world


def open_case(world: World, subject: str) -> str:
    with world.runtime.unit() as work:
        return cases.open_case(
            work, case_type="SUPPORT", subject=subject, raiser=world.users["carol"]
        ).number


def answer(world: World, number: str, *, after: timedelta) -> None:
    world.clock.advance(after)
    with world.runtime.unit() as work:
        posts.add_post(work, number=number, author=world.users["alice"], body="On it")


def finish(world: World, number: str, *, after: timedelta) -> None:
    """Triage, propose and confirm: the process ends and the case closes ``after`` later."""
    for name, who, data in (
        ("Triage case", "alice", {"needs_investigation": False}),
        ("Propose resolution", "alice", {"resolution": "Restart it"}),
        ("Confirm resolution", "carol", {"resolved": True}),
    ):
        if name == "Confirm resolution":
            world.clock.advance(after)
        with world.runtime.unit() as work:
            case = cases.case_by_number(work, number)
            task_id = next(
                i.task.id
                for i in task_queries.case_tasks(work, case.id)
                if i.task.name == name and i.task.state == "open"
            )
            user = directory.user_by_name(work, who)
            tasks.complete(work, task_id=task_id, user=user, data=data)


def waiting_case(world: World) -> str:
    """D: the customer writes first, an agent answers late (after 3 h 10 min), the case
    waits on the customer for five hours, the customer answers, and it closes an hour on."""
    d = open_case(world, "D")
    world.clock.advance(timedelta(minutes=10))
    with world.runtime.unit() as work:
        posts.add_post(work, number=d, author=world.users["carol"], body="Any news?")
    answer(world, d, after=timedelta(hours=3))
    world.clock.advance(timedelta(minutes=10))
    with world.runtime.unit() as work:
        case = cases.case_by_number(work, d)
        clocks.set_waiting(work, case.id, True, actor_id=world.users["alice"].id)
    world.clock.advance(timedelta(hours=5))
    with world.runtime.unit() as work:
        posts.add_post(work, number=d, author=world.users["carol"], body="Here it is")
    finish(world, d, after=timedelta(hours=1))
    return d
