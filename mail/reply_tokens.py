"""The per-case reply token: an unguessable secret in our Message-IDs and Reply-To addresses.

A case number in the subject is easily copied (zammad#5064); the token is not, so it ranks
first when a reply is threaded.  Tokens are created on first use, once per case (a unique
``case_id`` settles a race between two transactions: the loser's insert is skipped).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.store.mailbox import CaseMailToken

#: Notices queued before tokens existed carry ``case`` + the zero-padded case id.
_LEGACY = re.compile(r"case(\d{8})")


def case_token(session: Session, case_id: int) -> str:
    """The case's token, created now if it has none (in the caller's transaction)."""
    token = session.scalar(select(CaseMailToken.token).where(CaseMailToken.case_id == case_id))
    if token is not None:
        return token
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(CaseMailToken)
        .values(case_id=case_id, token=secrets.token_hex(10))
        .on_conflict_do_nothing(index_elements=["case_id"])
    )
    return session.scalars(
        select(CaseMailToken.token).where(CaseMailToken.case_id == case_id)
    ).one()


def case_for_token(session: Session, token: str) -> int | None:
    """The case a token belongs to, or None."""
    case_id = session.scalar(select(CaseMailToken.case_id).where(CaseMailToken.token == token))
    if case_id is None and (legacy := _LEGACY.fullmatch(token)):
        return int(legacy.group(1))
    return case_id
