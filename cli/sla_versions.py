"""``run.py sla migrate`` and ``run.py sla calendar``: move open cases onto the newest SLA
policy version, or onto a new calendar, with ``--dry-run`` to see which cases move; and
``run.py sla rebuild``: report facts for cases opened before they were kept."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

from casework.answers import AgentAnswers
from engine.errors import InvalidInput
from engine.run.case_types import current_version_id
from engine.sla import backfill, versions

from .context import runtime
from .output import emit


def register(sla: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sla.add_parser("migrate", help="move a type's open cases onto its newest SLA policy")
    p.add_argument("--type", dest="case_type", required=True)
    p.add_argument("--dry-run", action="store_true", help="show which cases move; change nothing")
    p.set_defaults(handler=cmd_sla_migrate)
    p = sla.add_parser(
        "calendar", help="a new calendar for a type's policies; open clocks' due times move"
    )
    p.add_argument("--type", dest="case_type", required=True)
    p.add_argument("file", type=Path, help="TOML file with an [sla.calendar] table")
    p.add_argument("--dry-run", action="store_true", help="show which cases move; change nothing")
    p.set_defaults(handler=cmd_sla_calendar)
    p = sla.add_parser(
        "rebuild", help="report facts for cases that have none (opened before they were kept)"
    )
    p.add_argument("--dry-run", action="store_true", help="count the cases; change nothing")
    p.set_defaults(handler=cmd_sla_rebuild)


def read_section_file(path: Path) -> dict[str, Any]:
    """The ``[sla]`` section of a TOML file as JSON-like data (TOML dates as ISO text)."""
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("sla")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}", {"file": str(exc)}) from None
    if not isinstance(section, dict):
        raise InvalidInput(f"{path} has no [sla] section", {"file": "add an [sla] table"})
    result: dict[str, Any] = json.loads(json.dumps(section, default=str))
    return result


def _report(args: argparse.Namespace, verb: str, moved: int, moves: list[Any]) -> int:
    rows = [vars(m) for m in moves]
    if args.json:
        emit({"dry_run": args.dry_run, "cases": moved, "moves": rows}, as_json=True)
        return 0
    tense = "would move" if args.dry_run else "moved"
    print(f"{args.case_type}: {moved} open case(s) {tense} {verb}")
    emit(rows, as_json=False, table=["case", "target", "due_before", "due_after"])
    return 0


def cmd_sla_migrate(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        case_type, _ = current_version_id(work, args.case_type)
        moved, moves = versions.migrate(work, case_type.id, dry_run=args.dry_run, actor_id=None)
    return _report(args, "onto the newest SLA policy", moved, moves)


def cmd_sla_calendar(args: argparse.Namespace) -> int:
    section = read_section_file(args.file)
    calendar = section.get("calendar")
    if not isinstance(calendar, dict):
        raise InvalidInput(f"{args.file} has no [sla.calendar] table", {"file": "add one"})
    with runtime(args) as rt, rt.unit() as work:
        case_type, _ = current_version_id(work, args.case_type)
        moved, moves = versions.change_calendar(
            work, case_type.id, calendar, dry_run=args.dry_run, actor_id=None
        )
    return _report(args, "onto the new calendar", moved, moves)


def cmd_sla_rebuild(args: argparse.Namespace) -> int:
    with runtime(args) as rt:
        done = backfill.backfill(rt, AgentAnswers(), dry_run=args.dry_run)
    if args.json:
        emit({"dry_run": args.dry_run, **vars(done)}, as_json=True)
        return 0
    tense = "would get" if args.dry_run else "got"
    print(
        f"{done.cases} case(s) without report facts {tense} them "
        f"({done.closed} closed, {done.answered} with a first agent answer)"
    )
    if not args.dry_run:
        print("the monthly rollup was rebuilt from every case's facts")
    return 0
