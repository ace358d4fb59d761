"""Set-up commands: database and directory (users, groups, customers).

Group membership goes through ``rules.user_admin`` like the web's admin pages, so a
customer is refused an agent group here too; inviting, deactivating and resetting users
is ``cli/users.py``."""

from __future__ import annotations

import argparse
import getpass
import sys

from engine.errors import InvalidInput
from engine.runtime import UnitOfWork
from people import directory, logins, passwords
from rules import load_subject, user_admin
from rules.subject import Subject

from . import parties, privacy, users
from .context import add_as, runtime
from .output import done, emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("init", help="create or upgrade the database")
    p.set_defaults(handler=cmd_init)

    user = commands.add_parser(
        "user", aliases=["users"], help="manage users (invite, deactivate, reset, ...)"
    ).add_subparsers(dest="action", required=True)
    p = user.add_parser("add")
    p.add_argument("username")
    p.add_argument("--name", default="", help="display name")
    p.add_argument("--email")
    p.add_argument("--password", help="at least 12 characters, not easy to guess")
    p.add_argument("--admin", action="store_true")
    p.set_defaults(handler=cmd_user_add)
    user.add_parser("list").set_defaults(handler=cmd_user_list)
    p = user.add_parser("passwd", help="set a user's password (ends their web sessions)")
    p.add_argument("username")
    p.add_argument(
        "--password",
        help="the new password; without it, asked for on a terminal, else read from stdin",
    )
    p.set_defaults(handler=cmd_user_passwd)
    users.register_user(user)

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
        if action == "add":
            p.add_argument(
                "--role",
                choices=directory.MEMBER_ROLES,
                help="lead: also manages the group's canned replies (also changes a member's)",
            )
        add_as(p, required=False)
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
    p.add_argument("--customer", help="customer group (default: the account's)")
    p.add_argument("--account", help="the account the contact works for")
    p.add_argument("--email")
    p.add_argument("--user", help="portal login acting as this contact")
    p.set_defaults(handler=cmd_contact_add)
    privacy.register_contact(contact)
    parties.register_contact(contact)


def cmd_init(args: argparse.Namespace) -> int:
    with runtime(args) as rt:
        rt.init_schema()
        url = rt.db.url.render_as_string(hide_password=True)
        done(f"database ready: {url}", as_json=args.json, database=url, ready=True)
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


def _new_password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the password was not set", {"password": "the two entries differ"})
    return first


def cmd_user_passwd(args: argparse.Namespace) -> int:
    new_hash = passwords.hash_new(_new_password(args), username=args.username)
    with runtime(args) as rt, rt.unit() as work:
        user = directory.user_by_name(work, args.username)
        logins.replace_password(work, user, new_hash, actor_id=None, reset=True)
    done(
        f"password of {args.username} changed; their web sessions have ended",
        as_json=args.json,
        user=args.username,
        sessions_ended=True,
    )
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


def _admin(work: UnitOfWork, args: argparse.Namespace) -> Subject | None:
    """The acting administrator (``--as``), or None: the operator at the command line."""
    if not args.as_user:
        return None
    return load_subject(work, directory.user_by_name(work, args.as_user))


def cmd_member_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = _admin(work, args)
        user_admin.join_group(
            work, subject, username=args.username, group=args.group, role=args.role
        )
    done(
        f"{args.username} is a {args.role or 'member'} of {args.group}",
        as_json=args.json,
        username=args.username,
        group=args.group,
        member=True,
        role=args.role or "member",
    )
    return 0


def cmd_member_remove(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = _admin(work, args)
        user_admin.leave_group(work, subject, username=args.username, group=args.group)
    done(
        f"{args.username} is no longer a member of {args.group}",
        as_json=args.json,
        username=args.username,
        group=args.group,
        member=False,
    )
    return 0


def cmd_customer_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        group = directory.add_customer_group(work, name=args.name, parent=args.parent)
        emit({"id": group.id, "name": group.name, "parent": args.parent}, as_json=args.json)
    return 0


def cmd_contact_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        contact = directory.add_contact(
            work,
            name=args.name,
            customer_group=args.customer,
            account=args.account,
            email=args.email,
            username=args.user,
        )
        emit(
            {"id": contact.id, "name": contact.name, "customer": args.customer}
            | ({"account": args.account} if args.account else {}),
            as_json=args.json,
        )
    return 0
