"""When and what SLA notices reach people: ``run.py quiet-hours set|clear`` (a person's, or a
group's default, time zone and quiet hours, ``rules.notice_hours``) and ``run.py sla
digest`` (the managers' daily digest, ``rules.sla_digest``)."""

from __future__ import annotations

import argparse

from engine.errors import InvalidInput
from mail import sla_digest
from mail.settings import MailSettings
from rules import notice_hours

from .context import runtime
from .output import done


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    sla: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    p = sla.add_parser("digest", help="queue today's SLA digest for the digest groups")
    p.set_defaults(handler=cmd_digest)
    quiet = commands.add_parser(
        "quiet-hours", help="when SLA notices may reach a user or a group's members"
    ).add_subparsers(dest="action", required=True)
    p = quiet.add_parser("set", help="time zone and quiet hours of a user or a group")
    _who(p)
    p.add_argument("--zone", required=True, help="IANA time zone, e.g. America/New_York")
    p.add_argument("--quiet", required=True, metavar="HH:MM-HH:MM", help="e.g. 22:00-07:00")
    p.set_defaults(handler=cmd_set)
    p = quiet.add_parser("clear", help="back to the group default or the policy's calendar")
    _who(p)
    p.set_defaults(handler=cmd_clear)


def _who(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--group")


def cmd_set(args: argparse.Namespace) -> int:
    start, sep, end = args.quiet.partition("-")
    if not sep:
        raise InvalidInput("not quiet hours", {"quiet": "like 22:00-07:00"})
    with runtime(args) as rt, rt.unit() as work:
        notice_hours.set_hours(
            work,
            user=args.user,
            group=args.group,
            time_zone=args.zone,
            quiet_from=start,
            quiet_to=end,
        )
    who = f"user {args.user}" if args.user else f"group {args.group}"
    done(
        f"{who}: SLA notices wait out {start}-{end} ({args.zone})",
        as_json=args.json,
        user=args.user,
        group=args.group,
        zone=args.zone,
        quiet_from=start,
        quiet_to=end,
    )
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        queued = sla_digest.queue_digests(work, MailSettings.from_env())
    done(f"{queued} SLA digest(s) queued", as_json=args.json, queued=queued)
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        notice_hours.clear_hours(work, user=args.user, group=args.group)
    done("quiet hours cleared", as_json=args.json, user=args.user, group=args.group)
    return 0
