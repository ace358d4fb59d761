"""Shared helpers for commands: the runtime, the acting user, JSON arguments."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.errors import InvalidInput
from engine.runtime import Runtime
from mail.settings import MailSettings
from rules.policies import RulesPolicies


@contextmanager
def runtime(args: argparse.Namespace) -> Iterator[Runtime]:
    rt = Runtime(args.db, policies=RulesPolicies(MailSettings.from_env()))
    try:
        yield rt
    finally:
        rt.close()


def json_object(text: str | None, what: str = "--data") -> dict[str, Any]:
    """Parse a JSON object argument, naming the option in the error."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON", {what: exc.msg}) from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object", {what: "expected {...}"})
    return value


def add_as(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--as", dest="as_user", required=required, metavar="USER", help="act as this user"
    )
