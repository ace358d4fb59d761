"""Moving running cases onto another version of their case type, in bulk.

A deployed version never changes and a case keeps the version it started on, so a
fixed process only reaches running cases when someone moves them.  Each case moves
in its own transaction (a case that cannot move, or that someone changes meanwhile,
never holds back the others) through the same load/save as every engine step, so its
task rows and timer rows follow:

1. SpiffWorkflow's ``SpecDiff`` aligns the old version's task specs with the new
   one's (once per source version) and ``WorkflowDiff`` finds the case's tasks whose
   spec is gone.
2. A case that waits in, or has been through, a removed task cannot move: its state
   would refer to a task the new version does not have.  It is reported and left as
   it was.
3. Otherwise ``migrate_workflow`` swaps the specs.  Only READY tasks are reset and
   re-predicted (SpiffWorkflow's default also resets WAITING ones, which would restart
   every timer the case waits on: a 4-hour escalation would start over).  The READY
   tasks keep their ids, so their task rows (and claims) stay; rows whose task was
   renamed or re-routed are updated in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, select, update

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import workflows
from engine.runtime import LoadedVersion, Runtime, UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import Case, CaseType, CaseTypeVersion, HumanTask, TaskCandidate

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
_TASKS = HumanTask.__table__
_OPEN_ROW = Prepared(
    select(_TASKS.c.id).where(
        _TASKS.c.case_id == bindparam("case_id"),
        _TASKS.c.engine_task_id == bindparam("engine_task_id"),
        _TASKS.c.state == "open",
    )
)
_RENAME_ROW = Prepared(
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("row_id"))
    .values(
        element_id=bindparam("element_id"),
        name=bindparam("name"),
        lane=bindparam("lane"),
        role=bindparam("role"),
        row_version=_TASKS.c.row_version + 1,
    )
)
_DROP_CANDIDATES = Prepared(
    delete(TaskCandidate.__table__).where(TaskCandidate.__table__.c.task_id == bindparam("task_id"))
)
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class CannotMove(Exception):
    """This case stays on its version; the message says why."""


@dataclass
class Blocked:
    number: str
    reason: str


@dataclass
class MigrationReport:
    """What a (dry) run of ``migrate`` did or would do."""

    case_type: str
    version: int
    dry_run: bool
    total: int = 0
    moved: list[str] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_type": self.case_type,
            "version": self.version,
            "dry_run": self.dry_run,
            "total": self.total,
            "moved": len(self.moved),
            "blocked": [{"case": b.number, "reason": b.reason} for b in self.blocked],
        }


def target_version(work: UnitOfWork, key: str, number: int) -> tuple[CaseType, CaseTypeVersion]:
    """The version cases move to; a version deployed for viewing only cannot run them."""
    case_type = work.session.scalar(select(CaseType).where(CaseType.key == key))
    if case_type is None:
        raise NotFound(f"no case type '{key}' is deployed")
    version = work.session.scalar(
        select(CaseTypeVersion).where(
            CaseTypeVersion.case_type_id == case_type.id, CaseTypeVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"case type {key} has no version {number}")
    if version.config.get("view_only"):
        raise InvalidInput(
            f"version {number} of {key} is deployed for viewing only",
            {"--to": "choose a version whose process is executable"},
        )
    return case_type, version


def migrate(
    runtime: Runtime,
    *,
    key: str,
    to_version: int,
    dry_run: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Move every open case of ``key`` not yet on ``to_version`` onto it, one by one."""
    with runtime.unit() as work:
        case_type, version = target_version(work, key, to_version)
        case_ids = list(
            work.session.scalars(
                select(Case.id)
                .where(
                    Case.case_type_id == case_type.id,
                    Case.status != "closed",
                    Case.version_id != version.id,
                )
                .order_by(Case.id)
            )
        )
        target = runtime.version(work.session, version.id)
    report = MigrationReport(key, to_version, dry_run, total=len(case_ids))
    mover = _Mover(runtime, target, to_version, dry_run=dry_run, actor_id=actor_id)
    for done, case_id in enumerate(case_ids, 1):
        try:
            with runtime.unit() as work:
                number = mover.move(work, case_id)
            if number:
                report.moved.append(number)
        except CannotMove as exc:
            report.blocked.append(Blocked(mover.number, str(exc)))
        except Conflict:
            report.blocked.append(
                Blocked(mover.number, "changed by someone else while moving; run migrate again")
            )
        except Exception as exc:
            log.exception("moving %s failed", mover.number)
            reason = f"the new version cannot run it ({type(exc).__name__}: {exc})"
            report.blocked.append(Blocked(mover.number, reason))
        if progress:
            progress(done, len(case_ids))
    return report


class _Mover:
    """Moves single cases; keeps the spec diffs per source version (they cost milliseconds)."""

    def __init__(
        self,
        runtime: Runtime,
        target: LoadedVersion,
        number: int,
        *,
        dry_run: bool,
        actor_id: int | None,
    ) -> None:
        self.runtime, self.target, self.target_number = runtime, target, number
        self.dry_run, self.actor_id = dry_run, actor_id
        self.number = ""  # of the case being moved, for the report
        self._diffs: dict[tuple[int, str | None], SpecDiff | None] = {}
        self._allowed = {  # the new version's task specs, by identity
            id(spec)
            for process in (target.spec, *target.subprocess_specs.values())
            for spec in process.task_specs.values()
        }
        #: (source version, old element, new element) -> routing unchanged
        self._unchanged: dict[tuple[int, str, str], bool] = {}

    def _diff(self, source: LoadedVersion, subprocess: str | None) -> SpecDiff | None:
        key = (source.id, subprocess)
        if key not in self._diffs:
            old = source.spec if subprocess is None else source.subprocess_specs[subprocess]
            new = (
                self.target.spec
                if subprocess is None
                else self.target.subprocess_specs.get(subprocess)
            )
            registry = self.runtime.serializer.registry
            self._diffs[key] = None if new is None else SpecDiff(registry, old, new)
        return self._diffs[key]

    def move(self, work: UnitOfWork, case_id: int) -> str | None:
        self.number = f"case id {case_id}"  # until its number is read
        ref = workflows.case_ref(work, case_id)
        if ref is None or ref.status == "closed" or ref.version_id == self.target.id:
            return None  # closed or moved since the list was read
        self.number = ref.number
        live = workflows.load(work, ref)
        source, workflow = live.version, live.workflow
        top = _workflow_diff(workflow, self._diff(source, None))
        _refuse_removed(top, self.target_number)
        subs = []
        for sub_id, sub in workflow.subprocesses.items():
            sub_diff = self._diff(source, sub.spec.name)
            if sub_diff is None:
                raise CannotMove(
                    f"it runs sub-process '{sub.spec.name}', which version "
                    f"{self.target_number} removes"
                )
            subs.append((sub_id, _workflow_diff(sub, sub_diff)))
        for _, sub_diff in subs:
            _refuse_removed(sub_diff, self.target_number)
        renamed = {  # the BPMN id each open task had, to follow renames in its row
            str(task.id): task.task_spec.bpmn_id
            for diff in (top, *(sub_diff for _, sub_diff in subs))
            for task in diff.alignment
            if task.state & _ACTIVE
        }
        migrate_workflow(top, workflow, self.target.spec, reset_mask=TaskState.READY)
        for sub_id, sub_diff in subs:
            sub = workflow.subprocesses[sub_id]
            migrate_workflow(
                sub_diff,
                sub,
                self.target.subprocess_specs[sub.spec.name],
                reset_mask=TaskState.READY,
            )
        _refuse_foreign_specs(workflow, self._allowed, self.target_number)
        workflows.run(work, live)
        if self.dry_run:
            return ref.number
        previous = source.id
        live.version, ref.version_id = self.target, self.target.id
        workflows.save(work, live, actor_id=self.actor_id, extra={"version_id": self.target.id})
        _resync_open_tasks(work, live, source, renamed, self._unchanged)
        audit.record(
            work,
            actor_id=self.actor_id,
            entity="case",
            entity_id=ref.number,
            case_id=ref.id,
            action="migrated",
            before={"version_id": previous},
            after={"version_id": self.target.id, "version": self.target_number},
        )
        return ref.number


def _workflow_diff(workflow: Any, diff: SpecDiff | None) -> WorkflowDiff:
    try:
        return WorkflowDiff(workflow, diff)
    except KeyError as exc:  # a task the library could not align either way
        raise CannotMove(f"task {exc} cannot be matched with the new version") from None


def _label(task: Any) -> str:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None)
    return f"'{name}' ({spec.bpmn_id})" if name else str(spec.bpmn_id or spec.name)


def _refuse_removed(diff: WorkflowDiff, number: int) -> None:
    for task in diff.removed:
        if task.state & _ACTIVE:
            raise CannotMove(f"it waits in task {_label(task)}, which version {number} removes")
    for task in diff.removed:
        if task.state & (TaskState.COMPLETED | TaskState.CANCELLED):
            raise CannotMove(
                f"it has been through task {_label(task)}, which version {number} removes"
            )


def _refuse_foreign_specs(workflow: Any, allowed: set[int], number: int) -> None:
    """After the swap every task must run a spec of the new version (``allowed`` ids)."""
    for tree in (workflow, *workflow.subprocesses.values()):
        for task in tree.tasks.values():
            if id(task.task_spec) not in allowed:
                raise CannotMove(f"task {_label(task)} has no counterpart in version {number}")


def _resync_open_tasks(
    work: UnitOfWork,
    live: workflows.LiveCase,
    source: LoadedVersion,
    before: dict[str, str],
    unchanged: dict[tuple[int, str, str], bool],
) -> None:
    """Open task rows that stayed open follow their task's new name and routing."""
    for task in live.workflow.get_tasks(state=TaskState.READY, manual=True):
        engine_id = str(task.id)
        old_element = before.get(engine_id)
        if engine_id not in live.ready_before or old_element is None:
            continue  # a new task: save() created its row
        new_element = task.task_spec.bpmn_id
        new_route = live.version.routing.get(new_element)
        if new_route is None:
            continue
        key = (source.id, old_element, new_element)
        if key not in unchanged:
            old_route = source.routing.get(old_element)
            unchanged[key] = old_route is not None and old_route.to_dict() == new_route.to_dict()
        if unchanged[key]:
            continue
        row = _OPEN_ROW.execute(
            work.session, {"case_id": live.ref.id, "engine_task_id": engine_id}
        ).fetchone()
        if row is None:
            continue
        _RENAME_ROW.execute(
            work.session,
            {
                "row_id": row[0],
                "element_id": new_route.element_id,
                "name": new_route.name,
                "lane": new_route.lane,
                "role": new_route.role,
            },
        )
        _DROP_CANDIDATES.execute(work.session, {"task_id": row[0]})
        workflows.insert_candidates(work, row[0], new_route)
