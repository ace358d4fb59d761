"""Keys by which an incoming message may belong to an existing case, strongest first.

Zammad trusts the case number in the subject first, so quoting another customer's
number joins their ticket (zammad#5064), and replies through ServiceNow or Jira lose
References and open new tickets (zammad#3022, #3695).  We therefore rank the evidence:

1. ``token``: a per-case secret we put into every outgoing Message-ID
   (``<case-TOKEN.unique@token_domain>``) and Reply-To (``support+TOKEN@…``); it comes
   back in In-Reply-To/References or as the recipient, and cannot be guessed.
2. ``reference``: the In-Reply-To and References ids, to look up among stored messages.
3. ``subject``: a case number such as ``[C-000123]``, the weakest and easily copied.

This module only lists candidates; whether the sender may join the case is decided
later, with the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mail.message.parse import ParsedMail

TOKEN_PATTERN = r"[a-z0-9]{8,64}"
_TOKEN = re.compile(TOKEN_PATTERN)
_UNIQUE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*")
_RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "envelope-to")


@dataclass(frozen=True)
class ThreadKey:
    """One candidate: which ``rule`` found it, the ``value`` to look up, and ``source`` header."""

    rule: Literal["token", "reference", "subject"]
    value: str
    source: str


def make_message_id(case_token: str, domain: str, unique: str) -> str:
    """``<case-TOKEN.UNIQUE@DOMAIN>`` for mail we send on a case (``unique`` per message)."""
    if not _TOKEN.fullmatch(case_token):
        raise ValueError(f"case token must match {TOKEN_PATTERN}: {case_token!r}")
    if not _UNIQUE.fullmatch(unique):
        raise ValueError(f"unique part must match {_UNIQUE.pattern}: {unique!r}")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain name: {domain!r}")
    return f"<case-{case_token}.{unique}@{domain.lower()}>"


def reply_address(group_address: str, token: str) -> str:
    """``support@example.com`` + token -> ``support+TOKEN@example.com`` (Reply-To)."""
    local, at, domain = group_address.strip().rpartition("@")
    if not at or not local or not domain or "+" in local:
        raise ValueError(f"group address must be plain local@domain: {group_address!r}")
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"token must match {TOKEN_PATTERN}: {token!r}")
    return f"{local}+{token}@{domain.lower()}"


def _token_in_id(message_id: str, token_domain: str) -> str | None:
    found = re.fullmatch(rf"<case-({TOKEN_PATTERN})\.[^@<>\s]+@([^<>\s]+)>", message_id)
    if found and found.group(2).lower() == token_domain.lower():
        return found.group(1)
    return None


def _token_in_address(address: str) -> str | None:
    local = address.rpartition("@")[0]
    if "+" not in local:
        return None
    tag = local.rpartition("+")[2].lower()
    return tag if _TOKEN.fullmatch(tag) else None


def thread_candidates(
    parsed: ParsedMail, *, token_domain: str, subject_key: re.Pattern[str]
) -> list[ThreadKey]:
    """Candidates in priority order: tokens, then referenced ids, then subject case numbers.

    Within each rule the most direct evidence comes first: In-Reply-To before
    References, and References newest (last) first.  ``subject_key`` yields the case
    number as its first group, or as the whole match when it has no group.
    """
    ids: list[tuple[str, str]] = []
    if parsed.in_reply_to:
        ids.append((parsed.in_reply_to, "in-reply-to"))
    ids.extend((ref, "references") for ref in reversed(parsed.references))
    keys: list[ThreadKey] = []
    seen: set[tuple[str, str]] = set()

    def add(rule: Literal["token", "reference", "subject"], value: str, source: str) -> None:
        if (rule, value) not in seen:
            seen.add((rule, value))
            keys.append(ThreadKey(rule, value, source))

    for mid, source in ids:
        if token := _token_in_id(mid, token_domain):
            add("token", token, source)
    recipients = [(a, "to") for a in parsed.to] + [(a, "cc") for a in parsed.cc]
    for header in _RECIPIENT_HEADERS:
        recipients.extend(
            (v.strip().strip("<>").lower(), header) for v in parsed.headers.get(header, ())
        )
    for address, source in recipients:
        if token := _token_in_address(address):
            add("token", token, source)
    for mid, source in ids:
        add("reference", mid, source)
    for match in subject_key.finditer(parsed.subject):
        value = match.group(1) if match.re.groups else match.group(0)
        if value:
            add("subject", value, "subject")
    return keys
