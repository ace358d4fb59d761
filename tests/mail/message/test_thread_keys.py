"""thread_candidates: tokens before references before subject numbers; id and address makers."""

from __future__ import annotations

import re

import pytest

from mail.message import make_message_id, parse_message, reply_address, thread_candidates
from tests.mail.helpers import build

SUBJECT_KEY = re.compile(r"\[(C-\d{6})\]")


def candidates(*headers: str, key: re.Pattern[str] = SUBJECT_KEY) -> list[tuple[str, str, str]]:
    parsed = parse_message(build(*headers))
    found = thread_candidates(parsed, token_domain="casework.example", subject_key=key)
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
        ("subject", "C-000123", "subject"),
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


def test_it_lists_every_subject_number_in_order_and_accepts_a_groupless_key():
    assert candidates("Subject: [C-000001] merged into [C-000002]") == [
        ("subject", "C-000001", "subject"),
        ("subject", "C-000002", "subject"),
    ]
    assert candidates("Subject: about C-000042", key=re.compile(r"C-\d{6}")) == [
        ("subject", "C-000042", "subject")
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
