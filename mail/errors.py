"""Errors the stateful mail code raises: a mail server that failed, a message not sent.

The classes derive from the product's root error so the CLI and web layer can map them in
one place.  A message that cannot be taken in is :class:`mail.message.Quarantine`, raised
by the pure message handling, which imports nothing of ours.
"""

from __future__ import annotations

from engine.errors import CaseworkError


class MailError(CaseworkError):
    """Root of every error the mail package raises on purpose."""


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
