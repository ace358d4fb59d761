"""A case type's own notice templates, read at deploy and stored with the version.

``[case_type] mail_templates = "support-mail"`` names a folder beside the TOML file whose
``{kind}.subject.txt``, ``{kind}.txt`` and ``{kind}.html`` files replace the shipped
templates of that kind for this case type.  They are stored in the version (not read
from disk when a notice is sent), so every worker on every machine renders the same text,
and a template that does not parse is refused at deploy instead of at breach time.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, TemplateSyntaxError

from engine.errors import Problem

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,29}\.(subject\.txt|txt|html)")
MAX_BYTES = 64 * 1024


def read_templates(folder: Path, source: str) -> tuple[dict[str, str], list[Problem]]:
    """Template files of ``folder`` by name, and the problems found (all at once)."""
    if not folder.is_dir():
        return {}, [Problem(source, f"mail_templates: {folder} is not a folder")]
    templates: dict[str, str] = {}
    problems: list[Problem] = []
    for path in sorted(folder.iterdir()):
        if not _NAME.fullmatch(path.name):
            problems.append(
                Problem(
                    str(path),
                    "not a notice template name: use KIND.subject.txt, KIND.txt or KIND.html",
                )
            )
            continue
        data = path.read_bytes()
        if len(data) > MAX_BYTES:
            problems.append(Problem(str(path), f"larger than {MAX_BYTES // 1024} KB"))
            continue
        text = data.decode("utf-8", errors="replace")
        try:
            Environment().parse(text)
        except TemplateSyntaxError as exc:
            problems.append(Problem(str(path), f"template error: {exc.message}", line=exc.lineno))
            continue
        templates[path.name] = text
    return templates, problems
