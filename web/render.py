"""Server-rendered pages: one Jinja2 environment with autoescaping always on.

All user text (subjects, posts, names, form values) goes through autoescape; the
only markup not written by our templates is the diagram SVG we build ourselves.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def make_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["when"] = _when
    return env


def render(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    html = env.get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status)  # security headers: web/security_headers.py
