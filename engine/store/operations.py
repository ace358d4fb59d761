"""Tables an operator watches: the heartbeats of worker processes.

Each ``run.py worker`` process writes its row on every tick.  ``/ready`` reads the newest
beat, so a load balancer or an orchestrator learns that no worker is firing timers or
sending mail, whichever process it asks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class WorkerHeartbeat(Base):
    """One worker process: where it runs, when it started, when it last finished a tick."""

    __tablename__ = "worker_heartbeats"
    worker: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid:start
    host: Mapped[str] = mapped_column(String(150))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
