"""thread_candidates: tokens before references before subject numbers; id and address makers."""

from __future__ import annotations

import pytest

from mail.message import make_message_id, parse_message, reply_address, thread_candidates
from mail.message.thread_keys import DEFAULT_SUBJECT_KEYS, SubjectPattern, subject_patterns
from tests.mail.helpers import build


def candidates(
    *headers: str, keys: tuple[SubjectPattern, ...] = DEFAULT_SUBJECT_KEYS
) -> list[tuple[str, str, str]]:
    parsed = parse_message(build(*headers))
    found = thread_candidates(parsed, token_domain="casework.example", subject_keys=keys)
    return [(k.rule, k.value, k.source) for k in found]


def test_it_ranks_token_then_references_then_subject():
    ours = make_message_id("tok3n0001", "casework.example", "7")
    assert candidates(
        "Subject: Re: Printer broken [C-000123]",
        "In-Reply-To: <other@customer.example>",
        f"References: <root@customer.example> {ours}",
    ) == [
        ("token", "tok3n0001", "references"),
        ("reference", "<other@customer.example>", "in-reply-to"),
        ("reference", ours, "references"),
        ("reference", "<root@customer.example>", "references"),
        ("subject", "C-000123", "brackets"),
    ]


def test_it_finds_the_token_in_a_plus_address():
    assert candidates("To: Support <support+tok3n0002@casework.example>")[0] == (
        "token",
        "tok3n0002",
        "to",
    )
    assert candidates("Cc: support+tok3n0003@casework.example")[0][:2] == ("token", "tok3n0003")
    assert candidates("Delivered-To: support+tok3n0004@casework.example")[0] == (
        "token",
        "tok3n0004",
        "delivered-to",
    )


def test_it_ignores_tokens_in_foreign_or_malformed_ids():
    assert candidates("In-Reply-To: <case-tok3n0001.7@evil.example>") == [
        ("reference", "<case-tok3n0001.7@evil.example>", "in-reply-to")
    ]
    assert candidates("To: bob+news@customer.example") == []  # too short to be our token


def test_it_lists_every_subject_number_in_order():
    assert candidates("Subject: [C-000001] merged into [C-000002]") == [
        ("subject", "C-000001", "brackets"),
        ("subject", "C-000002", "brackets"),
    ]


@pytest.mark.parametrize(
    ("subject", "pattern"),
    [
        ("Re: [C-000123] Printer broken", "brackets"),
        ("AW: [Ticket#C-000123] Drucker", "ticket-hash"),
        ("Re: Case #: C-000123", "ticket-hash"),
        ("Re: [support #C-000123] Printer", "rt"),
        ("RE: Case C-000123 - printer", "labelled"),
        ("Fwd: Ticket ID: c-000123", "labelled"),
        ("Printer (C-000123)", "parentheses"),
    ],
)
def test_the_default_patterns_read_the_forms_of_common_ticket_systems(subject: str, pattern: str):
    assert candidates(f"Subject: {subject}")[0] == ("subject", "C-000123", pattern)


def test_a_bare_number_or_an_unlabelled_one_is_no_key():
    assert candidates("Subject: invoice 2024-000123 and C-000123 somewhere") == []


def test_a_mailbox_may_bring_its_own_patterns_and_bad_ones_are_named():
    legacy = subject_patterns([("legacy", r"\{(C-\d{6})\}")])
    assert candidates("Subject: Re: {C-000007}", keys=legacy) == [("subject", "C-000007", "legacy")]
    assert candidates("Subject: Re: [C-000007]", keys=legacy) == []
    for pairs, problem in (
        ([("Bad Name", "(x)")], "pattern name"),
        ([("x", "([)")], "pattern x"),
        ([("x", "C-\\d+")], "exactly one group"),
    ):
        with pytest.raises(ValueError, match=problem):
            subject_patterns(pairs)


def test_a_case_number_as_plus_address_is_a_key_after_references():
    assert candidates(
        "To: support+C-000009@casework.example", "References: <r@customer.example>"
    ) == [
        ("reference", "<r@customer.example>", "references"),
        ("address", "C-000009", "to"),
    ]


def test_it_round_trips_a_generated_message_id_and_reply_address():
    mid = make_message_id("abcdefgh12", "Casework.Example", "20240102T100000.1-a_b")
    assert mid == "<case-abcdefgh12.20240102T100000.1-a_b@casework.example>"
    address = reply_address("support@Casework.Example", "abcdefgh12")
    assert address == "support+abcdefgh12@casework.example"
    found = candidates(f"In-Reply-To: {mid}", f"To: {address}")
    assert found[0] == ("token", "abcdefgh12", "in-reply-to")
    assert [k for k in found if k[0] == "token"] == [found[0]]  # the same token once


@pytest.mark.parametrize(
    ("token", "domain", "unique"),
    [
        ("short", "casework.example", "1"),
        ("UPPER12345", "casework.example", "1"),
        ("abcdefgh12", "bad domain", "1"),
        ("abcdefgh12", "casework.example", "a@b"),
        ("abcdefgh12", "casework.example", ""),
    ],
)
def test_it_refuses_bad_message_id_parts(token: str, domain: str, unique: str):
    with pytest.raises(ValueError):
        make_message_id(token, domain, unique)


@pytest.mark.parametrize("group", ["support", "support+x@casework.example", "@casework.example"])
def test_it_refuses_bad_group_addresses(group: str):
    with pytest.raises(ValueError):
        reply_address(group, "abcdefgh12")
