"""Commands a process designer uses: validate and deploy case types."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import deploy as deploying
from engine.definitions.config import CaseTypeConfig, draft_config
from engine.definitions.locate import lane_names
from engine.errors import DefinitionError, Problem

from .context import runtime
from .output import emit


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "validate", help="check BPMN files (file:line:col: severity: message; exit 1 on errors)"
    )
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--config", type=Path, help="case-type TOML (default: beside each BPMN file)")
    p.set_defaults(handler=cmd_validate)

    p = commands.add_parser("deploy", help="deploy a case type (BPMN + its TOML) as a new version")
    p.add_argument("file", type=Path)
    p.add_argument("--type", dest="key", help="case-type key; must match the TOML")
    p.add_argument("--config", type=Path, help="case-type TOML (default: FILE with .toml)")
    p.set_defaults(handler=cmd_deploy)


def validate_file(path: Path, explicit_config: Path | None) -> list[Problem]:
    """Every problem of one BPMN file (and its TOML), without a database."""
    problems: list[Problem] = []
    try:
        config, missing = _config_for(path, explicit_config)
        if missing:
            problems.append(missing)
        problems += deploying.read_definition(path, config).notes
    except DefinitionError as exc:
        problems += exc.problems
    return problems


def cmd_validate(args: argparse.Namespace) -> int:
    """Print one ``file:line:col: severity: message`` line per problem of every file.

    Only problems go to standard output, so editors and scripts can read it as is; a
    summary goes to standard error.
    """
    found = {path: validate_file(path, args.config) for path in args.files}
    if args.json:
        emit(
            [
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "severity": p.severity,
                    "element": p.element,
                    "message": p.message,
                }
                for problems in found.values()
                for p in problems
            ],
            as_json=True,
        )
    else:
        for problems in found.values():
            for problem in problems:
                print(problem)
    failed = [path for path, problems in found.items() if _has_errors(problems)]
    counts = {
        severity: sum(p.severity == severity for ps in found.values() for p in ps)
        for severity in ("error", "warning")
    }
    print(
        f"{len(found)} file(s) checked, {len(failed)} refused: "
        f"{counts['error']} error(s), {counts['warning']} warning(s)",
        file=sys.stderr,
    )
    return 1 if failed else 0


def _has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def _config_for(path: Path, explicit: Path | None) -> tuple[CaseTypeConfig, Problem | None]:
    """The TOML beside the file; without one, lanes are not checked and a warning says so."""
    if explicit or deploying.config_path_for(path).exists():
        return deploying.resolve_config(path, explicit, None), None
    try:
        lanes = lane_names(path.read_bytes())
    except OSError:
        lanes = []  # read_definition says why it cannot read the file
    config = draft_config(lanes, source=str(deploying.config_path_for(path)))
    warning = Problem(
        str(path),
        f"no {deploying.config_path_for(path).name} beside it: lanes "
        "and groups were not checked (pass --config FILE)",
        line=1,
        column=1,
        severity="warning",
    )
    return config, warning


def cmd_deploy(args: argparse.Namespace) -> int:
    config = deploying.resolve_config(args.file, args.config, args.key)
    with runtime(args) as rt, rt.unit() as work:
        result = deploying.deploy(work, bpmn_path=args.file, config=config)
    for note in result.notes:
        print(note)
    verb = "deployed" if result.created else "unchanged, already deployed as"
    if args.json:
        emit(
            {
                "case_type": result.case_type,
                "version": result.version,
                "created": result.created,
                "view_only": result.view_only,
            },
            as_json=True,
        )
    else:
        viewing = " for viewing only (the process is not executable)" if result.view_only else ""
        print(f"{result.case_type}: {verb} version {result.version}{viewing}")
    return 0
