"""Property: whatever bytes arrive, parse_message + classify raise nothing but Quarantine."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.message import Quarantine, classify, parse_message, thread_candidates
from tests.mail.helpers import assert_storable, build

SEEDS = [
    build(),
    build(
        'Content-Type: multipart/alternative; boundary="B"',
        body="--B\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe\r\n"
        "--B\r\nContent-Type: text/html\r\n\r\n<p onclick=x>Hi<script>x</script></p>\r\n--B--\r\n",
    ),
    build(
        "From: MAILER-DAEMON@mx.example.org",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
        body="--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        "Final-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--R\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <o@x>\r\n\r\nbody\r\n--R--\r\n",
    ),
    build(
        'Content-Type: multipart/mixed; boundary="M"',
        body="--M\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n--M\r\n"
        "Content-Type: application/pdf; name*=utf-8''a%C3%A4.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--M--\r\n",
    ),
]
HEADER_NAMES = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "MIME-Version",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "Return-Path",
    "X-Loop",
    "X-Casework-Loop",
    "X-Auto-Response-Suppress",
    "X-Failed-Recipients",
]
VALUE_PIECES = [
    "=?utf-8?B?",
    "=?iso-8859-1?Q?",
    "?=",
    "=?x?Q?=FF?=",
    "multipart/mixed",
    "boundary=",
    'boundary="B"',
    "multipart/report",
    "report-type=delivery-status",
    "message/rfc822",
    "base64",
    "quoted-printable",
    "filename*0*=utf-8''%FF",
    "name=",
    "<>",
    "<a@b>",
    "@",
    ";",
    '"',
    "(",
    ")",
    "\\",
    ",",
    ":",
    "\r\n ",
    "\t",
    "\u00fc",
    "\u4f60",
    "\x00",
    "\udcff",
]


def check(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except Quarantine as refused:
        assert refused.reason
        return
    assert_storable(parsed)
    assert_storable(classify(parsed, our_domains={"casework.example"}))
    thread_candidates(parsed, token_domain="casework.example")
    assert "".join(parsed.quoted_folded) == parsed.body_text


header_value = st.lists(
    st.one_of(st.sampled_from(VALUE_PIECES), st.text(max_size=12)), max_size=8
).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["header", "truncate", "splice", "flip"]))
        if action == "header":
            name = draw(st.sampled_from(HEADER_NAMES))
            value = draw(header_value).encode("utf-8", "surrogateescape")
            raw = f"{name}: ".encode() + value + b"\r\n" + raw
        elif action == "truncate":
            raw = raw[: draw(st.integers(0, len(raw)))]
        elif action == "splice":
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(st.binary(max_size=40)) + raw[at:]
        elif raw:
            at = draw(st.integers(0, len(raw) - 1))
            raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_it_survives_random_bytes(raw: bytes):
    check(raw)


@FUZZ
@given(mutated())
def test_it_survives_header_and_structure_mutations(raw: bytes):
    check(raw)
