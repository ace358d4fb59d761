"""``run.py sla report`` (the SLA report as a table, CSV or JSON, ``engine.sla.report``) and
``run.py sla whatif`` (a period replayed under another policy, ``engine.sla.whatif``)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.sla import SlaPolicy, whatif
from engine.sla import report as sla_report
from people.directory import user_by_name
from rules import load_subject
from rules.sla_reports import report_types

from .context import add_as, runtime
from .output import emit

COLUMNS = [
    "month",
    "case_type",
    "group",
    "priority",
    "opened",
    "closed",
    "first_response_median",
    "first_response_p90",
    "resolution_median",
    "resolution_p90",
    "targets_met",
    "targets_breached",
]
TIMES = {c for c in COLUMNS if c.endswith(("median", "p90"))}


def register(sla: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sla.add_parser(
        "report", help="cases, response and resolution times, targets met per type and month"
    )
    p.add_argument("--type", dest="case_type", help="one case type (default: all you may read)")
    p.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month")
    p.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month")
    p.add_argument(
        "--at-risk-hours",
        type=float,
        default=4.0,
        help="open cases due to breach within this many hours count as at risk (default 4)",
    )
    p.add_argument("--csv", action="store_true", help="print the monthly rows as CSV")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_sla_report)
    p = sla.add_parser(
        "whatif", help="replay a period's cases under another SLA policy; nothing is stored"
    )
    p.add_argument("--case-type", required=True)
    p.add_argument("--policy", type=Path, required=True, help="TOML file with an [sla] section")
    p.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD", help="exclusive")
    p.add_argument("--limit", type=int, default=50, help="changed targets to list (default 50)")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_sla_whatif)


def months(first: str | None, last: str | None) -> tuple[int | None, int | None]:
    """The month range as ``yyyymm`` numbers; ``InvalidInput`` (exit 6) when malformed."""
    found: list[int | None] = []
    for name, text in (("from", first), ("to", last)):
        try:
            found.append(sla_report.month_number(text) if text else None)
        except ValueError as exc:
            raise InvalidInput("the month range is not valid", {name: str(exc)}) from None
    return found[0], found[1]


def cmd_sla_report(args: argparse.Namespace) -> int:
    first, last = months(args.first, args.last)
    if not 0 < args.at_risk_hours <= 24 * 366:
        raise InvalidInput("not a horizon", {"at_risk_hours": "between 0 and 8784 hours"})
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
        types = report_types(work, subject, args.case_type)
        report = sla_report.build(
            work,
            case_type_ids=types,
            first_month=first,
            last_month=last,
            at_risk_hours=args.at_risk_hours,
        )
    data = sla_report.as_dicts(report)
    if args.json:
        emit(data, as_json=True)
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data["rows"])
    else:
        emit([_readable(row) for row in data["rows"]], as_json=False, table=COLUMNS)
        print(f"\nat risk now (breach due within {args.at_risk_hours:g} h):")
        emit(data["at_risk"], as_json=False, table=["case_type", "group", "priority", "cases"])
    return 0


def read_policy(path: Path) -> SlaPolicy:
    """The ``[sla]`` section of a TOML file as a policy; ``InvalidInput`` (exit 6) if not."""
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("sla")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}", {"policy": str(exc)}) from None
    if not isinstance(section, dict):
        raise InvalidInput(f"{path} has no [sla] section", {"policy": "add an [sla] table"})
    try:
        return whatif.proposal(json.loads(json.dumps(section, default=str)))
    except ValueError as exc:
        raise InvalidInput("the SLA policy is not valid", {"policy": str(exc)}) from None


def day(text: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError:
        problem = f"{text!r} is not a date like 2026-03-01"
        raise InvalidInput("not a date", {name: problem}) from None


def cmd_sla_whatif(args: argparse.Namespace) -> int:
    policy = read_policy(args.policy)
    first, last = day(args.first, "from"), day(args.last, "to")
    if last <= first:
        raise InvalidInput("the period is empty", {"to": "must be after --from"})
    if not 0 <= args.limit <= 100_000:
        raise InvalidInput("too many changes to list", {"limit": "between 0 and 100000"})
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
        types = report_types(work, subject, args.case_type)
        assert types is not None  # a type asked for by name answers its id
        (type_id,) = types
        found = whatif.replay(
            work,
            case_type_id=type_id,
            policy=policy,
            opened_from=first,
            opened_to=last,
            keep_changes=args.limit,
        )
    changes = [vars(c) for c in found.changes]
    if args.json:
        emit(
            {
                "cases": found.cases,
                "changed_cases": found.changed_cases,
                "targets": found.table(),
                "changes": changes,
            },
            as_json=True,
        )
        return 0
    print(f"{found.cases} case(s) replayed; {found.changed_cases} would end differently")
    emit(found.table(), as_json=False)
    if changes:
        print()
        emit(changes, as_json=False, table=["case", "target", "now", "proposed"])
    return 0


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """Seconds as ``3h 05m`` for people (CSV and JSON keep seconds)."""
    return {k: _span(v) if k in TIMES and v is not None else v for k, v in row.items()}


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours:02d}h" if days else f"{hours}h {minutes:02d}m"
