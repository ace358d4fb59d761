"""Keys by which an incoming message may belong to an existing case, strongest first.

Zammad trusts the case number in the subject first, so quoting another customer's
number joins their ticket (zammad#5064), and replies through ServiceNow or Jira lose
References and open new tickets (zammad#3022, #3695).  We therefore rank the evidence:

1. ``token``: a per-case secret we put into every outgoing Message-ID
   (``<case-TOKEN.unique@token_domain>``) and Reply-To (``support+TOKEN@…``); it comes
   back in In-Reply-To/References or as the recipient, and cannot be guessed.
2. ``reference``: the In-Reply-To and References ids, to look up among stored messages.
3. ``address``: a case number as plus-address (``support+C-000123@…``), as some ticket
   systems write their Reply-To; easy to write by hand, so it counts like a subject number.
4. ``subject``: a case number in the subject, by a configurable list of named patterns
   (:data:`DEFAULT_SUBJECT_PATTERNS`: ours, ``[C-000123]``, and the forms other ticket
   systems put there), the weakest and easily copied.

The References header carries the whole chain of a conversation, so a reply to any message
of the thread -- not only the latest -- finds its case.

This module only lists candidates; whether the sender may join the case is decided
later, with the database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mail.message.parse import ParsedMail

TOKEN_PATTERN = r"[a-z0-9]{8,64}"
_TOKEN = re.compile(TOKEN_PATTERN)
_UNIQUE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*")
_RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "envelope-to")
#: A case number as we write them: ``C-000123`` (the case type's prefix, then digits).
CASE_NUMBER = r"[A-Z][A-Z0-9]{0,19}-\d{3,12}"
_NUMBER = re.compile(CASE_NUMBER)
_WORD = r"(?:ticket|case|request|issue|incident|call)"

#: (name, pattern) pairs; the pattern's one group is the case number.  The name is recorded
#: as the match reason (``subject:ticket-hash``).
DEFAULT_SUBJECT_PATTERNS: tuple[tuple[str, str], ...] = (
    # ours: "[C-000123] Printer broken"
    ("brackets", rf"\[({CASE_NUMBER})\]"),
    # Zammad, OTRS/Znuny: "[Ticket#C-000123]", "Case#: C-000123"
    ("ticket-hash", rf"\b{_WORD}\s*#\s*:?\s*({CASE_NUMBER})"),
    # Request Tracker: "[support #C-000123]"
    ("rt", rf"\[[^\[\]#]{{1,60}}\s#({CASE_NUMBER})\]"),
    # Jira, ServiceNow, Freshdesk and people: "Case C-000123", "Ticket ID: C-000123"
    ("labelled", rf"\b{_WORD}\s*(?:no\.?|number|id)?\s*[:#]?\s*\(?({CASE_NUMBER})\b"),
    # "(C-000123)"
    ("parentheses", rf"\(({CASE_NUMBER})\)"),
)

Rule = Literal["token", "reference", "address", "subject"]


@dataclass(frozen=True)
class ThreadKey:
    """One candidate: which ``rule`` found it, the ``value`` to look up, and ``source`` (the
    header, or the name of the subject pattern)."""

    rule: Rule
    value: str
    source: str


@dataclass(frozen=True)
class SubjectPattern:
    """A named, compiled subject pattern (see :func:`subject_patterns`)."""

    name: str
    regex: re.Pattern[str]


def subject_patterns(pairs: Sequence[tuple[str, str]]) -> tuple[SubjectPattern, ...]:
    """Compile (name, pattern) pairs, matched case-insensitively; ``ValueError`` names the
    first one that is not usable (bad name, bad regex, not exactly one group)."""
    compiled = []
    for name, pattern in pairs:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,29}", name):
            raise ValueError(f"pattern name {name!r}: 1-30 of a-z, 0-9, - and _")
        if not pattern or len(pattern) > 300:
            raise ValueError(f"pattern {name}: 1 to 300 characters")
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"pattern {name}: {exc}") from None
        if regex.groups != 1:
            raise ValueError(f"pattern {name}: needs exactly one group, the case number")
        compiled.append(SubjectPattern(name, regex))
    return tuple(compiled)


DEFAULT_SUBJECT_KEYS = subject_patterns(DEFAULT_SUBJECT_PATTERNS)


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


def _tag(address: str) -> str | None:
    local = address.rpartition("@")[0]
    return local.rpartition("+")[2] if "+" in local else None


def _token_in_address(address: str) -> str | None:
    tag = (_tag(address) or "").lower()
    return tag if _TOKEN.fullmatch(tag) else None


def _number_in_address(address: str) -> str | None:
    tag = (_tag(address) or "").upper()
    return tag if _NUMBER.fullmatch(tag) else None


def thread_candidates(
    parsed: ParsedMail,
    *,
    token_domain: str,
    subject_keys: Sequence[SubjectPattern] = DEFAULT_SUBJECT_KEYS,
) -> list[ThreadKey]:
    """Candidates in priority order: tokens, referenced ids, plus-address case numbers,
    then subject case numbers (pattern by pattern, in the order given).

    Within each rule the most direct evidence comes first: In-Reply-To before
    References, and References newest (last) first.
    """
    ids: list[tuple[str, str]] = []
    if parsed.in_reply_to:
        ids.append((parsed.in_reply_to, "in-reply-to"))
    ids.extend((ref, "references") for ref in reversed(parsed.references))
    keys: list[ThreadKey] = []
    seen: set[tuple[str, str]] = set()

    def add(rule: Rule, value: str, source: str) -> None:
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
    for address, source in recipients:
        if number := _number_in_address(address):
            add("address", number, source)
    for pattern in subject_keys:
        for match in pattern.regex.finditer(parsed.subject):
            if value := (match.group(1) or "").upper():
                add("subject", value, pattern.name)
    return keys
