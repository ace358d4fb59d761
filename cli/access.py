"""Commands for permissions: grant, restrict, hide, and explain a decision."""

from __future__ import annotations

import argparse

from engine.errors import InvalidInput
from engine.run.cases import case_by_number
from people.directory import user_by_name
from rules import case_acts, load_subject
from rules.admin import (
    TYPE_LEVELS,
    auto_follow,
    permit_case_type,
    permit_customers,
    set_portal_access,
)
from rules.case_acts import explain_for
from rules.levels import ACTIONS
from rules.restriction import grant, restrict, unrestrict
from rules.saved_views import add_view, views_for
from rules.sections import SECTIONS

from .context import add_as, runtime
from .output import done, emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    access = commands.add_parser("access", help="permissions: grant and explain").add_subparsers(
        dest="action", required=True
    )
    register_views(commands)
    p = access.add_parser("explain", help="why a user may or may not act on a case")
    p.add_argument("--user", required=True)
    p.add_argument("--case", required=True, dest="number")
    p.add_argument("--action", dest="what", default="read", choices=list(ACTIONS))
    p.add_argument("--section", choices=list(SECTIONS))
    add_as(p, required=False)  # who asks: themselves, or an administrator about anyone
    p.set_defaults(handler=cmd_explain)
    p = access.add_parser("permit", help="set a group's level on a case type")
    p.add_argument("group")
    p.add_argument("--type", dest="case_type", required=True, help="case-type key, or 'all'")
    p.add_argument("--level", choices=TYPE_LEVELS, help="default read; 'no' keeps them out")
    p.add_argument("--write", action="store_true", help="the same as --level write")
    p.set_defaults(handler=cmd_permit)
    p = access.add_parser("customers", help="let a group read a customer group's cases")
    p.add_argument("group")
    p.add_argument("--customer", required=True, help="customer group name, or 'all'")
    p.set_defaults(handler=cmd_customers)
    p = access.add_parser("portal", help="give a user portal access")
    p.add_argument("username")
    p.add_argument("--view", choices=["own", "all"], default="own")
    p.add_argument("--edit", choices=["own", "all"], default="own")
    p.add_argument(
        "--parent", action="store_true", help="view child customers' cases (needs all/all)"
    )
    p.add_argument("--types", default="", help="comma-separated case types they may open")
    p.set_defaults(handler=cmd_portal)
    for name, help_text in (
        ("restrict", "restrict a case to explicit grants (admins only)"),
        ("grant", "add case-level grants; restricts the case if it is not (admins only)"),
    ):
        p = access.add_parser(name, help=help_text)
        p.add_argument("number")
        p.add_argument(
            "--grant",
            action="append",
            default=[],
            metavar="user:NAME:LEVEL",
            help="user:NAME:read|full or group:NAME:read|full; none = admins only",
        )
        add_as(p)
        p.set_defaults(handler=cmd_restrict if name == "restrict" else cmd_grant)
    p = access.add_parser("unrestrict", help="lift a case's restriction (admins only)")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_unrestrict)
    p = access.add_parser("hide", help="hide a case from the customer portal")
    p.add_argument("number")
    p.add_argument("--show", action="store_true", help="show it again")
    add_as(p)
    p.set_defaults(handler=cmd_hide)


def register_views(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    view = commands.add_parser("view", help="named case lists offered to groups").add_subparsers(
        dest="action", required=True
    )
    p = view.add_parser("add")
    p.add_argument("name")
    p.add_argument("--types", default="", help="comma-separated case-type keys (default: all)")
    p.add_argument("--scopes", default="", help="comma-separated: open, closed (default: all)")
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="priority=high, status=open, assignee=me or assignee=none",
    )
    p.add_argument("--groups", required=True, help="comma-separated groups offered the view")
    p.set_defaults(handler=cmd_view_add)
    p = view.add_parser("list", help="the views a user may use")
    add_as(p)
    p.set_defaults(handler=cmd_view_list)
    p = commands.add_parser("follow", help="auto-follow every new case of a case type")
    p.add_argument("--type", dest="case_type", required=True)
    add_as(p)
    p.set_defaults(handler=cmd_follow)


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def cmd_view_add(args: argparse.Namespace) -> int:
    filters = {}
    for item in args.filter:
        field, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput("invalid --filter", {item: "expected FIELD=VALUE"})
        filters[field] = value
    with runtime(args) as rt, rt.unit() as work:
        add_view(
            work,
            name=args.name,
            case_types=_csv(args.types),
            scopes=_csv(args.scopes),
            filters=filters,
            groups=_csv(args.groups),
        )
    done(
        f"view {args.name} offered to {args.groups}",
        as_json=args.json,
        view=args.name,
        groups=_csv(args.groups),
    )
    return 0


def cmd_view_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = [
            {
                "name": v.name,
                "types": v.case_types or ["all"],
                "scopes": v.scopes or ["all"],
                "filters": v.filters,
            }
            for v in views_for(work, subject)
        ]
    emit(rows, as_json=args.json, table=["name", "types", "scopes", "filters"])
    return 0


def cmd_follow(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        auto_follow(work, user_id=user.id, case_type=args.case_type)
    done(
        f"{args.as_user} follows new {args.case_type} cases they may see",
        as_json=args.json,
        user=args.as_user,
        follows=args.case_type,
    )
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        asker = load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None
        target = load_subject(work, user_by_name(work, args.user))
        decision = explain_for(work, asker, target, args.number, args.what, args.section)
    if args.json:
        emit(decision.as_dict(), as_json=True)
    else:
        print("\n".join(decision.lines()))
    return 0 if decision.allowed else 4


def cmd_permit(args: argparse.Namespace) -> int:
    case_type = None if args.case_type == "all" else args.case_type
    level = args.level or ("write" if args.write else "read")
    with runtime(args) as rt, rt.unit() as work:
        permit_case_type(work, group=args.group, case_type=case_type, level=level)
    done(
        f"{args.group}: level {level} on {args.case_type} cases",
        as_json=args.json,
        group=args.group,
        case_type=args.case_type,
        level=level,
    )
    return 0


def cmd_customers(args: argparse.Namespace) -> int:
    customer = None if args.customer == "all" else args.customer
    with runtime(args) as rt, rt.unit() as work:
        permit_customers(work, group=args.group, customer=customer)
    done(
        f"{args.group} may read cases of customer group {args.customer}",
        as_json=args.json,
        group=args.group,
        customer_group=args.customer,
    )
    return 0


def cmd_portal(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        set_portal_access(
            work,
            username=args.username,
            view=args.view,
            edit=args.edit,
            parent_visibility=args.parent,
            case_types=_csv(args.types),
        )
    done(
        f"{args.username}: portal view {args.view}, edit {args.edit}"
        + (", parent customers see child cases" if args.parent else "")
        + (f", opens {args.types}" if args.types else ", opens no case type"),
        as_json=args.json,
        user=args.username,
        view=args.view,
        edit=args.edit,
        parent_visibility=args.parent,
        case_types=_csv(args.types),
    )
    return 0


def _grants(values: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    users: list[tuple[str, str]] = []
    groups: list[tuple[str, str]] = []
    for value in values:
        parts = value.split(":")
        if len(parts) != 3 or parts[0] not in ("user", "group"):
            raise InvalidInput(
                "invalid --grant", {value: "expected user:NAME:LEVEL or group:NAME:LEVEL"}
            )
        (users if parts[0] == "user" else groups).append((parts[1], parts[2]))
    return users, groups


def cmd_restrict(args: argparse.Namespace) -> int:
    users, groups = _grants(args.grant)
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        restrict(work, subject, case_by_number(work, args.number), users=users, groups=groups)
    done(
        f"{args.number} is restricted to "
        + (", ".join(args.grant) if args.grant else "administrators"),
        as_json=args.json,
        case=args.number,
        restricted=True,
        grants=args.grant,
    )
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    users, groups = _grants(args.grant)
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        restricted = grant(
            work, subject, case_by_number(work, args.number), users=users, groups=groups
        )
    done(
        f"{args.number}: granted {', '.join(args.grant)}"
        + ("; the case is now restricted to its grants" if restricted else ""),
        as_json=args.json,
        case=args.number,
        grants=args.grant,
        newly_restricted=restricted,
    )
    return 0


def cmd_unrestrict(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        unrestrict(work, subject, case_by_number(work, args.number))
    done(
        f"{args.number} is no longer restricted: system permissions apply again",
        as_json=args.json,
        case=args.number,
        restricted=False,
    )
    return 0


def cmd_hide(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        case_acts.set_hidden(work, subject, args.number, hidden=not args.show)
    done(
        f"{args.number} is {'visible in' if args.show else 'hidden from'} the portal",
        as_json=args.json,
        case=args.number,
        hidden_from_portal=not args.show,
    )
    return 0
