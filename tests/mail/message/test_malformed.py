"""Real malformed mail from the shared corpus: each keeps what can be read, part by part,
and only a message with no readable text left is quarantined, with the reason."""

from __future__ import annotations

import pytest

from mail.message import Quarantine, parse_message
from tests.mail.helpers import build, require_corpus

pytestmark = pytest.mark.integration


def corpus_mail(name: str) -> bytes:
    return (require_corpus() / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the declared boundary is not the one the parts use: read with the one they use
        ("mail-parser/mail_malformed_3.eml", "Problemas para visualizar"),
        # Outlook Express (Mac) with a broken multipart boundary
        ("cpython/msg_15.txt", "Some removed test."),
        # multipart/alternative without a boundary parameter: its body is the text
        ("cpython/msg_41.txt", "Blah blah blah"),
        # the closing boundary is missing
        ("flanker/missing-final-boundary.eml", "Some body"),
        # "Content-Transfer-Encoding: quoted-printable;" (a stray semicolon)
        ("mikel-mail/error_emails__content_transfer_encoding_with_semi_colon.eml", "Homeowner"),
        # 8-bit GB2312 body, raw 8-bit bytes in the headers
        ("mail-parser/mail_test_12.eml", "我公司可代开"),
        # charsets Python knows under other names
        ("mikel-mail/multi_charset__ks_c_5601-1987.eml", "스티해"),
        ("mikel-mail/multi_charset__japanese_shift_jis.eml", "このメールはテスト用のメールです"),
        # an enclosed message in a broken encoding, a continuation line first
        ("flanker/enclosed-bad-encoding.eml", "Hello"),
    ],
)
def test_readable_text_survives_broken_structure_and_charsets(name: str, expected: str):
    parsed = parse_message(corpus_mail(name))
    assert expected in parsed.body_text


@pytest.mark.parametrize(
    "name",
    [
        "flanker/false-multipart.eml",
        "mikel-mail/error_emails__missing_body.eml",
        "mikel-mail/error_emails__empty_in_reply_to.eml",
    ],
)
def test_a_multipart_with_none_of_its_parts_is_quarantined_with_the_reason(name: str):
    with pytest.raises(Quarantine) as refused:
        parse_message(corpus_mail(name))
    assert refused.value.code == "unreadable"
    assert "no readable text left" in refused.value.reason
    assert "StartBoundaryNotFoundDefect" in refused.value.reason


def test_an_empty_message_is_not_a_broken_one():
    parsed = parse_message(build(body=""))
    assert parsed.body_text == "" and parsed.subject == "Printer broken"
