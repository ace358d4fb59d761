"""What an IMAP server's failure means, in the words an operator acts on.

A server that is down, a refused login and a failed TLS handshake all surface as
``OSError`` or ``IMAPClientError`` subclasses whose text is made for programmers
(``[Errno 111] Connection refused``, ``b'[AUTHENTICATIONFAILED] ...'``).  The poller,
the worker and the CLI report them per mailbox with :func:`imap_problem`, and
:func:`server_errors` turns them into :class:`~mail.errors.MailServerError` where a
command should stop with that message.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator

from imapclient.exceptions import IMAPClientError, LoginError

from engine.store.mailbox import Mailbox
from mail.credentials import CredentialError
from mail.errors import MailServerError

#: What a server that is down, slow, refusing or speaking no TLS raises, and a secret that
#: cannot be read for the login.
IMAP_FAILURES = (IMAPClientError, OSError, CredentialError)


def imap_problem(exc: BaseException) -> str:
    """What went wrong with an IMAP server, in the words an operator acts on."""
    if isinstance(exc, CredentialError):
        return f"no password to sign in with: {exc}"
    if isinstance(exc, LoginError):
        text = exc.args[0] if exc.args else ""
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:  # imaplib's repr of the bytes
            text = text[2:-1]
        return f"login refused ({text.strip() or 'wrong user or password'})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}); is it a TLS port, and is the certificate valid?"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: is the server running, and is the port right?"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "no answer in time (server down or unreachable?)"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def server_name(mailbox: Mailbox) -> str:
    """``mailbox support (imap.example:993)``: which mailbox and which server."""
    return f"mailbox {mailbox.name} ({mailbox.imap_host}:{mailbox.imap_port})"


@contextlib.contextmanager
def server_errors(mailbox: Mailbox) -> Iterator[None]:
    """Turn the failures of a mailbox's server into :class:`MailServerError`."""
    try:
        yield
    except IMAP_FAILURES as exc:
        raise MailServerError(server_name(mailbox), imap_problem(exc)) from exc
