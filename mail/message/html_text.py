"""HTML mail: a sanitized copy for display and a plain-text rendering for search and quoting.

Mail HTML is hostile input shown to agents inside the product, so the copy we display
goes through ``nh3`` (Rust ``ammonia``, an allow-list sanitizer): no script, style,
iframe, form, event handler or ``javascript:`` URL survives.  ``cid:`` URLs stay so
inline images can be resolved against the message's attachments later.

The text rendering is a single forward scan (no tree, no backtracking regex) so that
ten megabytes of hostile markup cost seconds, not hours: it only needs line breaks at
block elements, ``>`` for ``<blockquote>``, link targets, and to drop script/style.
The output is plain text, so an imperfect rendering is harmless.
"""

from __future__ import annotations

import re
from html import escape, unescape

import nh3

_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}
# Block elements whose start tag makes an HTML5 tree builder search the open-element
# stack; thousands of unclosed ones make that quadratic (nh3 needs minutes for a few
# megabytes of "<div>").  Real mail, even a long nested Outlook thread, stays far below.
# fmt: off
_STACK_SEARCHING = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
    "nav", "ol", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
    "listing", "form", "xmp",
})
_BLOCKS = _STACK_SEARCHING | {"br", "dd", "dt", "hr", "li", "p", "table", "tr"}
# fmt: on
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
MAX_BLOCK_DEPTH = 2000
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,9})\b")
# One tag at a given position; attribute text stops at "<" and quoted values are bounded,
# so a failed match never rescans the rest of the document.
_TAG_AT = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,30})((?:[^<>\"']|\"[^\"<]{0,4000}\"|'[^'<]{0,4000}')*)/?>"
)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def _block_depth(html: str) -> int:
    depth = deepest = 0
    for match in _TAG_NAME.finditer(html):
        if match.group(2).lower() in _STACK_SEARCHING:
            depth = max(0, depth - 1) if match.group(1) else depth + 1
            deepest = max(deepest, depth)
    return deepest


def sanitize_html(html: str, *, text: str | None = None) -> str:
    """An allow-listed copy of ``html`` that is safe to embed in the agent's page.

    Pathologically nested HTML is not fed to the sanitizer at all: it is shown as
    escaped plain text (``text`` if the caller already rendered it), which is safe by
    construction and takes linear time.
    """
    if _block_depth(html) > MAX_BLOCK_DEPTH:
        return "<pre>" + escape(text if text is not None else html_to_text(html)) + "</pre>"
    return nh3.clean(html, url_schemes=_URL_SCHEMES, strip_comments=True)


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.quote_depth = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def text(self, data: str) -> None:
        data = re.sub(r"\s+", " ", unescape(data))
        if self.href is not None:
            self.link_text.append(data)
        if self.quote_depth and (not self.out or self.out[-1].endswith("\n")):
            if not data.strip():
                return
            data = "> " * self.quote_depth + data.lstrip()
        self.out.append(data)

    def tag(self, closing: bool, name: str, attrs: str) -> None:
        if name == "blockquote":
            self.quote_depth = max(0, self.quote_depth + (-1 if closing else 1))
        if name in _BLOCKS:
            self.out.append("\n")
        elif name in ("td", "th") and not closing:
            self.out.append("\t")
        elif name == "a" and not closing:
            found = _HREF.search(attrs)
            self.href = (
                unescape(next(g for g in found.groups() if g is not None)) if found else None
            )
            self.link_text = []
        elif name == "a" and self.href:
            label = "".join(self.link_text).strip()
            if self.href.startswith(("http:", "https:")) and self.href != label:
                self.out.append(f" <{self.href}>")
            self.href = None


def html_to_text(html: str) -> str:
    """Readable plain text for an HTML message (quotes in ``<blockquote>`` get ``>``)."""
    writer = _Writer()
    pos, end = 0, len(html)
    text_from = 0  # start of the text run not yet written (a stray "<" belongs to it)
    while pos < end:
        lt = html.find("<", pos)
        if lt < 0:
            break
        is_comment = html.startswith("<!--", lt)
        tag = None if is_comment else _TAG_AT.match(html, lt)
        if not is_comment and tag is None and not html.startswith(("<!", "<?"), lt):
            pos = lt + 1  # "a < b": plain text
            continue
        if lt > text_from:
            writer.text(html[text_from:lt])
        if tag is None:  # comment, doctype or processing instruction
            close = html.find("-->" if is_comment else ">", lt + 2)
            pos = text_from = end if close < 0 else close + (3 if is_comment else 1)
            continue
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        pos = text_from = tag.end()
        if name in _SKIP and not closing:
            skip_to = re.compile(rf"</\s*{name}\s*>", re.I).search(html, pos)
            pos = text_from = end if skip_to is None else skip_to.end()
            continue
        writer.tag(closing, name, tag.group(3))
    if text_from < end:
        writer.text(html[text_from:])
    lines = [line.strip(" \t") for line in "".join(writer.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
