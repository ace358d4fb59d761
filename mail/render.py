"""Render automatic notices (SLA breach and warning) from Jinja2 templates.

Templates live in ``mail/templates``: ``{kind}.subject.txt``, ``{kind}.txt`` and, optionally,
``{kind}.html``.  A case type may bring its own directory, searched first, that overrides any
of them.  HTML templates are autoescaped (a case subject is customer input) and every
template uses ``StrictUndefined``: a missing variable is an error at queue time, never a
notice with a blank where the case number should be.

The context a notice template receives (what :func:`render_notice` expects, plus what it adds):

``case_number``, ``case_subject``, ``case_url``
    the case as people know it, and the link to it.
``target``
    ``first_response``, ``next_update`` or ``resolution`` (``target_name`` is added: the words).
``threshold``
    the fraction of the target used when the notice fires: ``0.75`` warns, ``1.0`` is a breach
    (``threshold_percent`` and ``breached`` are added).
``due_at``, ``time_zone``
    the aware due moment and the IANA zone of the recipient's calendar (``due_local`` is added:
    the due moment as the recipient reads it, e.g. ``Mon 5 Jan 2026, 17:00 CET``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

TEMPLATES = Path(__file__).with_name("templates")

#: The words for each SLA target, as they appear in notices.
TARGET_NAMES = {
    "first_response": "first response",
    "next_update": "next update",
    "resolution": "resolution",
}
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,29}")


@lru_cache(maxsize=64)
def environment(
    override_dir: str | None = None, overrides: tuple[tuple[str, str], ...] = ()
) -> Environment:
    """The template environment: a case type's own templates (``overrides``, name → text)
    first, then ``override_dir`` (if any), then the defaults."""
    loaders: list[BaseLoader] = [DictLoader(dict(overrides))] if overrides else []
    if override_dir:
        loaders.append(FileSystemLoader(override_dir))
    loaders.append(FileSystemLoader(TEMPLATES))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def format_due(due_at: datetime, time_zone: str) -> str:
    """``Mon 5 Jan 2026, 17:00 CET``: the due moment in the recipient calendar's zone."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be an aware datetime")
    local = due_at.astimezone(ZoneInfo(time_zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def notice_context(context: dict[str, Any]) -> dict[str, Any]:
    """The caller's context plus the derived values the templates use."""
    full = dict(context)
    target = full.get("target")
    if "target_name" not in full and target is not None:
        full["target_name"] = TARGET_NAMES.get(target, str(target).replace("_", " "))
    if "threshold" in full:
        threshold = float(full["threshold"])
        full.setdefault("threshold_percent", round(threshold * 100))
        full.setdefault("breached", threshold >= 1.0)
    if "due_at" in full and "due_local" not in full:
        full["due_local"] = format_due(full["due_at"], full.get("time_zone") or "UTC")
    return full


def render_notice(
    kind: str,
    context: dict[str, Any],
    *,
    override_dir: str | Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> tuple[str, str, str | None]:
    """``(subject, text, html)`` of a notice; ``html`` is None when no HTML template exists."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"not a notice kind: {kind!r}")
    env = environment(
        str(override_dir) if override_dir else None, tuple(sorted((overrides or {}).items()))
    )
    values = notice_context(context)
    subject = env.get_template(f"{kind}.subject.txt").render(values)
    subject = " ".join(subject.split())  # one line: no header folding, no header injection
    text = env.get_template(f"{kind}.txt").render(values)
    try:
        html_template = env.get_template(f"{kind}.html")
    except TemplateNotFound:
        html = None
    else:
        html = html_template.render(values)
    return subject, text, html
