"""``mail mailbox add|edit|enable|disable|remove|test|list``: the group mailboxes.

A password never appears on the command line: ``--password-env VAR`` reads it from the
environment now and stores it encrypted (``CASEWORK_SECRET_KEY``), ``--password-ref
env:NAME`` or ``file:/path`` stores only where it is read from at each sign-in.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from engine.errors import InvalidInput
from engine.store.mailbox import REFUSED_MATCH, Mailbox
from mail import credentials, mailbox_health
from mail.mailboxes import (
    AUTH_METHODS,
    MailboxSpec,
    add_mailbox,
    edit_mailbox,
    list_mailboxes,
    mailbox_by_name,
    remove_mailbox,
    set_active,
)
from mail.message.thread_keys import DEFAULT_SUBJECT_PATTERNS
from mail.probe import try_sign_in

from .context import runtime
from .output import done, emit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    boxes = sub.add_parser("mailbox", help="group mailboxes").add_subparsers(
        dest="mailbox_action", required=True
    )
    p = boxes.add_parser("add", help="watch an IMAP folder; its mail opens cases of a type")
    p.add_argument("name")
    _fields(p, new=True)
    p.set_defaults(handler=cmd_add)
    p = boxes.add_parser("edit", help="change a mailbox (only the options given)")
    p.add_argument("name")
    _fields(p, new=False)
    p.set_defaults(handler=cmd_edit)
    for action, text in (("enable", "poll it again"), ("disable", "stop polling it")):
        p = boxes.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(handler=cmd_enable if action == "enable" else cmd_disable)
    p = boxes.add_parser("remove", help="delete a mailbox that never took mail in")
    p.add_argument("name")
    p.set_defaults(handler=cmd_remove)
    p = boxes.add_parser("test", help="sign in and open the folder; says what is wrong")
    p.add_argument("name")
    p.set_defaults(handler=cmd_test)
    p = boxes.add_parser("list")
    p.set_defaults(handler=cmd_list)


def _fields(p: argparse.ArgumentParser, *, new: bool) -> None:
    """The mailbox's options; for ``edit`` none is required and none has a default."""

    def opt(*names: str, required: bool = False, default: Any = None, **kw: Any) -> None:
        p.add_argument(*names, required=new and required, default=default if new else None, **kw)

    opt("--case-type", required=True, help="key of the case type, e.g. SUPPORT")
    opt("--address", required=True, help="the group address customers write to")
    opt("--host", required=True)
    opt("--port", type=int, help="default 993 (TLS) or 143")
    p.add_argument(
        "--no-tls",
        action="store_const",
        const=True,
        default=False if new else None,
        help="plain IMAP (only on a trusted network)",
    )
    if not new:
        p.add_argument("--tls", action="store_true", help="use TLS again")
    opt("--user", required=True)
    secret = p.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password (or token) from this environment variable now and store it "
        "encrypted (default for add: IMAP_PASSWORD)",
    )
    secret.add_argument(
        "--password-ref",
        metavar="env:NAME|file:PATH",
        help="store only where the password is read from at each sign-in",
    )
    opt("--auth", choices=AUTH_METHODS, default="password", help="xoauth2: an OAuth2 token")
    opt("--customer-group", required=True, help="group of new contacts by default")
    opt("--folder", default="INBOX")
    opt("--processed-folder", help="move taken mail here (default: flag it)")
    opt("--max-bytes", type=int, default=10 * 1024 * 1024)
    opt("--poll-seconds", type=int, default=60)
    p.add_argument(
        "--acknowledge",
        action=argparse.BooleanOptionalAction,
        default=False if new else None,
        help="send the sender of a new case an automatic acknowledgement",
    )
    opt(
        "--refused-match",
        choices=REFUSED_MATCH,
        default="new_case",
        help="mail naming a case its sender takes no part in: open a new case (default) "
        "or hold it for triage by an agent",
    )
    p.add_argument(
        "--subject-pattern",
        action="append",
        metavar="NAME=REGEX",
        help="find a case number in a subject (one group); repeat for several, 'defaults' "
        "for the built-in list (default: the built-in list only)",
    )


def _secret(args: argparse.Namespace, *, new: bool) -> str | None:
    if args.password_ref:
        return str(args.password_ref)
    variable = args.password_env or ("IMAP_PASSWORD" if new else None)
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise InvalidInput(
            "no IMAP password given", {"--password-env": f"set the environment variable {variable}"}
        )
    return value


def subject_pattern_args(values: list[str] | None) -> tuple[tuple[str, str], ...] | None:
    """``NAME=REGEX`` options (``defaults`` for the built-in list) as (name, regex) pairs."""
    if not values:
        return None
    pairs: list[tuple[str, str]] = []
    for value in values:
        if value == "defaults":
            pairs.extend(DEFAULT_SUBJECT_PATTERNS)
            continue
        name, eq, regex = value.partition("=")
        if not eq:
            raise InvalidInput(
                "cannot read --subject-pattern", {"--subject-pattern": f"not NAME=REGEX: {value}"}
            )
        pairs.append((name.strip(), regex))
    return tuple(pairs)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The options given to ``edit``, as MailboxSpec fields."""
    given = {
        "case_type": args.case_type,
        "group_address": args.address,
        "host": args.host,
        "port": args.port,
        "user": args.user,
        "auth": args.auth,
        "customer_group": args.customer_group,
        "folder": args.folder,
        "processed_folder": args.processed_folder,
        "max_bytes": args.max_bytes,
        "poll_seconds": args.poll_seconds,
        "acknowledge": args.acknowledge,
        "refused_match": args.refused_match,
        "subject_patterns": subject_pattern_args(args.subject_pattern),
        "password": _secret(args, new=False),
        "tls": False if args.no_tls else (True if args.tls else None),
    }
    return {key: value for key, value in given.items() if value is not None}


def cmd_add(args: argparse.Namespace) -> int:
    password = _secret(args, new=True)
    assert password is not None
    spec = MailboxSpec(
        name=args.name,
        case_type=args.case_type,
        group_address=args.address,
        host=args.host,
        port=args.port or (143 if args.no_tls else 993),
        tls=not args.no_tls,
        user=args.user,
        password=password,
        customer_group=args.customer_group,
        folder=args.folder,
        processed_folder=args.processed_folder,
        max_bytes=args.max_bytes,
        poll_seconds=args.poll_seconds,
        acknowledge=args.acknowledge,
        refused_match=args.refused_match,
        subject_patterns=subject_pattern_args(args.subject_pattern),
        auth=args.auth,
    )
    with runtime(args) as rt:
        rt.init_schema()
        with rt.unit() as work:
            mailbox = add_mailbox(work, spec)
            emit(_row(mailbox), as_json=args.json)
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    changes = _changes(args)
    if not changes:
        raise InvalidInput("nothing to change", {"options": "give at least one option to set"})
    with runtime(args) as rt, rt.unit() as work:
        mailbox = edit_mailbox(work, args.name, changes)
        emit(_row(mailbox), as_json=args.json)
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        set_active(work, args.name, True)
    done(f"mailbox {args.name}: enabled", as_json=args.json, mailbox=args.name, active=True)
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        set_active(work, args.name, False)
    done(f"mailbox {args.name}: disabled", as_json=args.json, mailbox=args.name, active=False)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        remove_mailbox(work, args.name)
    done(f"mailbox {args.name}: removed", as_json=args.json, mailbox=args.name)
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """Sign in and open the folder, as a poll would; a failure is one line, exit 9."""
    with runtime(args) as rt, rt.unit() as work:
        mailbox = mailbox_by_name(work, args.name)
        work.session.expunge(mailbox)
    probe = try_sign_in(mailbox)
    done(
        probe.line(),
        as_json=args.json,
        mailbox=probe.mailbox,
        folder=probe.folder,
        messages=probe.messages,
        idle=probe.idle,
    )
    return 0


def _row(mailbox: Mailbox) -> dict[str, object]:
    return {
        "name": mailbox.name,
        "status": mailbox_health.status(mailbox),
        "case_type": mailbox.case_type_key,
        "address": mailbox.group_address,
        "server": f"{mailbox.imap_host}:{mailbox.imap_port}"
        + ("" if mailbox.imap_tls else " (no TLS)"),
        "user": mailbox.imap_user,
        "auth": mailbox.imap_auth,
        "password": credentials.describe(mailbox.imap_password),
        "folder": mailbox.folder,
        "processed_folder": mailbox.processed_folder,
        "max_bytes": mailbox.max_bytes,
        "poll_seconds": mailbox.poll_seconds,
        "acknowledge": mailbox.acknowledge,
        "refused_match": mailbox.refused_match,
        "subject_patterns": [name for name, _ in mailbox.subject_patterns]
        if mailbox.subject_patterns is not None
        else [name for name, _ in DEFAULT_SUBJECT_PATTERNS],
        "failures": mailbox.failures,
        "last_error": mailbox.last_error,
        "last_error_at": mailbox.last_error_at,
        "next_poll_at": mailbox.next_poll_at,
    }


def cmd_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        rows = [_row(m) for m in list_mailboxes(work)]
    emit(rows, as_json=args.json, table=["name", "status", "case_type", "address", "last_error"])
    return 0
