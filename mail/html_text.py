"""HTML mail: a sanitized copy for display and a plain-text rendering for search and quoting.

Mail HTML is hostile input shown to agents inside the product, so the copy we display
goes through ``nh3`` (Rust ``ammonia``, an allow-list sanitizer): no script, style,
iframe, form, event handler or ``javascript:`` URL survives.  ``cid:`` URLs stay so
inline images can be resolved against the message's attachments later.

The text rendering is a small stdlib ``HTMLParser`` walk rather than a dependency: it
only needs line breaks at block elements and the link targets, and it must never fail.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}


def sanitize_html(html: str) -> str:
    """An allow-listed copy of ``html`` that is safe to embed in the agent's page."""
    return nh3.clean(html, url_schemes=_URL_SCHEMES, strip_comments=True)


_BLOCKS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


class _TextRenderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.quote_depth = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag in {"td", "th"}:
            self.out.append("\t")
        elif tag == "a":
            self.href = dict(attrs).get("href") or None
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag == "a" and self.href:
            label = "".join(self.link_text).strip()
            if self.href.startswith(("http:", "https:")) and self.href != label:
                self.out.append(f" <{self.href}>")
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = re.sub(r"\s+", " ", data)
        if self.href is not None:
            self.link_text.append(data)
        if self.quote_depth and (not self.out or self.out[-1].endswith("\n")):
            if not data.strip():
                return
            data = "> " * self.quote_depth + data.lstrip()
        self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text for an HTML-only message (quotes in ``<blockquote>`` get ``>``)."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except Exception:  # HTMLParser is lenient, but a rendering must never stop intake
        return re.sub(r"<[^>]*>", " ", html)
    lines = [line.strip(" ") for line in "".join(renderer.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
