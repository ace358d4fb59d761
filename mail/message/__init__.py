"""Pure message handling: bytes in, decisions out; no IMAP, no SMTP, no database.

Modules: ``parse`` (with ``charsets``, ``headers``, ``parts``, ``html_text``, ``report``),
``quotes``, ``classify``, ``fingerprint`` and ``thread_keys``, and the one refusal,
``quarantine``; they import nothing of ours outside this package.  Public:

* :func:`parse_message` turns raw RFC 5322 bytes into an immutable :class:`ParsedMail`
  or raises :class:`Quarantine` with a reason -- never any other exception.
* :func:`classify` says whether a human wrote it or it is an auto-reply, a bounce,
  list traffic or our own mail looping back.
* :func:`thread_candidates` lists the keys (reply token, referenced Message-IDs,
  case number in a plus-address or the subject) by which a later step finds the case it belongs to;
  :func:`make_message_id` and :func:`reply_address` create the tokens we send out.
"""

from mail.message.classify import Classification, classify
from mail.message.parse import Attachment, ParsedMail, parse_message
from mail.message.quarantine import Quarantine
from mail.message.thread_keys import ThreadKey, make_message_id, reply_address, thread_candidates

__all__ = [
    "Attachment",
    "Classification",
    "ParsedMail",
    "Quarantine",
    "ThreadKey",
    "classify",
    "make_message_id",
    "parse_message",
    "reply_address",
    "thread_candidates",
]
