"""Delivering messages and signals from the command line.

``run.py case message C-000123 customer_replied --data '{"answer": "yes"}' --as alice``
delivers to one case; ``run.py message payment_received --type ORDER --key 4711`` finds
the case by its type's correlation property (or opens one when the process starts with
that message); ``run.py signal outage_over --type QUESTION`` reaches every open case of
the type that waits for it.  A message no case waits for ends with exit 3 (no such case)
or 5 (the case waits for something else, named in the error line).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from engine.errors import CaseworkError
from engine.run.messages import Delivery
from people.directory import user_by_name
from rules import load_subject, message_acts

from .context import add_as, json_object, runtime
from .output import done, emit


def register_case(case: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``case message``: under the ``case`` command beside open, show and close."""
    p = case.add_parser("message", help="deliver a message (or --signal) to a waiting case")
    p.add_argument("number", help="the case number, e.g. O-000012")
    p.add_argument("name", help="the message's name as drawn in the process")
    p.add_argument("--data", help="the message's variables as a JSON object")
    p.add_argument("--signal", action="store_true", help="deliver a signal instead")
    add_as(p)
    p.set_defaults(handler=cmd_case_message)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "message", help="deliver a message to the case of a type it correlates to"
    )
    p.add_argument("name")
    p.add_argument("--type", dest="case_type", required=True, help="case-type key")
    p.add_argument("--key", help="the value of the type's correlation property")
    p.add_argument("--data", help="the message's variables as a JSON object")
    p.add_argument("--subject", help="subject of a case the message opens")
    add_as(p)
    p.set_defaults(handler=cmd_message)
    p = commands.add_parser("signal", help="broadcast a signal to the waiting cases of a type")
    p.add_argument("name")
    p.add_argument("--type", dest="case_type", required=True, help="case-type key")
    p.add_argument("--data", help="the signal's variables as a JSON object")
    add_as(p)
    p.set_defaults(handler=cmd_signal)


def _said(delivery: Delivery) -> str:
    at = ", ".join(f"'{name}'" for name in delivery.caught)
    return (
        f"{delivery.kind} '{delivery.name}' delivered to {delivery.case} at {at}; "
        f"case {delivery.case_status}"
    )


def _facts(delivery: Delivery) -> dict[str, Any]:
    return dataclasses.asdict(delivery)


def cmd_case_message(args: argparse.Namespace) -> int:
    data = json_object(args.data)
    kind = "signal" if args.signal else "message"
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        delivery = message_acts.deliver_to_case(
            work, load_subject(work, user), user, args.number, kind, args.name, data
        )
    done(_said(delivery), as_json=args.json, **_facts(delivery))
    return 0


def cmd_message(args: argparse.Namespace) -> int:
    data = json_object(args.data)
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        delivery = message_acts.send_message(
            work,
            load_subject(work, user),
            user,
            case_type=args.case_type,
            name=args.name,
            key=args.key,
            data=data,
            title=args.subject,
        )
    done(_said(delivery), as_json=args.json, **_facts(delivery))
    return 0


def cmd_signal(args: argparse.Namespace) -> int:
    """Each waiting case in its own transaction: one case's failing step (an incident)
    does not keep the signal from the others; the exit code is 8 if any failed."""
    data = json_object(args.data)
    with runtime(args) as rt:
        with rt.unit() as work:
            user = user_by_name(work, args.as_user)
            numbers = message_acts.signal_targets(
                work, load_subject(work, user), args.case_type, args.name, data
            )
        results: list[dict[str, Any]] = []
        for number in numbers:
            try:
                with rt.unit() as work:
                    user = user_by_name(work, args.as_user)
                    delivery = message_acts.deliver_to_case(
                        work, load_subject(work, user), user, number, "signal", args.name, data
                    )
                results.append({**_facts(delivery), "error": None})
            except CaseworkError as exc:
                results.append({"case": number, "error": str(exc)})
    failed = [r for r in results if r["error"]]
    if args.json:
        emit(results, as_json=True)
    else:
        for row in results:
            print(f"{row['case']}: {row['error'] or 'signal ' + repr(args.name) + ' caught'}")
    return 8 if failed else 0
