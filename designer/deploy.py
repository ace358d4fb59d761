"""Deploying case types: BPMN + TOML in, a new immutable version out.

A version is identified by the hash of the BPMN file and its configuration.
Deploying unchanged files is a no-op that answers with the existing version;
running cases always keep the version they started on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import func, select

from engine import audit
from engine.definitions.compiler import CompiledDefinition, compile_definition
from engine.definitions.config import CaseTypeConfig, load_config
from engine.errors import DefinitionError, Problem
from engine.runtime import UnitOfWork
from engine.sla import versions as sla_versions
from engine.store.models import CaseType, CaseTypeVersion, Group, User


@dataclass(frozen=True)
class DeployResult:
    case_type: str
    version: int
    version_id: int
    created: bool
    notes: list[Problem]
    view_only: bool = False


def config_path_for(bpmn_path: Path) -> Path:
    """The conventional config beside a BPMN file: ``support.bpmn`` → ``support.toml``."""
    return bpmn_path.with_suffix(".toml")


def read_definition(
    bpmn_path: Path,
    config: CaseTypeConfig,
    known_groups: set[str] | None = None,
    known_users: set[str] | None = None,
) -> CompiledDefinition:
    """Read and compile a BPMN file for ``config`` (raises DefinitionError)."""
    try:
        data = bpmn_path.read_bytes()
    except OSError as exc:
        raise DefinitionError([Problem(str(bpmn_path), f"cannot read: {exc.strerror}")]) from None
    return compile_definition(
        data, config, source=str(bpmn_path), known_groups=known_groups, known_users=known_users
    )


def resolve_config(bpmn_path: Path, config_path: Path | None, key: str | None) -> CaseTypeConfig:
    """Load the case type's TOML (explicit, or beside the BPMN file) and check the key."""
    if not bpmn_path.is_file():  # say so, rather than that its TOML is missing
        problem = "is a directory, not a BPMN file" if bpmn_path.is_dir() else "no such file"
        raise DefinitionError([Problem(str(bpmn_path), f"cannot read: {problem}")])
    path = config_path or config_path_for(bpmn_path)
    if not path.exists():
        raise DefinitionError(
            [
                Problem(
                    str(bpmn_path),
                    f"no case-type configuration: expected {path} (or pass --config FILE)",
                )
            ]
        )
    config = load_config(path)
    if key and key != config.key:
        raise DefinitionError(
            [Problem(str(path), f"case_type.key is {config.key!r} but --type {key!r} was given")]
        )
    return config


def compile_for(work: UnitOfWork, bpmn_path: Path, config: CaseTypeConfig) -> CompiledDefinition:
    """Compile a file checking group and user names against this database's directory."""
    known_groups = set(work.session.scalars(select(Group.name)))
    known_users = set(work.session.scalars(select(User.username)))
    return read_definition(bpmn_path, config, known_groups, known_users)


def deploy(
    work: UnitOfWork, *, bpmn_path: Path, config: CaseTypeConfig, actor_id: int | None = None
) -> DeployResult:
    """Compile and store a new version (or find the identical one) and make it current."""
    return store_definition(work, compile_for(work, bpmn_path, config), actor_id=actor_id)


def store_definition(
    work: UnitOfWork, compiled: CompiledDefinition, *, actor_id: int | None = None
) -> DeployResult:
    config = compiled.config
    case_type = work.session.scalar(select(CaseType).where(CaseType.key == config.key))
    if case_type is None:
        case_type = CaseType(
            key=config.key, name=config.name, prefix=config.prefix, created_at=work.now
        )
        work.session.add(case_type)
        work.session.flush()
    else:
        case_type.name, case_type.prefix = config.name, config.prefix
    existing = work.session.scalar(
        select(CaseTypeVersion).where(
            CaseTypeVersion.case_type_id == case_type.id,
            CaseTypeVersion.content_hash == compiled.content_hash,
        )
    )
    # a changed [sla] (none when it was removed) serves new cases; open ones keep theirs
    sla_versions.store(work, case_type.id, config.sla or {}, actor_id=actor_id)
    if existing is not None:
        case_type.current_version_id = existing.id
        return DeployResult(
            config.key, existing.number, existing.id, False, compiled.notes, compiled.view_only
        )
    number = (
        work.session.scalar(
            select(func.max(CaseTypeVersion.number)).where(
                CaseTypeVersion.case_type_id == case_type.id
            )
        )
        or 0
    ) + 1
    group_ids = dict(work.session.execute(select(Group.name, Group.id)).tuples().all())
    user_ids = dict(work.session.execute(select(User.username, User.id)).tuples().all())
    routing = {
        element_id: replace(
            route,
            group_ids=tuple(group_ids[g] for g in route.groups),
            user_ids=tuple(user_ids[u] for u in route.users),
            assignee_id=user_ids[route.assignee] if route.assignee else None,
        ).to_dict()
        for element_id, route in compiled.routing.items()
    }
    version = CaseTypeVersion(
        case_type_id=case_type.id,
        number=number,
        content_hash=compiled.content_hash,
        process_id=compiled.process_id,
        source_name=compiled.source_name,
        bpmn_xml=compiled.bpmn_xml,
        config={
            "case_type": config.to_dict(),
            "routing": routing,
            "start_form": [f.to_dict() for f in compiled.start_form],
            "public_fields": [f.to_dict() for f in compiled.public_fields],
            **({"view_only": True} if compiled.view_only else {}),
            **({"sla_timers": compiled.sla_timers} if compiled.sla_timers else {}),
        },
        spec_json=""
        if compiled.spec is None
        else work.runtime.serializer.spec_to_json(compiled.spec, compiled.subprocess_specs),
        deployed_at=work.now,
        deployed_by_id=actor_id,
    )
    work.session.add(version)
    work.session.flush()
    case_type.current_version_id = version.id
    audit.record(
        work,
        actor_id=actor_id,
        entity="case_type",
        entity_id=config.key,
        action="deployed",
        after={
            "version": number,
            "hash": compiled.content_hash,
            "source": compiled.source_name,
            "view_only": compiled.view_only,
        },
    )
    return DeployResult(config.key, number, version.id, True, compiled.notes, compiled.view_only)
