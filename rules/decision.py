"""The one access decision: (user, case, action, section) -> allowed or not, and why.

Every entry point asks this (through :func:`rules.checks.explain` and the actions
of :mod:`rules.acts`): the level comes from the ordered rule list of
:mod:`rules.visibility` (whose SQL twin filters every list), the action's needs from
:mod:`rules.levels`, the sections from :mod:`rules.sections`.  The answer names the
rule that decided, so ``access explain`` can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .facts import CaseFacts
from .levels import ADMIN_TASK_ACTIONS, Level, need
from .sections import check_section, roles_of, sections_for
from .subject import Subject
from .visibility import Step, decide_level


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    level: Level
    rule: str  # the rule that decided
    reason: str
    trail: list[Step]
    sections: frozenset[str]
    section: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The decision as plain data (the CLI's ``--json`` and the API answer this)."""
        return {
            "allowed": self.allowed,
            "action": self.action,
            "section": self.section,
            "level": self.level.name.lower(),
            "needs": need(self.action).level.name.lower(),
            "decided_by": self.rule,
            "reason": self.reason,
            "sections": sorted(self.sections),
            "trail": [
                {
                    "rule": s.rule,
                    "level": s.level.name.lower() if s.level is not None else None,
                    "reason": s.reason,
                    "decides": s.final,
                }
                for s in self.trail
            ],
        }

    def lines(self) -> list[str]:
        where = f" in section {self.section}" if self.section else ""
        out = [
            f"{'ALLOWED' if self.allowed else 'DENIED'}: {self.action}{where} needs "
            f"{need(self.action).level.name.lower()}, access is {self.level.name.lower()}",
            f"  decided by {self.rule}: {self.reason}",
        ]
        for number, step in enumerate(self.trail, 1):
            result = "n/a" if step.level is None else step.level.name.lower()
            out.append(
                f"  {number}. {step.rule:<13} {result:<8} {step.reason}"
                + ("  (decides)" if step.final else "")
            )
        return out


def _deciding(trail: list[Step], level: Level) -> tuple[str, str, list[Step]]:
    """The rule that set the level, its reason, and the steps whose roles count."""
    if trail and trail[-1].final:
        return trail[-1].rule, trail[-1].reason, [trail[-1]]
    granting = [s for s in trail if s.level is not None and s.level > Level.NONE]
    top = next((s for s in granting if s.level == level), None)
    if top is None:
        return "none", "no rule gives this user access to the case", []
    return top.rule, top.reason, granting


def decide(
    subject: Subject, facts: CaseFacts, action: str = "read", section: str | None = None
) -> Decision:
    """May ``subject`` do ``action`` (in ``section``) on the case described by ``facts``?

    Unknown actions and sections are :class:`~engine.errors.InvalidInput`, never a crash.
    """
    wanted = need(action)
    check_section(section)
    level, trail = decide_level(subject, facts)
    rule, reason, granting = _deciding(trail, level)
    if subject.portal is not None:  # customers see what a case's owner sees, whatever the rule
        roles = frozenset({"owner"}) if level >= Level.READ else frozenset()
    else:
        roles = roles_of((s.rule, s.level) for s in granting)
    sections = sections_for(roles)

    def answer(allowed: bool, by: str, why: str) -> Decision:
        return Decision(allowed, action, level, by, why, trail, sections, section)

    if level < wanted.level:
        return answer(
            False,
            rule,
            f"{action} needs {wanted.level.name.lower()} access, this user has "
            f"{level.name.lower()} ({reason})",
        )
    if wanted.agents_only and subject.portal is not None:
        return answer(False, "portal", f"customers never {wanted.what} in the portal")
    if wanted.admin_only and not subject.is_admin:
        return answer(False, "admin", f"only administrators {wanted.what}")
    if wanted.task and not (
        facts.task_user
        or (subject.is_admin and action in ADMIN_TASK_ACTIONS)
        or (action == "release" and facts.holds_task)  # giving back what one holds
    ):
        return answer(False, "task_user", "no open task of the case is for this user")
    if wanted.assignee and facts.assignee_id != subject.user_id:
        return answer(False, "assignee", "only the case's assignee delegates it")
    if section is not None and section not in sections:
        return answer(
            False, "section", f"the roles this user holds on the case do not show {section}"
        )
    return answer(True, rule, reason)
