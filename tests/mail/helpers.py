"""Helpers for the mail tests: the corpus location, its MANIFEST and hand-built messages.

The third-party corpus lives beside the clone in ``../shared/corpus/mail`` and is never
copied into the repository.  Without it the corpus tests skip with the path they
looked at; where real parts are required (``tests/real_parts.py``) they fail instead.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path
from typing import Any

from tests.real_parts import missing

MAIL_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
MANIFEST = MAIL_CORPUS.parent / "MANIFEST.tsv"


def corpus_files() -> list[Path]:
    """Every file below the mail corpus (recursively), or [] when it is absent."""
    if not MAIL_CORPUS.is_dir():
        return []
    return sorted(p for p in MAIL_CORPUS.rglob("*") if p.is_file())


def require_corpus() -> Path:
    """The corpus folder; skip (or, under CI, fail) with the reason when it is missing."""
    if not MAIL_CORPUS.is_dir():
        missing("the shared mail corpus", f"not at {MAIL_CORPUS}")
    return MAIL_CORPUS


def manifest_rows() -> dict[str, str]:
    """local_path relative to the mail folder -> the MANIFEST ``features_or_quirks`` text."""
    rows: dict[str, str] = {}
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["kind"] == "mail":
                rows[row["local_path"].removeprefix("mail/")] = row["features_or_quirks"]
    return rows


def build(*headers: str, body: str | bytes = "Hello, my printer is broken.\n") -> bytes:
    """A raw message with sensible defaults; a header given here replaces the default."""
    defaults = {
        "from": "From: Alice Customer <alice@customer.example>",
        "to": "To: support@casework.example",
        "subject": "Subject: Printer broken",
        "message-id": "Message-ID: <abc123@customer.example>",
        "date": "Date: Tue, 02 Jan 2024 10:00:00 +0100",
    }
    lines = list(headers)
    given = {h.split(":", 1)[0].strip().lower() for h in headers}
    lines = [v for k, v in defaults.items() if k not in given] + lines
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    return "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n" + raw_body


def assert_storable(value: Any, where: str = "parsed") -> None:
    """Every string reachable from ``value`` is valid UTF-8 without NUL (PostgreSQL-safe)."""
    if isinstance(value, str):
        assert "\x00" not in value, where
        value.encode("utf-8")  # raises on lone surrogates
    elif dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            assert_storable(getattr(value, item.name), f"{where}.{item.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_storable(key, where)
            assert_storable(item, f"{where}[{key!r}]")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            assert_storable(item, f"{where}[{index}]")


def manifest_kind(quirks: str) -> str | None:
    """The kind the MANIFEST implies, or None where it says nothing about automation.

    The first ``;`` field is the curator's description, the rest are header tags
    (``list-id=…``, ``multipart/report:delivery-status``) measured from the file.
    "DSN-like parts inside multipart/mixed" is deliberately not a bounce.
    """
    description = quirks.split(";", 1)[0].lower()
    tags = quirks.lower()
    if "multipart/report:feedback-report" in tags:
        return "feedback"  # an ARF abuse report, whatever list headers it carries
    if (
        re.search(r"\bbounce\b|\bdsn\b(?!-like)|delivery has failed", description)
        or "multipart/report:delivery-status" in tags
    ):
        return "bounce"
    if re.search(r"auto-reply|out-of-office|vacation", description) or re.search(
        r"auto-submitted=auto-|x-auto-response-suppress=", tags
    ):
        return "auto_reply"
    if re.search(r"mailing list|mailman|digest", description) or re.search(
        r"list-id=|list-unsubscribe=|precedence=(bulk|list|junk)", tags
    ):
        return "list"
    return None
