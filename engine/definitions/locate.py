"""Where an element starts in the file a designer edits: line and column of its ``<``.

libxml2 records the line on which an element's start tag *ends*, and no column, so
a task whose attributes the modeler wrapped over three lines would be reported two
lines too low.  Designers (and their editors' "go to line:column") need the line
where ``<bpmn:userTask`` is written, so we search the source text backwards from
the line libxml2 knows.
"""

from __future__ import annotations

import re

from lxml import etree


def lane_names(data: bytes) -> list[str]:
    """Names of the lanes in a BPMN file (empty if it is not well-formed XML)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    return sorted({name for lane in root.iter("{*}lane") if (name := lane.get("name"))})


def source_line(node: etree._Element) -> int | None:
    """The line libxml2 recorded for ``node``: where its start tag ends."""
    # lxml-stubs declare ``sourceline`` as ``...``; lxml documents it as ``int | None``.
    line: int | None = node.sourceline  # type: ignore[assignment]
    return line


#: A start tag never spans more lines than this in any modeler's output.
_MAX_TAG_LINES = 200


class SourceMap:
    """Finds the position of elements in one BPMN file's text."""

    def __init__(self, data: bytes) -> None:
        self.lines = data.decode("utf-8", errors="replace").splitlines()

    def position(self, node: etree._Element) -> tuple[int | None, int | None]:
        """(line, column) of the ``<`` of ``node``'s start tag, both 1-based."""
        end = source_line(node)
        if end is None or not isinstance(node.tag, str):
            return None, None
        qname = etree.QName(node).localname
        if node.prefix:
            qname = f"{node.prefix}:{qname}"
        pattern = re.compile(rf"<{re.escape(qname)}(?=[\s/>]|$)")
        # Same-tag siblings whose start tags end on the same line come first on it.
        before = sum(
            1
            for sibling in node.itersiblings(preceding=True)
            if sibling.tag == node.tag and source_line(sibling) == end
        )
        for number in range(end, max(0, end - _MAX_TAG_LINES), -1):
            if number > len(self.lines):
                continue
            matches = list(pattern.finditer(self.lines[number - 1]))
            if matches:
                index = min(before, len(matches) - 1) if number == end else len(matches) - 1
                return number, matches[index].start() + 1
        return end, 1

    def column_of(self, line: int, localname: str) -> int | None:
        """Column of the first ``<localname`` (any prefix) on ``line``, when only that is known."""
        if not 0 < line <= len(self.lines):
            return None
        found = re.search(rf"<([\w.-]+:)?{re.escape(localname)}(?=[\s/>]|$)", self.lines[line - 1])
        return found.start() + 1 if found else None

    def text_position(
        self, node: etree._Element, line: int, column: int | None
    ) -> tuple[int | None, int | None]:
        """Where line ``line`` (column ``column``) of ``node``'s text is written in the file.

        The text begins where the start tag ends, which is the line libxml2 records, so a
        script's line 3 is two lines below it; on its first line the text follows the tag.
        """
        start = source_line(node)
        if start is None:
            return None, None
        at = start + line - 1
        if not 0 < at <= len(self.lines):
            return at, column
        written = self.lines[at - 1]
        if line == 1:  # the text follows the start tag on its line
            first = (node.text or "").split("\n", 1)[0]
            found = written.rfind(first) if first.strip() else -1
            return at, (found + (column or 1) if found >= 0 else None)
        # a message about the whole line points at its first character
        return at, column or len(written) - len(written.lstrip()) + 1
