"""What deploying a file would change, shown before anything is stored (``deploy --dry-run``).

The new file is compiled exactly as ``deploy`` would, then compared with the current
version: tasks and flows (``version_diff``), the TOML sections that differ, and the
running cases on the current version, with those waiting in a task the new version
removes (counted from the open task rows, without loading any workflow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from designer.version_diff import VersionDiff, diff_versions
from engine.definitions.compiler import CompiledDefinition
from engine.runtime import UnitOfWork
from engine.store.models import Case, CaseType, CaseTypeVersion, HumanTask


def open_cases_by_version(work: UnitOfWork, case_type_id: int) -> dict[int, int]:
    """Version id -> number of open cases on it."""
    rows = work.session.execute(
        select(Case.version_id, func.count())
        .where(Case.case_type_id == case_type_id, Case.status != "closed")
        .group_by(Case.version_id)
    )
    return dict(rows.tuples().all())


@dataclass
class DeployPreview:
    """What deploying a file would change, before anything is stored."""

    case_type: str
    current: int | None  # the current version number, None for a new case type
    same_as: int | None  # the version with identical content, if any
    diff: VersionDiff | None
    open_cases: int  # open cases on the current version
    stuck: int  # of those, cases waiting in a task the new version removes
    config_changes: list[str] = field(default_factory=list)  # TOML sections that differ

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_type": self.case_type,
            "current_version": self.current,
            "unchanged_as_version": self.same_as,
            "changes": self.diff.to_dict() if self.diff else None,
            "open_cases": self.open_cases,
            "waiting_in_removed_tasks": self.stuck,
            "config_changes": self.config_changes,
        }


def preview_deploy(work: UnitOfWork, compiled: CompiledDefinition) -> DeployPreview:
    """Compare a compiled definition with the current version and count the cases it touches."""
    key = compiled.config.key
    case_type = work.session.scalar(select(CaseType).where(CaseType.key == key))
    if case_type is None or case_type.current_version_id is None:
        return DeployPreview(key, None, None, None, 0, 0)
    current = work.session.get(CaseTypeVersion, case_type.current_version_id)
    assert current is not None
    same = work.session.scalar(
        select(CaseTypeVersion.number).where(
            CaseTypeVersion.case_type_id == case_type.id,
            CaseTypeVersion.content_hash == compiled.content_hash,
        )
    )
    open_cases = open_cases_by_version(work, case_type.id).get(current.id, 0)
    before, after = current.config["case_type"], compiled.config.to_dict()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if compiled.spec is None or current.config.get("view_only"):
        return DeployPreview(key, current.number, same, None, open_cases, 0, changed)
    loaded = work.runtime.version(work.session, current.id)
    diff = diff_versions(
        work.runtime.serializer.registry,
        loaded.spec,
        compiled.spec,
        current.bpmn_xml,
        compiled.bpmn_xml,
    )
    stuck = 0
    if diff.removed_ids:
        stuck = (
            work.session.scalar(
                select(func.count(func.distinct(HumanTask.case_id)))
                .join(Case, Case.id == HumanTask.case_id)
                .where(
                    Case.version_id == current.id,
                    HumanTask.state == "open",
                    HumanTask.element_id.in_(diff.removed_ids),
                )
            )
            or 0
        )
    return DeployPreview(key, current.number, same, diff, open_cases, stuck, changed)
