"""The case-type TOML's event tables: how messages find a case, and cases that open cases.

``[messages]``
    ``correlation = "order_id"``: a process variable whose value routes a message to the
    one case of the type that holds it (``run.py message NAME --type ORDER --key 4711``);
    ``mail_reply = "customer_replied"``: an inbound mail reply threaded to a case delivers
    this message when the case waits for it ("wait for the customer" works by mail).
``[[on_close]]``
    ``outcome = "End_Cancelled"`` (the id or name of the end event the case finished at,
    or ``"*"`` for any), ``open = "RETURN"`` (the case type to open), optional
    ``subject = "Return for {subject}"``: when a case of this type closes that way, a case
    of the other type opens in the same transaction, its variables copied from the closed
    case (the workflow-rule channel of docs/designing-case-types.md).
"""

from __future__ import annotations

import re
from typing import Any

_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")


def read_events(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The ``[messages]`` and ``[[on_close]]`` tables as stored in the version, and problems."""
    problems: list[str] = []
    events: dict[str, Any] = {}
    messages = raw.get("messages", {})
    if not isinstance(messages, dict):
        return {}, ["[messages] must be a table"]
    for key, value in messages.items():
        if key == "correlation" and isinstance(value, str) and _VARIABLE.match(value):
            events["correlation"] = value
        elif key == "mail_reply" and isinstance(value, str) and _NAME.match(value):
            events["mail_reply"] = value
        elif key in ("correlation", "mail_reply"):
            what = "a process variable name" if key == "correlation" else "a message name"
            problems.append(f"messages.{key} must be {what}")
        else:
            problems.append(f"[messages] has unknown key '{key}'; keys: correlation, mail_reply")
    rules = raw.get("on_close", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        return events, [*problems, '[[on_close]] must be tables: outcome = "...", open = "TYPE"']
    kept = []
    for number, rule in enumerate(rules, 1):
        where = f"on_close rule {number}"
        unknown = [k for k in rule if k not in ("outcome", "open", "subject")]
        problems += [
            f"{where} has unknown key '{k}'; keys: outcome, open, subject" for k in unknown
        ]
        outcome, target, subject = rule.get("outcome"), rule.get("open"), rule.get("subject")
        if not isinstance(outcome, str) or not outcome.strip():
            problems.append(f'{where} needs an outcome: an end event\'s id or name, or "*"')
        if not isinstance(target, str) or not _KEY.match(target):
            problems.append(f"{where} needs open = the key of the case type to open")
        if subject is not None and (not isinstance(subject, str) or len(subject) > 500):
            problems.append(f"{where}: subject must be text of at most 500 characters")
        if not unknown and isinstance(outcome, str) and isinstance(target, str):
            kept.append({"outcome": outcome.strip(), "open": target, "subject": subject})
    if kept:
        events["on_close"] = kept
    return events, problems
