"""Sorting BPMN files by what Casework makes of them, before anyone writes a TOML.

A modeler file either deploys (to run cases, or for viewing only when its process is
not executable), or is refused with located messages, or (a defect of ours) crashes.
The corpus report and its test sort files with :func:`triage`, against the TOML a
designer would write first (:func:`~engine.definitions.config.draft_config`).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from engine.errors import DefinitionError, Problem

from .compiler import compile_definition
from .config import draft_config
from .locate import lane_names


@dataclass(frozen=True)
class Outcome:
    """``status`` is ``deploys``, ``view-only``, ``refused``, ``vague`` or ``traceback``."""

    path: Path
    status: str
    message: str = ""
    errors: int = 0

    @property
    def handled(self) -> bool:
        """Deployed, or refused with every error located and explained."""
        return self.status in ("deploys", "view-only", "refused")


def _located(problem: Problem, source: str) -> bool:
    return problem.file in (source, "draft.toml") and bool(problem.line or problem.element)


def triage(path: Path) -> Outcome:
    """Compile one file against a draft TOML and say what became of it."""
    source = str(path)
    try:
        data = path.read_bytes()
        compiled = compile_definition(
            data, draft_config(lane_names(data), source="draft.toml"), source=source
        )
    except DefinitionError as exc:
        errors = [p for p in exc.problems if p.severity == "error"]
        precise = all(_located(p, source) and p.message for p in errors)
        return Outcome(path, "refused" if precise else "vague", str(errors[0]), len(errors))
    except Exception:
        last = traceback.format_exc().strip().splitlines()[-1]
        return Outcome(path, "traceback", last)
    return Outcome(path, "view-only" if compiled.view_only else "deploys")


def corpus_files(directory: Path) -> list[Path]:
    """The BPMN files under ``directory`` (``.bpmn`` and Flowable's ``.bpmn20.xml``)."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and (path.suffix == ".bpmn" or path.name.endswith(".bpmn20.xml"))
    )
