"""Who a public post on a case speaks for: the customer, an agent answering them, or
neither -- one decision for the live SLA clocks (``casework.hooks``) and for the report
facts computed afterwards for older cases (``run.py sla rebuild``)."""

from __future__ import annotations

from typing import Literal

from engine.runtime import UnitOfWork
from engine.store.models import Case, User
from rules.checks import can
from rules.subject import Subject, load_subject

Side = Literal["customer", "agent"]


def answered_by(
    work: UnitOfWork, case: Case, author_id: int | None, subjects: dict[int, Subject] | None = None
) -> Side | None:
    """``customer`` for the case's raiser or a portal user, ``agent`` for someone who may
    write the case, else ``None`` (a post with no author, or by a reader).  ``subjects``
    caches loaded subjects across calls."""
    if author_id is None:
        return None
    if author_id == case.raiser_id:  # the customer: no need to load permissions
        return "customer"
    subject = subjects.get(author_id) if subjects is not None else None
    if subject is None:
        author = work.session.get(User, author_id)
        if author is None:
            return None
        subject = load_subject(work, author)
        if subjects is not None:
            subjects[author_id] = subject
    if subject.portal is not None:
        return "customer"
    return "agent" if can(work, subject, "write", case) else None


class AgentAnswers:
    """``is_agent`` for :func:`engine.sla.backfill.backfill`: whether a public post by this
    author answered the customer, judged as the live hook judges it (with today's
    permissions), each author's subject loaded once."""

    def __init__(self) -> None:
        self.subjects: dict[int, Subject] = {}

    def __call__(self, work: UnitOfWork, case: Case, author_id: int | None) -> bool:
        return answered_by(work, case, author_id, self.subjects) == "agent"
