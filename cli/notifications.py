"""``run.py notifications``: a user's in-app notifications (list, unread count, mark read),
how they are mailed (each, digest, none), following single cases, and queueing digests."""

from __future__ import annotations

import argparse

from mail.notification_digest import queue_notification_digests
from people.directory import user_by_name
from rules import load_subject
from rules import notifications as notes

from .context import application, row_id, row_limit, runtime
from .output import done, emit


def _as(parser: argparse.ArgumentParser, required: bool) -> None:
    # SUPPRESS: a sub-command's missing --as must not hide one given before it
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        help="act as this user",
        required=required,
        **({} if required else {"default": argparse.SUPPRESS}),
    )


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = commands.add_parser(
        "notifications", help="in-app notifications: list, mark read, mail preference, digests"
    )
    top.add_argument("--unread", action="store_true", help="only those not read yet")
    top.add_argument("--limit", type=row_limit, default=50, help="at most this many (≤ 200)")
    top.add_argument("--as", dest="as_user", metavar="USER", help="act as this user")
    top.set_defaults(handler=cmd_list, notifications_parser=top)
    sub = top.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser("read", help="mark a notification read (or --all)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=row_id, help="the notification's id")
    target.add_argument("--all", action="store_true", help="every notification")
    _as(p, required=False)
    p.set_defaults(handler=cmd_read)
    p = sub.add_parser("mail", help="how notifications are mailed: each, digest or none")
    p.add_argument("choice", choices=notes.MAIL_CHOICES)
    _as(p, required=False)
    p.set_defaults(handler=cmd_mail)
    for name, helps in (
        ("follow", "follow a case: be notified of its new posts"),
        ("unfollow", "stop following a case"),
    ):
        p = sub.add_parser(name, help=helps)
        p.add_argument("number", help="the case number")
        _as(p, required=False)
        p.set_defaults(handler=cmd_follow, follow=name == "follow")
    p = sub.add_parser("digest", help="queue the digest mail of every user who chose it")
    p.set_defaults(handler=cmd_digest)


def _user(args: argparse.Namespace) -> str:
    """The acting user; without ``--as`` a usage error (exit 2), as argparse reports one."""
    name = getattr(args, "as_user", None)
    if not name:
        args.notifications_parser.error("the following arguments are required: --as")
    return str(name)


def cmd_list(args: argparse.Namespace) -> int:
    name = _user(args)
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, name))
        rows = notes.notifications(work, subject, unread=args.unread, limit=args.limit)
        unread = notes.unread_count(work, subject)
    if args.json:
        emit({"unread": unread, "notifications": rows}, as_json=True)
        return 0
    print(f"{unread} unread")
    for row in rows:
        row["new"] = "" if row["read"] else "*"
    emit(rows, as_json=False, table=["new", "id", "case", "kind", "author", "text"])
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    name = _user(args)
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, name))
        changed = notes.mark_read(work, subject, None if args.all else args.id)
    what = "all notifications" if args.all else f"notification {args.id}"
    done(f"{what} read ({changed} changed)", as_json=args.json, read=changed)
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    name = _user(args)
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, name))
        notes.set_mail_preference(work, subject, args.choice)
    done(
        f"{name}'s notifications are mailed: {args.choice}",
        as_json=args.json,
        user=name,
        mail=args.choice,
    )
    return 0


def cmd_follow(args: argparse.Namespace) -> int:
    name = _user(args)
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, name))
        (notes.follow if args.follow else notes.unfollow)(work, subject, args.number)
    verb = "follows" if args.follow else "no longer follows"
    done(
        f"{name} {verb} {args.number}",
        as_json=args.json,
        user=name,
        case=args.number,
        following=args.follow,
    )
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    with application(args) as app, app.runtime.unit() as work:
        queued = queue_notification_digests(work, app.mail)
    done(f"{queued} notification digest(s) queued", as_json=args.json, queued=queued)
    return 0
