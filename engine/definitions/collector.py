"""Problems of one BPMN file, collected with the line and column of each element.

Every check reports through a :class:`Collector` so the designer gets all problems
at once, each pointing where the element is written.  In a view-only compile (the
process is not executable) problems that only matter when a case runs become
warnings: the designer still sees them, and the diagram still deploys.
"""

from __future__ import annotations

from lxml import etree

from engine.errors import Problem

from .locate import SourceMap


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
        found = self.root.xpath("//*[@id=$id]", id=element_id)
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
        self.problems.append(
            Problem(
                file or self.source,
                where + message,
                line=line if file is None else None,
                column=column if file is None else None,
                severity=severity,
                element=element_id,
            )
        )

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
