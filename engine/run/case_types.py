"""Which version of a case type new cases run on: a store read, used when opening a case.

Deploying sets ``CaseType.current_version_id``; this reads it back for the case engine,
the CLI and the designer's tools, without the engine depending on the deploy tooling.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select

from engine.errors import NotFound
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import CaseType


class DeployedType(NamedTuple):
    """The columns of a case type that opening a case needs."""

    id: int
    key: str
    prefix: str
    current_version_id: int | None


_CASE_TYPE_BY_KEY = Prepared(
    select(CaseType.id, CaseType.key, CaseType.prefix, CaseType.current_version_id).where(
        CaseType.key == bindparam("key")
    )
)


def current_version_id(work: UnitOfWork, key: str) -> tuple[DeployedType, int]:
    """The case type ``key`` and the version new cases of it run on."""
    row = _CASE_TYPE_BY_KEY.first(work.session, {"key": key})
    case_type = DeployedType(*row) if row else None
    if case_type is None or case_type.current_version_id is None:
        raise NotFound(f"no case type '{key}' is deployed")
    return case_type, case_type.current_version_id
