"""Typed access to the parsed BPMN tree.

lxml's ``xpath`` answers with elements, strings, numbers or booleans depending on the
expression, and ``getparent`` with ``None`` at the root.  Every query here selects
elements, and every element whose parent we ask for lies below a process, so these
helpers state that once instead of every caller trusting it silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree


def elements(
    node: etree._Element | etree._ElementTree,
    path: str,
    namespaces: Mapping[str, str] | None = None,
    **variables: str,
) -> list[etree._Element]:
    """The elements ``path`` selects (comments and processing instructions included)."""
    found = node.xpath(
        path, namespaces=namespaces, extensions=None, smart_strings=False, **variables
    )
    if not isinstance(found, list):
        raise TypeError(f"XPath {path!r} selects a value, not elements")
    return [item for item in found if isinstance(item, etree._Element)]


def parent(node: etree._Element) -> etree._Element:
    """The parent of an element found inside a process, which always has one."""
    found = node.getparent()
    if found is None:
        raise ValueError(f"<{etree.QName(node).localname}> is the root of its document")
    return found
