"""``run.py retention purge`` and ``run.py contact erase|export``: personal data kept only
as long as needed, erased or handed over on request.

Without ``--as`` the operator at the command line acts; with it, only an administrator may
(``rules.privacy_acts``).  A purge runs in batches of short transactions, so it can be
stopped and run again; ``--dry-run`` only counts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.runtime import UnitOfWork
from people.directory import user_by_name
from rules import load_subject, privacy_acts
from rules.subject import Subject

from .context import add_as, runtime
from .output import emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "retention", help="purge closed cases past their case type's retention period"
    ).add_subparsers(dest="action", required=True)
    p = sub.add_parser("purge", help="delete closed cases older than [retention] closed_days")
    p.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_purge)


def register_contact(contact: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``contact erase`` and ``contact export``, beside ``contact add``."""
    p = contact.add_parser("erase", help="replace a person's name and address with 'erased'")
    p.add_argument("person", metavar="EMAIL|ID", help="email address or contact id")
    p.add_argument("--dry-run", action="store_true", help="count what would change")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_erase)
    p = contact.add_parser("export", help="everything stored about a person, as JSON")
    p.add_argument("person", metavar="EMAIL|ID", help="email address or contact id")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.json")
    add_as(p, required=False)
    p.set_defaults(handler=cmd_export)


def cmd_purge(args: argparse.Namespace) -> int:
    if args.dry_run:
        with runtime(args) as rt, rt.unit() as work:
            rows = privacy_acts.purge_due(work, _subject(work, args))
        emit(rows, as_json=args.json, table=["case_type", "closed_days", "cases"])
        return 0
    purged: dict[str, int] = {}
    with runtime(args) as rt:
        while True:
            with rt.unit() as work:
                batch = privacy_acts.purge_batch(work, _subject(work, args))
            if not batch:
                break
            for key, count in batch.items():
                purged[key] = purged.get(key, 0) + count
    rows = [{"case_type": key, "purged": count} for key, count in sorted(purged.items())]
    if args.json:
        emit(rows, as_json=True)
    else:
        print(f"purged {sum(purged.values())} closed case(s)")
        if rows:
            emit(rows, as_json=False, table=["case_type", "purged"])
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        result = privacy_acts.erase_person(
            work, _subject(work, args), args.person, dry_run=args.dry_run
        )
    if args.json:
        emit(result, as_json=True)
    else:
        verb = "would change" if args.dry_run else "erased as"
        print(f"{args.person}: {verb} {result['person']} ({sum(result['rows'].values())} rows)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        data = privacy_acts.export_person(work, _subject(work, args), args.person)
    args.output.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    summary = {key: len(value) for key, value in data.items()}
    if args.json:
        emit({"file": str(args.output), **summary}, as_json=True)
    else:
        print(f"{args.output}: " + ", ".join(f"{n} {key}" for key, n in summary.items()))
    return 0


def _subject(work: UnitOfWork, args: argparse.Namespace) -> Subject | None:
    return load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
