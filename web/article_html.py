"""An article's body as HTML for the pages: Markdown rendered with raw HTML off, then
cleaned by an allow-list sanitizer (``nh3``), so an article can never carry a script, an
event handler, a style or a ``javascript:`` link past the pages' strict CSP and autoescape.
Plain-text articles are not rendered at all: the template autoescapes them."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def article_html(body: str) -> Markup:
    """Markdown ``body`` as safe HTML (links: http, https and mailto only; no images)."""
    html = _MARKDOWN.render(body)
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # safe: cleaned just above by the allow-list
