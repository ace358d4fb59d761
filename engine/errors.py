"""Errors raised by the engine.

Every error the engine raises derives from :class:`CaseworkError` and carries the
ids a user needs to find the problem (case number, task id, BPMN element, file and
line).  The CLI and the web layer map these classes to exit codes and HTTP codes in
one place each, so no caller has to parse messages.
"""

from __future__ import annotations

from typing import Any


class CaseworkError(Exception):
    """Root of every error the product raises on purpose.

    ``message`` is the headline and :meth:`details` the named particulars (a bad field, a
    BPMN element), kept apart so a caller can print them on lines of their own without
    repeating them; ``str(error)`` joins both for logs.
    """

    @property
    def message(self) -> str:
        return str(self)

    def details(self) -> dict[str, str]:
        return {}


class NotFound(CaseworkError):
    """A case, task, user, group or case type does not exist (or is not visible)."""


class Forbidden(CaseworkError):
    """The acting user may not do this (for example not a candidate of the task)."""


class Conflict(CaseworkError):
    """Someone else changed the object first; reload and try again."""


class InvalidInput(CaseworkError):
    """Input failed validation; ``errors`` maps each bad field to its message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        self.errors = dict(errors or {})
        self._message = message
        detail = "; ".join(f"{field}: {msg}" for field, msg in self.errors.items())
        super().__init__(f"{message}: {detail}" if detail else message)

    @property
    def message(self) -> str:
        return self._message

    def details(self) -> dict[str, str]:
        return self.errors


class ExpressionError(CaseworkError):
    """An expression or script was refused by the restricted evaluator or failed in it."""


class ProcessError(CaseworkError):
    """A step of a deployed process failed while the engine ran it.

    A gateway condition, a script or another expression raised (most often it names a
    variable no earlier step set).  Raised inside the unit of work, so the transaction
    rolls back and the case stays exactly as it was; the fix is the process (deploy a
    corrected version) or the data the step expects.  It carries what a designer needs
    to find the fault: the BPMN element's id and name, the expression or script line.
    """

    def __init__(
        self,
        reason: str,
        *,
        case: str | None = None,
        element_id: str | None = None,
        element_name: str | None = None,
        code: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = reason
        self.case = case
        self.element_id = element_id
        self.element_name = element_name
        self.code = code
        self.line = line
        self.incident: int | None = None  # the incident that records it (engine/run/incidents)
        self.attempt: dict[str, Any] | None = None  # the action a retry replays
        where = f"{case}: " if case else ""
        step = f" step '{element_name or element_id}'" if element_id or element_name else ""
        self._message = f"{where}the process{step} failed: {reason}; nothing was changed"
        detail = "; ".join(f"{k}: {v}" for k, v in self.details().items())
        super().__init__(f"{self._message} ({detail})" if detail else self._message)

    @property
    def message(self) -> str:
        if self.incident:
            return f"{self._message}; recorded as incident {self.incident}"
        return self._message

    def __str__(self) -> str:
        detail = "; ".join(f"{k}: {v}" for k, v in self.details().items())
        return f"{self.message} ({detail})" if detail else self.message

    def details(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.element_id:
            found["BPMN element"] = self.element_id
        if self.code:
            found[f"script line {self.line}" if self.line else "expression"] = self.code
        return found


class StoreUnavailable(CaseworkError):
    """The database URL names no database this installation can use (unparseable URL,
    unknown dialect or a driver that is not installed)."""


class DefinitionError(CaseworkError):
    """A BPMN file or case-type configuration cannot be deployed.

    ``problems`` holds one :class:`Problem` per finding, so a designer sees all of
    them at once instead of fixing one error per deploy.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Problem:
    """One finding about a definition file, printed as ``file:line:col: severity: message``."""

    __slots__ = ("column", "element", "file", "line", "message", "severity")

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        severity: str = "error",
        element: str | None = None,
    ) -> None:
        self.file = file
        self.element = element
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {self.message}"

    def __repr__(self) -> str:
        return f"Problem({self!s})"
