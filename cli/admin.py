"""Set-up commands: database, directory (users, groups, customers) and case types."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine import deploy as deploying
from engine import directory
from engine.definitions.config import CaseTypeConfig
from engine.errors import DefinitionError, Problem

from .context import runtime
from .output import emit


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("init", help="create or upgrade the database")
    p.set_defaults(handler=cmd_init)

    p = commands.add_parser(
        "validate", help="check BPMN files (file:line: message; exit 1 on errors)"
    )
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--config", type=Path, help="case-type TOML (default: beside each BPMN file)")
    p.set_defaults(handler=cmd_validate)

    p = commands.add_parser("deploy", help="deploy a case type (BPMN + its TOML) as a new version")
    p.add_argument("file", type=Path)
    p.add_argument("--type", dest="key", help="case-type key; must match the TOML")
    p.add_argument("--config", type=Path, help="case-type TOML (default: FILE with .toml)")
    p.set_defaults(handler=cmd_deploy)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    p = user.add_parser("add")
    p.add_argument("username")
    p.add_argument("--name", default="", help="display name")
    p.add_argument("--email")
    p.add_argument("--password")
    p.add_argument("--admin", action="store_true")
    p.set_defaults(handler=cmd_user_add)
    user.add_parser("list").set_defaults(handler=cmd_user_list)

    group = commands.add_parser("group", help="manage groups").add_subparsers(
        dest="action", required=True
    )
    p = group.add_parser("add")
    p.add_argument("name")
    p.add_argument("--description", default="")
    p.set_defaults(handler=cmd_group_add)
    group.add_parser("list").set_defaults(handler=cmd_group_list)

    member = commands.add_parser("member", help="group membership").add_subparsers(
        dest="action", required=True
    )
    for action, handler in (("add", cmd_member_add), ("remove", cmd_member_remove)):
        p = member.add_parser(action)
        p.add_argument("username")
        p.add_argument("group")
        p.set_defaults(handler=handler)

    customer = commands.add_parser("customer", help="customer groups").add_subparsers(
        dest="action", required=True
    )
    p = customer.add_parser("add")
    p.add_argument("name")
    p.add_argument("--parent")
    p.set_defaults(handler=cmd_customer_add)

    contact = commands.add_parser("contact", help="customer contacts").add_subparsers(
        dest="action", required=True
    )
    p = contact.add_parser("add")
    p.add_argument("name")
    p.add_argument("--customer", required=True, help="customer group")
    p.add_argument("--email")
    p.add_argument("--user", help="portal login acting as this contact")
    p.set_defaults(handler=cmd_contact_add)


def cmd_init(args: argparse.Namespace) -> int:
    with runtime(args) as rt:
        rt.init_schema()
        print(f"database ready: {rt.db.url.render_as_string(hide_password=True)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate files without a database.

    Without a case-type TOML the BPMN file is still checked in full; lanes are then
    read as manager lanes and a warning says their mapping was not checked.
    """
    errors = 0
    for path in args.files:
        problems: list[Problem] = []
        try:
            config, missing = _config_for(path, args.config)
            if missing:
                problems.append(missing)
            problems += deploying.read_definition(path, config).notes
        except DefinitionError as exc:
            problems += exc.problems
        for problem in problems:
            print(problem)
        if any(p.severity == "error" for p in problems):
            errors += 1
        else:
            print(f"{path}: ok")
    return 1 if errors else 0


def _config_for(path: Path, explicit: Path | None) -> tuple[CaseTypeConfig, Problem | None]:
    if explicit or deploying.config_path_for(path).exists():
        return deploying.resolve_config(path, explicit, None), None
    lanes = deploying.lane_names(path)
    config = CaseTypeConfig(
        key="UNCHECKED",
        name="Unchecked",
        prefix="X",
        lanes=dict.fromkeys(lanes, "manager"),
        roles={"manager": ["(any group)"]},
        source=str(deploying.config_path_for(path)),
    )
    warning = Problem(
        str(path),
        f"no {deploying.config_path_for(path).name} beside it: lanes "
        "and groups were not checked (pass --config FILE)",
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
            {"case_type": result.case_type, "version": result.version, "created": result.created},
            as_json=True,
        )
    else:
        print(f"{result.case_type}: {verb} version {result.version}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = directory.add_user(
            work,
            username=args.username,
            display_name=args.name,
            email=args.email,
            password=args.password,
            is_admin=args.admin,
        )
        emit({"id": user.id, "username": user.username, "admin": user.is_admin}, as_json=args.json)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rows = [
            {
                "username": u.username,
                "name": u.display_name,
                "email": u.email,
                "admin": u.is_admin,
                "groups": directory.groups_of(work, u.id),
            }
            for u in directory.list_users(work)
        ]
    emit(rows, as_json=args.json, table=["username", "name", "email", "admin", "groups"])
    return 0


def cmd_group_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        group = directory.add_group(work, name=args.name, description=args.description)
        emit({"id": group.id, "name": group.name}, as_json=args.json)
    return 0


def cmd_group_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rows = [
            {"name": g.name, "members": members, "description": g.description}
            for g, members in directory.list_groups(work)
        ]
    emit(rows, as_json=args.json, table=["name", "members", "description"])
    return 0


def cmd_member_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        directory.add_member(work, username=args.username, group=args.group)
    print(f"{args.username} is a member of {args.group}")
    return 0


def cmd_member_remove(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        directory.remove_member(work, username=args.username, group=args.group)
    print(f"{args.username} is no longer a member of {args.group}")
    return 0


def cmd_customer_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        group = directory.add_customer_group(work, name=args.name, parent=args.parent)
        emit({"id": group.id, "name": group.name, "parent": args.parent}, as_json=args.json)
    return 0


def cmd_contact_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        contact = directory.add_contact(
            work, name=args.name, customer_group=args.customer, email=args.email, username=args.user
        )
        emit({"id": contact.id, "name": contact.name, "customer": args.customer}, as_json=args.json)
    return 0
