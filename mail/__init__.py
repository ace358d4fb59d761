"""Mail in and out of cases.

``mail.message`` is the pure part (parsing, charsets, quotes, classification, thread
keys: bytes in, decisions out).  The rest is stateful: ``intake`` (a message into a
case, deduplicated), ``imap`` and ``mailboxes`` (group mailboxes polled over IMAP),
``match``, ``senders`` and ``tokens`` (which case and which person a message belongs
to), ``held`` (mail held for an agent to decide), ``replies`` and ``outbox`` (mail out,
queued in the causing transaction), ``smtp`` (sending it), ``render`` (notice
templates), ``bounces`` and ``settings``.
"""
