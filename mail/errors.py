"""Errors raised by the mail intake core.

Intake must never stop on one bad message (zammad#2754 and #1877: one unparseable mail
blocked a whole inbox).  So every refusal is a :class:`Quarantine` that says *why* in
words an operator can act on, and the poller files the raw bytes aside instead of
retrying forever.  The classes derive from the product's root error so the CLI and web
layer can map them in one place.
"""

from __future__ import annotations

from engine.errors import CaseworkError


class MailError(CaseworkError):
    """Root of every error the mail package raises on purpose."""


class Quarantine(MailError):
    """The message cannot be taken in; keep the raw bytes aside and tell someone.

    ``code`` is a stable identifier for dashboards and tests (``too_large``,
    ``attachment_too_large``, ``too_many_parts``, ``header_too_large``, ``empty``,
    ``no_headers``, ``unparseable``); ``reason`` is the human-readable explanation.
    """

    def __init__(self, reason: str, *, code: str = "unparseable") -> None:
        self.reason = reason
        self.code = code
        super().__init__(f"quarantined ({code}): {reason}")


class MailServerError(MailError):
    """A mail server could not be reached, failed the TLS handshake or refused the login.

    Not the message's fault and not ours: the operator fixes the server, the network or
    the credentials.  ``server`` names it (``mailbox support at imap.example:993``),
    ``problem`` says what failed, in words.
    """

    def __init__(self, server: str, problem: str) -> None:
        self.server = server
        self.problem = problem
        super().__init__(f"{server}: {problem}")
