"""Commands a process designer uses: validate and deploy case types."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from casework.compose import scenario_runtimes
from casework.config import AppConfig
from designer import deploy as deploying
from designer import migration, scenarios
from designer.preview import preview_deploy
from engine.definitions.config import CaseTypeConfig, draft_config
from engine.definitions.locate import lane_names
from engine.errors import DefinitionError, Problem

from .context import runtime, version_number
from .output import ProgressBar, emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show the changes against the current version and the cases affected; store nothing",
    )
    p.set_defaults(handler=cmd_deploy)

    p = commands.add_parser(
        "test-process", help="play a scenario (TOML) against a process on a scratch database"
    )
    p.add_argument("file", type=Path, help="the BPMN file (its TOML beside it)")
    p.add_argument("scenarios", nargs="+", type=Path, help="scenario files")
    p.set_defaults(handler=cmd_test_process)

    p = commands.add_parser("migrate", help="move running cases onto another version, in bulk")
    p.add_argument("--type", dest="key", required=True, help="case-type key, e.g. SUPPORT")
    p.add_argument(
        "--to", dest="version", type=version_number, required=True, help="version number"
    )
    p.add_argument("--dry-run", action="store_true", help="report who could move; change nothing")
    p.set_defaults(handler=cmd_migrate)


def validate_file(path: Path, explicit_config: Path | None) -> list[Problem]:
    """Every problem of one BPMN file (and its TOML), without a database."""
    problems: list[Problem] = []
    try:
        config, missing = _config_for(path, explicit_config)
        if missing and path.is_file():  # else reading it fails, which says enough
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
                print(problem_line(problem))
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


def problem_line(problem: Problem) -> str:
    """``file:line:col: severity: message``; a problem of the whole file points at 1:1, so
    every line has the same shape for editors and scripts."""
    return (
        f"{problem.file}:{problem.line or 1}:{problem.column or 1}: "
        f"{problem.severity}: {problem.message}"
    )


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
    if args.dry_run:
        return _deploy_dry_run(args, config)
    with runtime(args) as rt, rt.unit() as work:
        result = deploying.deploy(work, bpmn_path=args.file, config=config)
    verb = "deployed" if result.created else "unchanged, already deployed as"
    if args.json:  # the notes go into the document: standard output is JSON alone
        emit(
            {
                "case_type": result.case_type,
                "version": result.version,
                "created": result.created,
                "view_only": result.view_only,
                "notes": [str(note) for note in result.notes],
            },
            as_json=True,
        )
    else:
        for note in result.notes:
            print(note)
        viewing = " for viewing only (the process is not executable)" if result.view_only else ""
        print(f"{result.case_type}: {verb} version {result.version}{viewing}")
    return 0


def _deploy_dry_run(args: argparse.Namespace, config: CaseTypeConfig) -> int:
    with runtime(args) as rt, rt.unit() as work:
        compiled = deploying.compile_for(work, args.file, config)
        preview = preview_deploy(work, compiled)
    if args.json:
        emit({**preview.to_dict(), "notes": [str(n) for n in compiled.notes]}, as_json=True)
        return 0
    for note in compiled.notes:
        print(note)
    key = preview.case_type
    if preview.current is None:
        print(f"{key}: new case type; deploying would create version 1")
        return 0
    if preview.same_as is not None:
        print(f"{key}: unchanged, already deployed as version {preview.same_as}")
        return 0
    print(f"{key}: would deploy a new version after version {preview.current}")
    lines = preview.diff.lines() if preview.diff else ["(no task comparison: view-only version)"]
    lines += [f"~ configuration [{section}]" for section in preview.config_changes]
    for line in lines:
        print(f"  {line}")
    print(
        f"{preview.open_cases} open case(s) run on version {preview.current}; "
        f"{preview.stuck} of them wait in a task this version removes and could not be "
        f"migrated (run.py migrate --type {key} --to <new version> --dry-run for the rest)"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Move cases one transaction each, with a progress bar on a terminal."""
    with runtime(args) as rt, ProgressBar("checking" if args.dry_run else "migrating") as bar:
        report = migration.migrate(
            rt, key=args.key, to_version=args.version, dry_run=args.dry_run, progress=bar
        )
    if args.json:
        emit(report.to_dict(), as_json=True)
    else:
        verb = "could move" if report.dry_run else "moved"
        print(
            f"{report.case_type}: {verb} {len(report.moved)} of {report.total} open case(s) "
            f"to version {report.version}; {len(report.blocked)} cannot move"
        )
        for blocked in report.blocked:
            print(f"  {blocked.number}: {blocked.reason}")
    return 0


def cmd_test_process(args: argparse.Namespace) -> int:
    """Report each step; exit 1 when an expectation of any scenario does not hold."""
    open_runtime = scenario_runtimes(AppConfig.from_args(args))
    results = [
        _play(scenarios.load_scenario(path, args.file), path, args.json, open_runtime)
        for path in args.scenarios
    ]
    if args.json:
        emit(results, as_json=True)
    return 0 if all(r["passed"] for r in results) else 1


def _play(
    scenario: scenarios.Scenario,
    path: Path,
    quiet: bool,
    open_runtime: scenarios.RuntimeFactory,
) -> dict[str, Any]:
    """One scenario: its steps printed as they run (unless ``quiet``) and returned."""
    steps: list[str] = []
    if not quiet:
        print(f"scenario {scenario.name} ({path})")

    def report(line: str) -> None:
        steps.append(line)
        if not quiet:
            print(f"  {line}")

    failure = None
    try:
        scenarios.run_scenario(scenario, open_runtime=open_runtime, report=report)
    except scenarios.ScenarioFailed as exc:
        failure = str(exc)
    if not quiet:
        print(f"  FAILED {failure}" if failure else "  passed")
    return {
        "scenario": scenario.name,
        "file": str(path),
        "passed": failure is None,
        "steps": steps,
        "failure": failure,
    }
