"""The process-wide services of one Casework process, and its unit of work.

A :class:`Runtime` owns what is expensive to build and safe to share: the database
engine, the clock, the serializer and two caches (deserialized specs per version;
live workflows per case, keyed by the case's row version so a stale copy is never
used; kept small, because every live workflow is thousands of objects the garbage
collector walks).  It is created by ``casework.compose.build_app`` (or an engine test), never as a
module global.

Every change happens in a :class:`UnitOfWork`: one session, one transaction, one
``now``.  Service functions take it as their first argument and never commit;
:meth:`Runtime.unit` commits at the edge, turns a lost optimistic-concurrency race
into :class:`~engine.errors.Conflict`, writes the unit's audit entries in one statement,
and only after the commit publishes cache updates.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.run.serializer import CaseSerializer

from .clock import Clock, SystemClock
from .definitions.config import CaseTypeConfig
from .definitions.forms import FormField
from .definitions.routing import TaskRouting
from .errors import Conflict, InvalidInput, ProcessError
from .lazy import lazy
from .log_context import keep_case_data_out_of_library_logs
from .sla import SlaOptions, SlaPolicy, read_section
from .store.checkpoints import start_checkpointer
from .store.db import make_engine, make_sessionmaker, upgrade
from .store.fast import prepared_insert
from .store.files import FileStore
from .store.models import AuditEntry, CaseTypeVersion
from .store.sla import SlaPolicyVersion

_INSERT_AUDIT = prepared_insert(
    AuditEntry.__table__,
    ["at", "actor_id", "case_id", "entity", "entity_id", "action", "before", "after"],
)
#: Database messages that mean "another transaction won"; the user may simply retry.
_LOST_RACE = ("database is locked", "could not serialize", "deadlock detected")


@dataclass(frozen=True)
class LoadedVersion:
    """A deployed version, ready to run: spec objects are shared by all its cases."""

    id: int
    case_type_id: int
    config: CaseTypeConfig
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    routing: dict[str, TaskRouting]
    start_form: tuple[FormField, ...] = ()
    public_fields: tuple[
        FormField, ...
    ] = ()  # what customers see; every other variable is internal
    sla_timers: dict[str, str] = field(default_factory=dict)  # BPMN timer id -> SLA target

    @lazy
    def extensions(self) -> frozenset[str]:
        """The extension keys any task of the process carries (a call activity's, a
        connector's): a case whose process has none of a kind skips looking for such
        ready tasks after every step."""
        specs = [self.spec, *self.subprocess_specs.values()]
        return frozenset(
            key
            for spec in specs
            for task_spec in spec.task_specs.values()
            for key in getattr(task_spec, "extensions", None) or {}
        )


@dataclass(frozen=True)
class LoadedPolicy:
    """A stored SLA policy version, parsed once per process."""

    id: int
    number: int
    policy: SlaPolicy
    options: SlaOptions


@dataclass(frozen=True)
class SlaNotice:
    """An SLA threshold that was reached, as the engine hands it to the notice hook.

    ``send_after`` is when the notice may go out: now, or the calendar's next opening
    when the policy keeps quiet hours and the case is not urgent.
    """

    target: str
    threshold: float  # 1.0 = breach
    due_at: datetime
    cycle: int
    time_zone: str
    send_after: datetime
    urgent: bool = False  # an urgent priority or target: past everyone's quiet hours


@dataclass(frozen=True)
class CaseInfo:
    """What the engine hands its hooks about a case, so they need not read it again."""

    id: int
    version: LoadedVersion
    raiser_id: int | None = None  # given when the case is opened

    @property
    def case_type_id(self) -> int:
        return self.version.case_type_id


class CaseHooks:
    """What happens around the engine's own work: assignment, collaborators, followers.

    The engine calls these hooks inside the same unit of work; the application's
    implementation (``casework.hooks.AppHooks``, built by ``casework.compose.build_app``)
    applies the rules and queues mail, so the engine never imports the layers above it.
    This base class does nothing.
    """

    def case_opened(self, work: UnitOfWork, case: CaseInfo, actor_id: int | None) -> None:
        """A case was opened and its first tasks created."""

    def tasks_ready(self, work: UnitOfWork, case: CaseInfo, task_ids: list[int]) -> None:
        """New task rows were created for human tasks that became ready."""

    def post_added(self, work: UnitOfWork, case_id: int, post_id: int, internal: bool) -> None:
        """A post was added to a case's stream."""

    def sla_due(self, work: UnitOfWork, case: CaseInfo, notice: SlaNotice) -> None:
        """An SLA target reached a warning threshold (< 1.0) or was breached (1.0)."""


K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """A small thread-safe LRU map."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._items.pop(key, None)

    def put(self, key: K, value: V) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Runtime:
    """Database, clock and caches for one process."""

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        workflow_cache_size: int = 256,
        hooks: CaseHooks | None = None,
        files: FileStore | None = None,
    ) -> None:
        keep_case_data_out_of_library_logs()
        self.hooks = hooks or CaseHooks()
        #: where attached files are kept (default: beside a SQLite file)
        self.files = files or FileStore.beside(url)
        self.db = make_engine(url)
        self._checkpointer = start_checkpointer(self.db)
        self.sessions = make_sessionmaker(self.db)
        self.clock: Clock = clock or SystemClock()
        self.serializer = CaseSerializer()
        self._versions: _LRU[int, LoadedVersion] = _LRU(512)
        self._policies: _LRU[int, LoadedPolicy] = _LRU(512)
        self._workflows: _LRU[int, tuple[int, BpmnWorkflow]] = _LRU(workflow_cache_size)
        #: (version id, priority) -> SLA report slice id; slices are never deleted
        self.sla_slices: _LRU[tuple[int, str], int] = _LRU(4096)

    def init_schema(self) -> None:
        """Create or upgrade the database schema."""
        upgrade(self.db)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.db.dispose()

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """One transaction: commit on success, roll back on any error.

        The transaction belongs to a Core connection and the ORM session joins it.
        That is the same transaction the session would begin by itself, at half the
        bookkeeping: a case transition is a few hundred microseconds of work, and the
        session's own transaction machinery cost more than a hundred of them.
        """
        with self.db.connect() as connection:
            session = Session(bind=connection, expire_on_commit=False)
            work = UnitOfWork(self, session, self.clock.now())
            try:
                with connection.begin():
                    yield work
                    session.flush()
                    if work.audit_rows:  # one multi-row INSERT for the whole unit
                        _INSERT_AUDIT.execute_many(session, work.audit_rows)
            except ProcessError as failed:  # rolled back: the case is as it was
                from engine.run.incidents import record_failure

                session.close()
                record_failure(self, failed)  # its own unit: the incident stays
                raise
            except OperationalError as exc:
                if any(sign in str(exc.orig) for sign in _LOST_RACE):
                    raise Conflict(
                        "the database was busy with a conflicting change; try again"
                    ) from None
                raise
            finally:
                session.close()
        for callback in work.after_commit:
            callback()

    # --- caches -------------------------------------------------------------------------

    def version(self, session: Session, version_id: int) -> LoadedVersion:
        """The runnable form of a stored version, deserialized once per process."""
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        row = session.get(CaseTypeVersion, version_id)
        if row is None:
            raise LookupError(f"case type version {version_id} does not exist")
        if row.config.get("view_only"):
            raise InvalidInput(
                f"version {row.number} of this case type is deployed for viewing only: its "
                "process is not executable, so no case can run on it",
                {"case_type": "mark the process executable in the modeler and deploy again"},
            )
        spec, subs = self.serializer.spec_from_json(row.spec_json)
        loaded = LoadedVersion(
            id=row.id,
            case_type_id=row.case_type_id,
            config=CaseTypeConfig.from_dict(row.config["case_type"]),
            spec=spec,
            subprocess_specs=subs,
            routing={k: TaskRouting.from_dict(v) for k, v in row.config["routing"].items()},
            start_form=tuple(FormField.from_dict(f) for f in row.config.get("start_form", ())),
            public_fields=tuple(
                FormField.from_dict(f) for f in row.config.get("public_fields", ())
            ),
            sla_timers=dict(row.config.get("sla_timers", {})),
        )
        self._versions.put(version_id, loaded)
        return loaded

    def sla_policy(self, session: Session, policy_id: int) -> LoadedPolicy:
        """A stored SLA policy version, parsed once per process (versions never change)."""
        cached = self._policies.get(policy_id)
        if cached is not None:
            return cached
        row = session.get(SlaPolicyVersion, policy_id)
        if row is None:
            raise LookupError(f"SLA policy version {policy_id} does not exist")
        policy, options = read_section(row.definition)
        loaded = LoadedPolicy(row.id, row.number, policy, options)
        self._policies.put(policy_id, loaded)
        return loaded

    def take_workflow(self, case_id: int, row_version: int) -> BpmnWorkflow | None:
        """A live workflow for this exact row version, removed from the cache while in use."""
        entry = self._workflows.pop(case_id)
        if entry is not None and entry[0] == row_version:
            return entry[1]
        return None

    def keep_workflow(self, case_id: int, row_version: int, workflow: BpmnWorkflow) -> None:
        self._workflows.put(case_id, (row_version, workflow))


@dataclass
class UnitOfWork:
    """One transaction's session, its moment in time and what to do after commit."""

    runtime: Runtime
    session: Session
    now: datetime
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)
