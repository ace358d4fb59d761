"""``run.py views list|save|delete`` and ``run.py case bulk`` (``cases`` is ``case`` too):
an agent's personal inbox views and the inbox's bulk actions from the command line.

Both go through the rules the inbox page uses (``rules.saved_views``,
``rules.bulk_acts.act_on_each``).  A bulk action acts on each case in a transaction of its
own: every case gets a line, done or refused with its reason - a case the user may not see
is "not found", like one that does not exist - and the others stand.  The exit code is 0
when every case was done, else that of the first refusal's kind (3 not found, 4 forbidden,
5 conflict, 6 invalid input); ``--json`` prints one object per case either way.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from engine.errors import NotFound
from engine.run.cases import PRIORITIES
from engine.runtime import UnitOfWork
from engine.store.access import PersonalView
from people.directory import user_by_name
from rules import bulk_acts, load_subject, saved_views
from rules.subject import Subject
from rules.worklist import FILTERS, SORTS

from .context import add_as, runtime
from .errors import EXIT_CODES
from .output import done, emit

#: the exit code of each refusal kind (the table of ``cli.errors``)
_CODES = {kind: code for code, (kind, _) in EXIT_CODES.items()}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    views = commands.add_parser(
        "views", help="your personal inbox views (a saved filter and sort)"
    ).add_subparsers(dest="action", required=True)
    p = views.add_parser("list", help="the personal views of the user")
    add_as(p)
    p.set_defaults(handler=cmd_views_list)
    p = views.add_parser("save", help="save a filter and sort under a name (replaces it)")
    p.add_argument("name")
    p.add_argument("--show", choices=FILTERS, help="which open cases (default all)")
    p.add_argument("--sort", choices=SORTS, help="sort column (default sla)")
    p.add_argument("--dir", choices=["asc", "desc"], help="sort direction")
    p.add_argument("--view", help="a role view offered to the user's groups (`view list`)")
    add_as(p)
    p.set_defaults(handler=cmd_views_save)
    p = views.add_parser("delete", help="delete one of the user's personal views")
    p.add_argument("view", metavar="ID|NAME")
    add_as(p)
    p.set_defaults(handler=cmd_views_delete)


def register_case(case: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``case bulk``, beside the other case commands."""
    p = case.add_parser("bulk", help="assign, set the priority of or close many cases")
    p.add_argument("numbers", nargs="+", metavar="NUMBER", help="case numbers, e.g. C-000123")
    act = p.add_mutually_exclusive_group(required=True)
    act.add_argument("--assign", metavar="USER", help="assign each case to USER")
    act.add_argument("--unassign", action="store_true", help="leave each case unassigned")
    act.add_argument("--priority", choices=PRIORITIES)
    act.add_argument("--close", action="store_true", help="close each case (no open tasks)")
    p.add_argument("--outcome", default="", help="with --close: what the cases ended with")
    add_as(p)
    p.set_defaults(handler=cmd_case_bulk)


def _view_row(view: PersonalView) -> dict[str, Any]:
    return {"id": view.id, "name": view.name, "params": view.params}


def _me(work: UnitOfWork, args: argparse.Namespace) -> Subject:
    return load_subject(work, user_by_name(work, args.as_user))


def cmd_views_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rows = [_view_row(v) for v in saved_views.personal_views(work, _me(work, args))]
    emit(rows, as_json=args.json, table=["id", "name", "params"])
    return 0


def cmd_views_save(args: argparse.Namespace) -> int:
    params = {k: getattr(args, k) for k in saved_views.PERSONAL_KEYS if getattr(args, k)}
    with runtime(args) as rt, rt.unit() as work:
        view = saved_views.save_personal_view(work, _me(work, args), args.name, params)
        row = _view_row(view)
    done(f"saved view {row['id']}: {row['name']}", as_json=args.json, **row)
    return 0


def cmd_views_delete(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        me = _me(work, args)
        mine = saved_views.personal_views(work, me)
        found = next((v for v in mine if str(v.id) == args.view or v.name == args.view), None)
        if found is None:
            raise NotFound(f"no personal view {args.view!r} for {me.username}")
        row = _view_row(found)
        saved_views.delete_personal_view(work, me, found.id)
    done(f"deleted view {row['id']}: {row['name']}", as_json=args.json, **row, deleted=True)
    return 0


def cmd_case_bulk(args: argparse.Namespace) -> int:
    if args.priority:
        act, value = "priority", args.priority
    elif args.close:
        act, value = "close", args.outcome
    else:
        act, value = "assign", "" if args.unassign else args.assign

    with runtime(args) as rt:

        @contextmanager
        def acting() -> Iterator[tuple[UnitOfWork, Subject]]:
            with rt.unit() as work:
                yield work, _me(work, args)

        outcomes = bulk_acts.act_on_each(acting, act, value, args.numbers)
    rows = [asdict(o) for o in outcomes]
    if args.json:
        emit(rows, as_json=True)
    else:
        for o in outcomes:
            print(f"{o.case}: {'done' if o.done else 'refused: ' + str(o.reason)}")
        refused = sum(not o.done for o in outcomes)
        print(f"{len(outcomes) - refused} done, {refused} refused")
    first = next((o for o in outcomes if not o.done), None)
    return _CODES.get(first.kind or "", 6) if first else 0
