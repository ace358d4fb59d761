"""``run.py users invite|deactivate|reactivate|reset-password|assignments`` (``users`` is
``user`` too): administering users from the command line through the doors the web's admin
pages use, ``mail.invitations`` and ``rules.user_admin``.

Without ``--as`` the operator at the command line acts (trusted, as for every command);
with it, only an administrator may.  Either way the nonsense is refused as on the web: a
customer joining an agent group, deactivating the last active administrator.  Invitations
and resets are mailed through the outbox (``run.py worker`` sends it); the link is printed
only when there is no address to mail it to.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.runtime import UnitOfWork
from mail import invitations
from people.directory import user_by_name
from rules import load_subject, user_admin
from rules.subject import Subject

from .context import add_as, application
from .output import done, emit, print_table

ASSIGNMENT_COLUMNS = ["kind", "case", "what"]


def register_user(user: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Beside ``user add``, ``list`` and ``passwd``."""
    p = user.add_parser("invite", help="create a user without a password and mail them a link")
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("--username", help="default: the part of EMAIL before the @")
    p.add_argument("--name", default="", help="display name")
    p.add_argument(
        "--group", action="append", default=[], metavar="GROUP", help="a group to join (repeat)"
    )
    p.add_argument(
        "--lead",
        action="append",
        default=[],
        metavar="GROUP",
        help="a group to join as its lead, who also manages what it shares (repeat)",
    )
    add_as(p, required=False)
    p.set_defaults(handler=cmd_invite)
    for action, help_text in (
        ("deactivate", "no more sign-ins, sessions or API tokens; lists their open work"),
        ("reactivate", "let a deactivated user sign in again"),
        ("reset-password", "forget the password, end the sessions, mail a link to set one"),
        ("assignments", "the open cases assigned to a user and the open tasks they hold"),
    ):
        p = user.add_parser(action, help=help_text)
        p.add_argument("username", metavar="NAME")
        add_as(p, required=False)
        p.set_defaults(handler=cmd_user_admin, act=action)


def _subject(work: UnitOfWork, args: argparse.Namespace) -> Subject | None:
    return load_subject(work, user_by_name(work, args.as_user)) if args.as_user else None


def _issued(args: argparse.Namespace, issued: invitations.Issued, what: str) -> None:
    name = issued.user.username
    if issued.mailed_to:
        line = f"{what}; the link to set a password is mailed to {issued.mailed_to}"
    else:
        line = f"{what}; no address to mail: hand over this link, it works once:\n{issued.url}"
    done(
        line,
        as_json=args.json,
        username=name,
        email=issued.user.email,
        mailed_to=issued.mailed_to,
        link=None if issued.mailed_to else issued.url,
    )


def cmd_invite(args: argparse.Namespace) -> int:
    username = args.username or args.email.partition("@")[0]
    with application(args) as app, app.runtime.unit() as work:
        issued = invitations.invite(
            work,
            _subject(work, args),
            app.mail,
            username=username,
            display_name=args.name,
            email=args.email,
            groups=args.group,
            leads=args.lead,
        )
        named = [*args.group, *(f"{g} (lead)" for g in args.lead)]
        groups = f" in {', '.join(dict.fromkeys(named))}" if named else ""
        _issued(args, issued, f"invited {issued.user.username}{groups}")
    return 0


def cmd_user_admin(args: argparse.Namespace) -> int:
    with application(args) as app, app.runtime.unit() as work:
        subject = _subject(work, args)
        if args.act == "reset-password":
            issued = invitations.reset_password(work, subject, app.mail, username=args.username)
            _issued(args, issued, f"password of {args.username} forgotten, sessions ended")
            return 0
        if args.act != "assignments":
            active = args.act == "reactivate"
            user_admin.switch_user(work, subject, username=args.username, active=active)
        rows = user_admin.open_assignments(work, subject, username=args.username)
    _print(args, rows)
    return 0


def _print(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    if args.act == "assignments":
        emit(rows, as_json=args.json, table=ASSIGNMENT_COLUMNS)
        return
    active = args.act == "reactivate"
    if args.json:
        emit({"username": args.username, "active": active, "assignments": rows}, as_json=True)
        return
    if active:
        print(f"{args.username} is active again and may sign in")
    else:
        print(f"{args.username} is deactivated: sessions ended, API tokens stopped")
    if rows:
        state = "wait for someone else" if not active else "are assigned to them"
        print(f"{len(rows)} open assignment(s) {state}:")
        print_table(rows, ASSIGNMENT_COLUMNS)
