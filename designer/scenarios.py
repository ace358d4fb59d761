"""Scenario tests for process designers: a case walked through a process step by step.

A scenario is a TOML file beside the process (``support.happy.scenario.toml``)::

    [scenario]
    name = "Happy path"
    process = "support.bpmn"          # optional: <first part of this file's name>.bpmn
    deploy = ["child.bpmn"]           # optional: case types its call activities start

    [start]                           # the case is opened by its raiser (user "raiser")
    subject = "Printer jams"
    data = { product = "printer" }    # the start form, when the process has one

    [[step]]
    complete = "Triage case"          # a task's name or BPMN id
    group = "service-desk"            # done by a member of this group, or:
    # user = "raiser"                 # by whoever raised the case
    data = { needs_investigation = false }

    [[step]]
    advance = "PT5H"                  # move the clock, then fire due timers as the worker does

    [[step]]
    message = "payment_received"      # deliver a message (or signal = "...") to the case
    data = { amount = 120 }           # the message's variables

    [[step]]
    [step.expect]                     # checked after the step's action (a step may only expect)
    tasks = ["Propose resolution"]    # names of the open tasks
    lanes = ["Service desk"]          # their lanes
    emails = [{ to = "support-leads", subject = "breach" }]  # queued mails (group or address)
    status = "open"                   # or "closed"
    data = { resolution = "..." }     # process variables (only those named)

The runner builds a fresh SQLite database in a temporary directory with a manual
clock, creates every group the case type names with one member each
(``<group>-member``, mail ``<group>-member@scenario.test``) and the raiser, deploys
the process with its TOML and plays the steps.  The first expectation that does not
hold stops the run with :class:`ScenarioFailed`, naming the step, what was expected
and what happened.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.errors import CaseworkError, DefinitionError, Problem
from engine.run import cases, messages, task_queries, tasks, timers
from engine.runtime import Runtime
from engine.sla.durations import parse_duration
from engine.store.access import CaseLink
from engine.store.outbox import OutboxMessage
from people import directory

RAISER = "raiser"
MAIL_DOMAIN = "scenario.test"
Report = Callable[[str], None]
#: Opens a runtime over a database URL with a clock, wired as the application wires it
#: (``casework.compose.scenario_runtimes`` gives the real one), and closes it afterwards.
RuntimeFactory = Callable[[str, ManualClock], AbstractContextManager[Runtime]]
_EXPECTATIONS = ("tasks", "lanes", "emails", "status", "data")


class ScenarioFailed(CaseworkError):
    """An expectation did not hold (or an action was refused) at ``step``."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(f"{step}: {message}")


@dataclass
class Step:
    label: str
    action: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scenario:
    path: Path
    name: str
    process: Path
    start: dict[str, Any]
    steps: list[Step]
    #: further processes deployed first (case types the process's call activities start)
    also: tuple[Path, ...] = ()


def scenario_files(directory: Path) -> list[Path]:
    """Scenario files of a process directory, for pytest to collect as tests."""
    return sorted(directory.glob("*.scenario.toml"))


_ACTIONS = ("complete", "advance", "message", "signal")


def load_scenario(path: Path, process: Path | None = None) -> Scenario:
    """Read and check a scenario file; every problem is reported at once."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError([Problem(str(path), f"cannot read: {exc.strerror}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError([Problem(str(path), f"not valid TOML: {exc}")]) from None
    head = raw.get("scenario", {})
    problems = []
    steps = []
    for number, step in enumerate(raw.get("step", []), 1):
        actions = {k: v for k, v in step.items() if k != "expect"}
        kinds = [k for k in _ACTIONS if k in actions]
        label = f"step {number}"
        if len(kinds) > 1 or (not kinds and actions):
            problems.append(f"{label}: a step does one of {', '.join(_ACTIONS)} (and may expect)")
        if "advance" in actions and not _duration_ok(actions["advance"]):
            problems.append(f"{label}: advance {actions['advance']!r} is not an ISO duration")
        if "complete" in actions and not ("group" in actions or "user" in actions):
            problems.append(f'{label}: say who completes it: group = "..." or user = "raiser"')
        unknown = set(step.get("expect", {})) - set(_EXPECTATIONS)
        if unknown:
            problems.append(
                f"{label}: unknown expectation {', '.join(sorted(unknown))}; "
                f"expect: {', '.join(_EXPECTATIONS)}"
            )
        if kinds:
            label += f" ({kinds[0]} {actions[kinds[0]]})"
        steps.append(Step(label, actions, dict(step.get("expect", {}))))
    if problems:
        raise DefinitionError([Problem(str(path), p) for p in problems])
    default = path.parent / (path.name.split(".")[0] + ".bpmn")
    chosen = process or (path.parent / head["process"] if "process" in head else default)
    name = str(head.get("name", path.stem))
    also = tuple(path.parent / str(name) for name in head.get("deploy", []))
    return Scenario(path, name, chosen, dict(raw.get("start", {})), steps, also)


def _duration_ok(text: Any) -> bool:
    try:
        parse_duration(str(text))
    except ValueError:
        return False
    return True


def run_scenario(
    scenario: Scenario,
    *,
    open_runtime: RuntimeFactory,
    report: Report | None = None,
) -> None:
    """Play a scenario on a fresh database; raise ScenarioFailed at the first broken step."""
    say = report or (lambda line: None)
    clock = ManualClock()
    with _fresh_runtime(clock, open_runtime) as runtime:
        config = deploy.resolve_config(scenario.process, None, None)
        _seed_directory(runtime, scenario, config)
        with runtime.unit() as work:
            for process in (*scenario.also, scenario.process):
                deploy.deploy(
                    work, bpmn_path=process, config=deploy.resolve_config(process, None, None)
                )
        player = _Player(runtime, clock, config.key)
        try:
            player.open(scenario.start)
        except CaseworkError as exc:
            raise ScenarioFailed("start", f"the case cannot be opened: {exc}") from None
        say(f"start: case {player.number} opened by {RAISER}")
        for step in scenario.steps:
            player.act(step)
            player.check(step)
            say(f"{step.label}: ok")


@contextmanager
def _fresh_runtime(clock: ManualClock, open_runtime: RuntimeFactory) -> Iterator[Runtime]:
    with (
        tempfile.TemporaryDirectory(prefix="casework-scenario-") as tmp,
        open_runtime(f"sqlite:///{Path(tmp) / 'scenario.db'}", clock) as runtime,
    ):
        runtime.init_schema()
        yield runtime


def member(group: str) -> str:
    """The user a scenario acts as for ``group``."""
    return f"{group}-member"


def _seed_directory(runtime: Runtime, scenario: Scenario, config: Any) -> None:
    """Every group the case type or the scenario names, with one member each."""
    groups: set[str] = set()
    for process in (*scenario.also, scenario.process):
        config_of = (
            config if process == scenario.process else deploy.resolve_config(process, None, None)
        )
        compiled = deploy.read_definition(process, config_of)
        groups |= {g for route in compiled.routing.values() for g in route.groups}
        groups |= {g for role_groups in config_of.roles.values() for g in role_groups}
    groups |= {step.action["group"] for step in scenario.steps if "group" in step.action}
    if isinstance(config.assignment.get("cases"), dict):
        groups.add(config.assignment["cases"]["group"])
    with runtime.unit() as work:
        directory.add_user(work, username=RAISER, email=f"{RAISER}@{MAIL_DOMAIN}")
        for group in sorted(groups):
            directory.add_group(work, name=group)
            name = member(group)
            directory.add_user(work, username=name, email=f"{name}@{MAIL_DOMAIN}")
            directory.add_member(work, username=name, group=group)


class _Player:
    """Acts on and inspects the one case of a scenario run."""

    def __init__(self, runtime: Runtime, clock: ManualClock, case_type: str) -> None:
        self.runtime, self.clock, self.case_type = runtime, clock, case_type
        self.number = ""

    def open(self, start: dict[str, Any]) -> None:
        with self.runtime.unit() as work:
            raiser = directory.user_by_name(work, RAISER)
            opened = cases.open_case(
                work,
                case_type=self.case_type,
                subject=str(start.get("subject", "Scenario case")),
                priority=str(start.get("priority", "normal")),
                data=dict(start.get("data", {})),
                raiser=raiser,
                actor_id=raiser.id,
            )
            self.number = opened.number

    def act(self, step: Step) -> None:
        action = step.action
        try:
            if "advance" in action:
                self.clock.advance(parse_duration(str(action["advance"])))
                timers.sweep(self.runtime)
            elif "complete" in action:
                self._complete(step, str(action["complete"]))
            elif "message" in action or "signal" in action:
                kind = "message" if "message" in action else "signal"
                with self.runtime.unit() as work:
                    case = cases.case_by_number(work, self.number)
                    data = messages.check_delivery(kind, action[kind], action.get("data", {}))
                    messages.deliver(work, case, kind, str(action[kind]), data, actor_id=None)
        except ScenarioFailed:
            raise
        except CaseworkError as exc:
            raise ScenarioFailed(step.label, f"refused: {exc}") from None
        except Exception as exc:  # finding these is what a scenario is for
            raise ScenarioFailed(
                step.label, f"the process failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _complete(self, step: Step, wanted: str) -> None:
        who = member(step.action["group"]) if "group" in step.action else step.action["user"]
        open_tasks = self.open_tasks()
        match = [t for t in open_tasks if wanted in (t.name, t.element_id)]
        if not match:
            names = [t.name for t in open_tasks] or "none"
            raise ScenarioFailed(step.label, f"no open task '{wanted}'; open tasks: {names}")
        with self.runtime.unit() as work:
            user = directory.user_by_name(work, who)
            # several instances of one task (each member's): the one this person may act on
            mine = [t for t in match if task_queries.is_eligible(work, t.id, user)] or match
            tasks.complete(
                work, task_id=mine[0].id, user=user, data=dict(step.action.get("data", {}))
            )

    def open_tasks(self) -> list[Any]:
        """The case's open tasks and those of the cases linked to it (a called child's)."""
        with self.runtime.unit() as work:
            case = cases.case_by_number(work, self.number)
            linked = work.session.scalars(
                select(CaseLink.other_case_id).where(CaseLink.case_id == case.id)
            )
            return [
                i.task
                for case_id in (case.id, *linked)
                for i in task_queries.case_tasks(work, case_id)
                if i.task.state == "open"
            ]

    def check(self, step: Step) -> None:
        expect = step.expect
        if not expect:
            return
        open_tasks = self.open_tasks()
        with self.runtime.unit() as work:
            case = cases.case_by_number(work, self.number)
            actual: dict[str, Any] = {
                "tasks": sorted(t.name for t in open_tasks),
                "lanes": sorted({t.lane or "" for t in open_tasks}),
                "status": case.status,
                "data": cases.case_data(work, case),
                "emails": [
                    (list(r.recipients), r.subject)
                    for r in work.session.scalars(
                        select(OutboxMessage).where(OutboxMessage.case_id == case.id)
                    )
                ],
            }
        for key in ("tasks", "lanes"):
            if key in expect and sorted(expect[key]) != actual[key]:
                self._fail(step, key, sorted(expect[key]), actual[key])
        if "status" in expect and expect["status"] != actual["status"]:
            self._fail(step, "status", expect["status"], actual["status"])
        if "data" in expect:
            seen = {k: actual["data"].get(k, "<unset>") for k in expect["data"]}
            if seen != expect["data"]:
                self._fail(step, "data", expect["data"], seen)
        if "emails" in expect:
            self._check_emails(step, expect["emails"], actual["emails"])

    def _check_emails(self, step: Step, wanted: Any, sent: list[tuple[list[str], str]]) -> None:
        described = [f"to {', '.join(to)}: {subject}" for to, subject in sent] or ["none"]
        if isinstance(wanted, int):
            if wanted != len(sent):
                self._fail(step, "emails", f"{wanted} mail(s)", described)
            return
        left = list(sent)
        for mail in wanted:
            address = str(mail.get("to", ""))
            if address and "@" not in address:
                address = f"{member(address)}@{MAIL_DOMAIN}"  # a group: its member's mail
            pattern = re.compile(re.escape(str(mail.get("subject", ""))), re.IGNORECASE)
            found = next(
                (m for m in left if (not address or address in m[0]) and pattern.search(m[1])),
                None,
            )
            if found is None:
                self._fail(step, "emails", mail, described)
            left.remove(found)

    @staticmethod
    def _fail(step: Step, what: str, expected: Any, actual: Any) -> NoReturn:
        raise ScenarioFailed(step.label, f"expected {what} {expected!r}, got {actual!r}")
