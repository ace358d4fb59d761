"""Case types for the bulk-loaded bench worlds: the rows a deploy would leave, without a
process (the visibility and search benches read cases, they never run them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, text

from engine.store.models import CaseType, CaseTypeVersion


def insert_case_types(c: Connection, count: int, *, key: str, prefix: str, now: datetime) -> None:
    """Case types 1..count (keys ``{key}0``..), each with a current version 1 of nothing."""
    c.execute(
        insert(CaseType.__table__),
        [
            {
                "id": i + 1,
                "key": f"{key}{i}",
                "name": f"Type {i}",
                "prefix": prefix,
                "created_at": now,
            }
            for i in range(count)
        ],
    )
    c.execute(
        insert(CaseTypeVersion.__table__),
        [
            {
                "id": i + 1,
                "case_type_id": i + 1,
                "number": 1,
                "content_hash": f"h{i}",
                "process_id": "p",
                "source_name": "-",
                "bpmn_xml": "",
                "spec_json": "",
                "config": {"case_type": {"roles": {}}, "routing": {}},
                "deployed_at": now,
            }
            for i in range(count)
        ],
    )
    c.execute(text("UPDATE case_types SET current_version_id = id"))
