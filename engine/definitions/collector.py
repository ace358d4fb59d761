"""Problems of one BPMN file, collected with the line and column of each element.

Every check reports through a :class:`Collector` so the designer gets all problems
at once, each pointing where the element is written.  In a view-only compile (the
process is not executable) problems that only matter when a case runs become
warnings: the designer still sees them, and the diagram still deploys.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from engine.errors import Problem

from .config import locate_in_toml
from .locate import SourceMap
from .tree import elements


class Collector:
    """Collects problems for one file, with the line and column where each element starts."""

    def __init__(self, source: str, data: bytes) -> None:
        self.source = source
        self.positions = SourceMap(data)
        self.root: etree._Element | None = None
        self.problems: list[Problem] = []
        self.view_only = False

    def node_of(self, element_id: str | None) -> etree._Element | None:
        if self.root is None or not element_id:
            return None
        found = elements(self.root, "//*[@id=$id]", id=element_id)
        return found[0] if found else None

    def add(
        self,
        message: str,
        *,
        node: etree._Element | None = None,
        element_id: str | None = None,
        line: int | None = None,
        column: int | None = None,
        severity: str = "error",
        file: str | None = None,
        structural: bool = False,
        at: etree._Element | None = None,
    ) -> None:
        """Record one problem; ``structural`` problems stay errors even for viewing.

        ``node`` is the element the problem is about (its id prefixes the message);
        ``at`` only says where to point (the file's root, say).
        """
        if at is not None:
            line, column = self.positions.position(at)
        if node is None and element_id and not line:
            node = self.node_of(element_id)
        if node is not None:
            element_id = element_id or node.get("id")
            if not line:
                line, column = self.positions.position(node)
        if self.view_only and severity == "error" and not structural:
            severity = "warning"
        where = f"{element_id}: " if element_id else ""
        if file is not None:  # about the case type's TOML: point into that file instead
            self.problems.append(_in_other_file(file, where + message, severity))
            return
        self.problems.append(
            Problem(
                self.source,
                where + message,
                line=line,
                column=column,
                severity=severity,
                element=element_id,
            )
        )

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _in_other_file(file: str, message: str, severity: str) -> Problem:
    problem = Problem(file, message, severity=severity)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError:
        return problem  # a TOML given in memory (tests) or a draft: nothing to point at
    return locate_in_toml(problem, text)
