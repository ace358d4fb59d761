"""Merging a duplicate case and linking related cases, each through the one decision.

Merging needs ``merge`` (managers) on both cases: the target is looked up as the user may
see it, so a case they cannot see answers "not found" exactly like a missing one and nothing
about it (closed, merged) leaks.  Linking needs ``link`` on the case linked from and read
access to the other.  A linked case the viewer may not read is not listed at all (seed 002:
related cases one cannot see "are not shown"), and only those whose roles show the
``linked_cases`` section (seed 001) see the list.
"""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound
from engine.run import case_links, case_merge, cases
from engine.runtime import UnitOfWork
from engine.store.models import Case

from .case_acts import case_for_action, require
from .case_view import linked_cases
from .decision import decide
from .facts import load_facts
from .subject import Subject


def merge_case(work: UnitOfWork, subject: Subject, number: str, into: str) -> dict[str, Any]:
    """Merge case ``number`` into case ``into``; answers what moved."""
    source, _ = case_for_action(work, subject, number, "merge")
    target = cases.case_by_number(work, into)
    require(work, subject, target, "merge")
    return case_merge.merge(work, source, target, actor_id=subject.user_id)


def links_of(work: UnitOfWork, subject: Subject, number: str) -> list[dict[str, Any]]:
    """The case's links, for those who may read it and whose roles show linked cases."""
    case, decision = case_for_action(work, subject, number, "read")
    if "linked_cases" not in decision.sections:
        return []
    return linked_cases(work, subject, case)


def _other(work: UnitOfWork, subject: Subject, number: str) -> Case:
    """The other case of a link, if the subject may read it ("not found" otherwise)."""
    other = cases.case_by_number(work, number)
    if not decide(subject, load_facts(work, other, subject), "read").allowed:
        raise NotFound(f"no case {number}")
    return other


def link_case(work: UnitOfWork, subject: Subject, number: str, other: str, kind: str) -> bool:
    """Link case ``number`` to ``other`` as ``kind`` (``duplicate-of``: ``number`` is the
    duplicate); False when they already were linked so."""
    case, _ = case_for_action(work, subject, number, "link")
    return case_links.link(work, case, _other(work, subject, other), kind, actor_id=subject.user_id)


def unlink_case(work: UnitOfWork, subject: Subject, number: str, other: str) -> str:
    """Remove the link between two cases; answers the kind it was."""
    case, _ = case_for_action(work, subject, number, "link")
    return case_links.unlink(work, case, _other(work, subject, other), actor_id=subject.user_id)
