"""Shared helpers for commands: the application, the acting user, JSON and id arguments."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from casework.compose import App, build_app
from casework.config import AppConfig
from cli.clock_option import clock_from
from engine.errors import InvalidInput
from engine.numbers import MAX_ID, spells_a_number, whole_number
from engine.runtime import Runtime


def application(args: argparse.Namespace) -> App:
    """The application a command runs on, configured by ``--db``, ``--debug`` and the
    environment; use it in a ``with`` block."""
    config = AppConfig.from_args(args)
    clock = clock_from(getattr(args, "clock", None))  # --clock: a rehearsal's moment
    return build_app(dataclasses.replace(config, clock=clock) if clock else config)


@contextmanager
def runtime(args: argparse.Namespace) -> Iterator[Runtime]:
    """The application's runtime, for commands that need nothing else of it."""
    with application(args) as app:
        yield app.runtime


def json_object(text: str | None, what: str = "--data") -> dict[str, Any]:
    """Parse a JSON object argument, naming the option in the error."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise InvalidInput(f"{what} is not valid JSON", {what: f"{exc.msg} ({where})"}) from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object", {what: "expected {...}"})
    return value


#: The largest number an id or version column holds (PostgreSQL's INTEGER).


def _whole_number(what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to :data:`MAX_ID`, else a usage error.

    Checked here, naming the argument, because a number past the column's range makes
    the database itself fail (PostgreSQL: "integer out of range").
    """

    def parse(text: str) -> int:
        value = whole_number(text)
        if value is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {what} (a whole number from 1 to {MAX_ID})"
            )
        return value

    parse.__name__ = what
    return parse


#: A task, contact or message id argument.
row_id = _whole_number("an id")
#: A case type's version number argument.
version_number = _whole_number("a version number")
#: How many rows a listing prints at most.
row_limit = _whole_number("a row limit")


def outbox_key(text: str) -> int | str:
    """An outbox message named by its row id or its Message-ID."""
    return row_id(text) if spells_a_number(text) else text


def add_as(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--as", dest="as_user", required=required, metavar="USER", help="act as this user"
    )
