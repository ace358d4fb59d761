"""``mail mailbox test`` and the admin page's *Test* button: sign in and open the folder as a
poll would, and say what is there -- or, in the operator's words, what is wrong.

It runs outside any unit of work (a slow server must not hold a database transaction) on a
detached copy of the mailbox, and touches nothing: the folder is opened read-only."""

from __future__ import annotations

from dataclasses import dataclass

from engine.store.mailbox import Mailbox
from mail.imap import connect
from mail.imap_errors import server_errors, server_name


@dataclass(frozen=True)
class Probe:
    """What a sign-in found: messages in the folder, and whether the server offers IDLE."""

    mailbox: str
    folder: str
    messages: int
    idle: bool
    server: str

    def line(self) -> str:
        """``mailbox support (imap.example:993): signed in, INBOX holds 3 message(s); …``"""
        return f"{self.server}: signed in, {self.folder} holds {self.messages} message(s)" + (
            "; the server offers IDLE" if self.idle else "; no IDLE, polled every interval"
        )


def try_sign_in(mailbox: Mailbox, timeout: float = 30.0) -> Probe:
    """Sign in and open the folder read-only; :class:`~mail.errors.MailServerError` names
    the mailbox, its server and the problem when that fails."""
    with server_errors(mailbox):
        client = connect(mailbox, timeout=timeout)
        try:
            folder = client.select_folder(mailbox.folder, readonly=True)
            idle = client.has_capability("IDLE")
        finally:
            client.logout()
    return Probe(
        mailbox.name, mailbox.folder, int(folder.get(b"EXISTS", 0)), idle, server_name(mailbox)
    )
