"""Errors raised by the engine.

Every error the engine raises derives from :class:`CaseworkError` and carries the
ids a user needs to find the problem (case number, task id, BPMN element, file and
line).  The CLI and the web layer map these classes to exit codes and HTTP codes in
one place each, so no caller has to parse messages.
"""

from __future__ import annotations


class CaseworkError(Exception):
    """Root of every error the product raises on purpose."""


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
        detail = "; ".join(f"{field}: {msg}" for field, msg in self.errors.items())
        super().__init__(f"{message}: {detail}" if detail else message)


class ExpressionError(CaseworkError):
    """An expression or script was refused by the restricted evaluator or failed in it."""


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
