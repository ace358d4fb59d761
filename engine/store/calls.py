"""Call activities: which child case a parent case's call activity waits for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class CaseCall(Base):
    """One child case started by a call activity; ``state`` is ``waiting`` until the child
    closes and the parent's task is completed with the child's variables (``done``)."""

    __tablename__ = "case_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    engine_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    child_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
