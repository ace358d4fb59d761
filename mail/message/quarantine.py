"""The one refusal of pure message handling: this message cannot be taken in.

Intake must never stop on one bad message (zammad#2754 and #1877: one unparseable mail
blocked a whole inbox).  So every refusal is a :class:`Quarantine` that says *why* in
words an operator can act on, and the poller files the raw bytes aside instead of
retrying forever.  It is a plain exception, so this package imports nothing of ours; the
CLI and the web app map it like the product's own errors (exit 6, HTTP 400).
"""

from __future__ import annotations


class Quarantine(Exception):
    """The message cannot be taken in; keep the raw bytes aside and tell someone.

    ``code`` is a stable identifier for dashboards and tests (``too_large``,
    ``attachment_too_large``, ``too_many_parts``, ``header_too_large``, ``empty``,
    ``no_headers``, ``unparseable``); ``reason`` is the human-readable explanation.
    """

    def __init__(self, reason: str, *, code: str = "unparseable") -> None:
        self.reason = reason
        self.code = code
        super().__init__(f"quarantined ({code}): {reason}")
