"""The one way an audit line may change: erasing a person's data on their request.

The audit log is append-only in the database itself (triggers refuse UPDATE and DELETE).
Erasure must still replace the person's name and address in old audit lines, so the
UPDATE trigger lets an update through while this table holds a row -- which only the
erasing transaction inserts, uses and deletes again before it commits: every other
transaction sees the table empty and is refused as before.  DELETE stays refused always.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class AuditRedaction(Base):
    """Present only inside an erasing transaction: audit lines may be rewritten then."""

    __tablename__ = "audit_redactions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: who is being erased, as the audit names them afterwards ("erased-12")
    ref: Mapped[str] = mapped_column(String(50))
