"""Which case a message belongs to, and whether its sender may join it.

The keys come from :func:`mail.message.thread_keys.thread_candidates`, strongest first (token,
references, case number).  A key only counts when the sender takes part in the case
(:func:`mail.participants.is_participant`) -- so another customer quoting a case number
opens a new case instead of reading along (zammad#5064); each refused key is kept as an
*attempt* for agents to see.  A reply to a closed case follows its case type's ``[closing]``
policy: within the grace period of a type whose replies reopen, it reopens the case (the
caller reopens it, :attr:`Match.reopen`); otherwise the message opens a follow-up case
linked to the closed one.  A reply to a case merged into another (the sender taking part in
the merged one) lands in the case it was merged into, following a chain of merges.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from engine.run.case_edits import policy
from engine.run.case_links import merge_end
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage
from engine.store.models import Case
from engine.store.outbox import OutboxMessage
from mail.message.parse import ParsedMail
from mail.message.thread_keys import (
    DEFAULT_SUBJECT_KEYS,
    TOKEN_PATTERN,
    SubjectPattern,
    ThreadKey,
    thread_candidates,
)
from mail.participants import is_participant
from mail.reply_tokens import case_for_token
from mail.senders import Sender


def original_keys(message_id: str, token_domain: str) -> tuple[ThreadKey, ...]:
    """Keys for the Message-ID of a message that bounced: its token (if ours), then the id."""
    found = re.fullmatch(rf"<case-({TOKEN_PATTERN})\.[^@<>\s]+@([^<>\s]+)>", message_id)
    keys = [ThreadKey("reference", message_id, "bounced message")]
    if found and found.group(2).lower() == token_domain.lower():
        keys.insert(0, ThreadKey("token", found.group(1), "bounced message"))
    return tuple(keys)


@dataclass
class Match:
    """The case found (or None) and why, plus the refused attempts."""

    case: Case | None = None
    matched_by: str | None = None
    attempts: list[str] = field(default_factory=list)
    #: a closed case the sender takes part in that the mail answers: the new case follows it up
    closed: Case | None = None
    #: the matched case is closed and the reply reopens it (its type's closing policy)
    reopen: bool = False


def case_for_key(work: UnitOfWork, key: ThreadKey) -> int | None:
    """The case a single key points at, if any."""
    if key.rule == "token":
        return case_for_token(work.session, key.value)
    if key.rule == "reference":
        return case_for_message_id(work, key.value)
    return work.session.scalar(_CASE_BY_NUMBER, {"number": key.value})  # address, subject


_SENT_CASE = select(OutboxMessage.case_id).where(
    OutboxMessage.message_id == bindparam("message_id"), OutboxMessage.case_id.is_not(None)
)
_TAKEN_IN_CASE = (
    select(InboundMessage.case_id)
    .where(
        InboundMessage.message_id == bindparam("message_id"), InboundMessage.case_id.is_not(None)
    )
    .limit(1)
)
_CASE_BY_NUMBER = select(Case.id).where(Case.number == bindparam("number"))


def case_for_message_id(work: UnitOfWork, message_id: str) -> int | None:
    """A Message-ID we sent (outbox) or took in, mapped to its case."""
    found = work.session.scalar(_SENT_CASE, {"message_id": message_id})
    if found is None:
        found = work.session.scalar(_TAKEN_IN_CASE, {"message_id": message_id})
    return found


def find_case(
    work: UnitOfWork,
    parsed: ParsedMail,
    sender: Sender | None,
    *,
    token_domain: str,
    extra: tuple[ThreadKey, ...] = (),
    subject_keys: Sequence[SubjectPattern] = DEFAULT_SUBJECT_KEYS,
) -> Match:
    """The first key whose case is open and counts the sender in; ``sender=None`` (machine
    mail such as a bounce, which changes nothing on the case) skips the participant check
    but then trusts only tokens and references, never a number anyone can write."""
    match = Match()
    found = thread_candidates(parsed, token_domain=token_domain, subject_keys=subject_keys)
    keys = [*extra, *found]
    seen: set[int] = set()
    for key in keys:
        if sender is None and key.rule in ("subject", "address"):
            continue
        case_id = case_for_key(work, key)
        if case_id is None or case_id in seen:
            continue
        seen.add(case_id)
        case = work.session.get(Case, case_id)
        if case is None:
            continue
        how = f"{key.rule}:{key.source}"
        if sender is not None and not is_participant(work, case, sender):
            match.attempts.append(
                f"{how} pointed at {case.number}, but {sender.address} takes no part in it"
            )
            continue
        end = merge_end(work, case.id)  # a merged case's mail goes where it was merged
        if end != case.id and (into := work.session.get(Case, end)) is not None:
            how, case = f"{how} (merged into {into.number})", into
        closed = case.status == "closed"
        if (
            closed
            and sender is not None
            and policy(work, case).reply_reopens(case.closed_at, work.now)
        ):
            match.case, match.matched_by, match.reopen = case, how, True
            return match
        if case.status == "closed":
            match.attempts.append(f"{how} pointed at {case.number}, which is closed")
            match.closed = match.closed or case
            continue
        match.case, match.matched_by = case, how
        return match
    return match
