"""parse_message on hand-written messages: charsets, encoded words, HTML, limits, junk."""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest

import mail.message.parse
from mail.message import Quarantine, parse_message
from tests.mail.helpers import build


def test_it_reads_the_basic_fields():
    parsed = parse_message(
        build(
            "From: =?utf-8?Q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Customer.Example>",
            "To: support@casework.example, Bob <bob@casework.example>",
            "Cc: carol@customer.example",
            "Reply-To: replies@customer.example",
            "In-Reply-To: <case-abcdefgh.1@casework.example>",
            "References: <first@x.example>\r\n <case-abcdefgh.1@casework.example>",
        )
    )
    assert parsed.from_name == "Jürgen Müller"
    assert parsed.from_address == "juergen@customer.example"
    assert parsed.to == ("support@casework.example", "bob@casework.example")
    assert parsed.cc == ("carol@customer.example",)
    assert parsed.reply_to == ("replies@customer.example",)
    assert parsed.message_id == "<abc123@customer.example>"
    assert parsed.in_reply_to == "<case-abcdefgh.1@casework.example>"
    assert parsed.references == ("<first@x.example>", "<case-abcdefgh.1@casework.example>")
    assert parsed.date == datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    assert parsed.date.utcoffset() == timedelta(hours=1)
    assert parsed.headers["subject"] == ("Printer broken",)
    assert parsed.text == "Hello, my printer is broken.\n"
    assert parsed.html is None and parsed.attachments == ()


def test_it_gives_none_for_a_bad_date_and_utc_for_an_unknown_zone():
    assert parse_message(build("Date: yesterday-ish")).date is None
    parsed = parse_message(build("Date: Tue, 02 Jan 2024 10:00:00 -0000"))
    assert parsed.date == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)


def test_it_reads_message_ids_without_brackets_and_ignores_prose():
    parsed = parse_message(build("In-Reply-To: Your message of Monday", "References: a@b.example"))
    assert parsed.in_reply_to is None
    assert parsed.references == ("<a@b.example>",)


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("utf-8", "Grüße, Zoë — 你好"),
        ("iso-8859-1", "Grüße aus München, à bientôt"),
        ("iso-8859-15", "Preis: 10 € (Grüße)"),
        ("windows-1252", "“Quoted” – en dash, 10 €"),
        ("windows-1251", "Привет, как дела?"),
        ("koi8-r", "Привет, как дела?"),
        ("iso-2022-jp", "こんにちは、世界"),
        ("shift_jis", "こんにちは"),
        ("gb2312", "你好，世界"),
        ("iso-8859-2", "Zażółć gęślą jaźń"),
    ],
)
def test_it_decodes_declared_charsets(charset: str, text: str):
    body = text.encode(charset)
    raw = build(f"Content-Type: text/plain; charset={charset}", body=body)
    assert parse_message(raw).text == text


@pytest.mark.parametrize("declared", ["us-ascii", "utf-8"])
def test_it_recovers_latin1_bytes_under_a_wrong_declared_charset(declared: str):
    raw = build(
        f"Content-Type: text/plain; charset={declared}",
        body="Grüße aus Köln – “schön”, 10 €".encode("windows-1252"),
    )
    assert parse_message(raw).text == "Grüße aus Köln – “schön”, 10 €"


def test_it_recovers_long_cyrillic_under_a_wrong_declared_charset():
    text = "Здравствуйте! Наш принтер не печатает уже третий день, помогите пожалуйста."
    raw = build("Content-Type: text/plain; charset=utf-8", body=text.encode("windows-1251"))
    assert parse_message(raw).text == text


def test_it_keeps_stray_latin1_bytes_inside_utf8_text():
    body = "Grüße aus Köln, ".encode() + "signed: Jürgen".encode("latin-1")
    parsed = parse_message(build("Content-Type: text/plain; charset=utf-8", body=body))
    assert parsed.text == "Grüße aus Köln, signed: Jürgen"


def test_it_prefers_valid_utf8_over_a_legacy_label():
    raw = build("Content-Type: text/plain; charset=iso-8859-1", body="Håvard".encode())
    assert parse_message(raw).text == "Håvard"


def test_it_decodes_unknown_and_missing_charsets_without_loss():
    raw = build("Content-Type: text/plain; charset=x-made-up", body="Grüße".encode("latin-1"))
    assert parse_message(raw).text == "Grüße"
    raw = build(body="Ärger".encode("latin-1"))  # 8-bit body, no MIME headers at all
    assert parse_message(raw).text == "Ärger"


def test_it_decodes_quoted_printable_and_base64_bodies():
    qp = build(
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        body="Gr=FC=DFe, a long line =\r\ncontinued",
    )
    assert parse_message(qp).text == "Grüße, a long line continued"
    b64 = build(
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64;",  # trailing junk some mailers write
        body=base64.b64encode("Grüße".encode()),
    )
    assert parse_message(b64).text == "Grüße"


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        ("=?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Grüße aus Köln"),
        ("=?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", "Grüße aus Köln"),
        ("=?ISO-8859-1?Q?te?=  =?ISO-8859-1?Q?st?=", "test"),
        ("Re: =?koi8-r?B?8NLJ18XU?= [C-000123]", "Re: Привет [C-000123]"),
        ("=?windows-1251?B?z/Do4uXy?= / =?utf-8?Q?=E4=BD=A0?=", "Привет / 你"),
        ("=?NONE?B?VEVTVA=?=", "TEST"),
        ("=?utf-8?B?VEVTVA?=", "TEST"),
        ("=?x-unknown?Q?Gr=FC=DFe?=", "Grüße"),
        ("=?utf-8*en?Q?hello?=", "hello"),
        ("Plain =?broken", "Plain =?broken"),
    ],
)
def test_it_decodes_rfc2047_subjects(header: str, subject: str):
    assert parse_message(build(f"Subject: {header}")).subject == subject


def test_it_decodes_raw_8bit_headers():
    raw = build("Subject: Grüße").replace("Grüße".encode(), "Grüße".encode("latin-1"))
    assert parse_message(raw).subject == "Grüße"
    assert parse_message(build("Subject: Säying Hello")).subject == "Säying Hello"  # RFC 6532


def _with_attachment(disposition: str, content_type: str = "application/pdf") -> bytes:
    return build(
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="XX"',
        body=(
            "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
            f"--XX\r\nContent-Type: {content_type}\r\n{disposition}\r\n"
            "Content-Transfer-Encoding: base64\r\nContent-ID: <img1@x>\r\n\r\n"
            f"{base64.b64encode(b'%PDF-1.4 data').decode()}\r\n--XX--\r\n"
        ),
    )


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        (
            "Content-Disposition: attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.pdf",
            "Grüße €.pdf",
        ),
        (
            "Content-Disposition: attachment;\r\n filename*0*=iso-8859-1''Gr%FC;\r\n"
            " filename*1*=%DFe.pdf",
            "Grüße.pdf",
        ),
        ('Content-Disposition: attachment; filename="=?utf-8?B?R3LDvMOfZS5wZGY=?="', "Grüße.pdf"),
        ("Content-Disposition: attachment; filename==?utf-8?B?R3LDvMOfZS5wZGY=?=", "Grüße.pdf"),
        ('Content-Disposition: attachment; filename="../../etc/passwd"', "passwd"),
        ('Content-Disposition: attachment; filename="C:\\\\temp\\\\report.pdf"', "report.pdf"),
        ("Content-Disposition: attachment", None),
    ],
)
def test_it_decodes_attachment_names(disposition: str, name: str | None):
    parsed = parse_message(_with_attachment(disposition))
    assert parsed.text == "See attached."  # the CRLF before a boundary belongs to it
    (attachment,) = parsed.attachments
    assert attachment.filename == name
    assert attachment.content_type == "application/pdf"
    assert attachment.data == b"%PDF-1.4 data" and attachment.size == len(b"%PDF-1.4 data")
    assert attachment.content_id == "img1@x"


def test_it_keeps_an_attached_message_whole():
    inner = "From: a@b.example\r\nMessage-ID: <inner@b.example>\r\nSubject: Inner\r\n\r\nHi\r\n"
    raw = build(
        'Content-Type: multipart/mixed; boundary="XX"',
        body=f"--XX\r\nContent-Type: text/plain\r\n\r\nFwd\r\n--XX\r\n"
        f"Content-Type: message/rfc822\r\n\r\n{inner}--XX--\r\n",
    )
    (attachment,) = parse_message(raw).attachments
    assert attachment.content_type == "message/rfc822"
    assert b"Message-ID: <inner@b.example>" in attachment.data


HOSTILE_HTML = (
    "<html><head><style>body{display:none}</style><script>steal()</script></head><body>"
    '<p onclick="steal()">Hello <b>agent</b></p>'
    '<img src="x" onerror="steal()"><img src="cid:logo@x">'
    '<a href="javascript:steal()">click</a> <a href="https://ok.example/">docs</a>'
    '<iframe src="https://evil.example/"></iframe>'
    '<form action="https://evil.example/"><input name="pw"></form>'
    "<blockquote><p>old text</p></blockquote></body></html>"
)


def test_it_sanitizes_html_only_mail():
    raw = build("Content-Type: text/html; charset=utf-8", body=HOSTILE_HTML)
    parsed = parse_message(raw)
    assert parsed.html == HOSTILE_HTML and parsed.text == ""
    safe = parsed.safe_html.lower()
    for banned in (
        "<script",
        "steal",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "<form",
        "<input",
        "<style",
        "display:none",
    ):
        assert banned not in safe, banned
    assert 'src="cid:logo@x"' in safe and "https://ok.example/" in safe
    assert "Hello agent" in parsed.text_from_html
    assert "steal" not in parsed.text_from_html
    assert "> old text" in parsed.text_from_html
    assert parsed.body_text == parsed.text_from_html
    assert parsed.quoted_folded.new.strip().startswith("Hello agent")


def test_it_finds_the_html_charset_in_a_meta_tag():
    body = '<html><head><meta charset="windows-1251"></head><body>Привет</body></html>'
    parsed = parse_message(build("Content-Type: text/html", body=body.encode("windows-1251")))
    assert "Привет" in parsed.text_from_html


def test_it_prefers_the_text_part_of_an_alternative():
    raw = build(
        'Content-Type: multipart/alternative; boundary="B"',
        body="--B\r\nContent-Type: text/plain\r\n\r\nPlain\r\n--B\r\n"
        "Content-Type: text/html\r\n\r\n<p>Rich</p>\r\n--B--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Plain" and parsed.html == "<p>Rich</p>"
    assert parsed.text_from_html is None and parsed.body_text == "Plain"


def test_it_quarantines_an_oversized_message():
    with pytest.raises(Quarantine) as refused:
        parse_message(build(body="x" * 2000), max_bytes=1000)
    assert refused.value.code == "too_large"
    assert "over the limit of 1,000" in refused.value.reason


def test_it_quarantines_an_oversized_attachment():
    with pytest.raises(Quarantine) as refused:
        parse_message(_with_attachment("Content-Disposition: attachment"), max_attachment_bytes=5)
    assert refused.value.code == "attachment_too_large"


def test_it_quarantines_too_many_parts():
    parts = "".join("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(600))
    raw = build('Content-Type: multipart/mixed; boundary="B"', body=parts + "--B--\r\n")
    with pytest.raises(Quarantine) as refused:
        parse_message(raw)
    assert refused.value.code == "too_many_parts"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"\x00\xff\xfe garbage \x80\x81",
        b"not a header line\nstill not\n",
        bytes(range(256)) * 4,
        b"Subject: only this",
        b"From: x\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n--",
        b'Content-Type: multipart/mixed; boundary="a"\r\nFrom: x\r\n\r\n' + b"--a\r\n" * 50,
        b"From: =?utf-8?B?\xff\xfe?= <\xff@\xfe>\r\nSubject: =?\r\n\r\n",
    ],
)
def test_it_parses_or_quarantines_garbage(raw: bytes):
    try:
        parsed = parse_message(raw)
    except Quarantine as refused:
        assert refused.reason
    else:
        assert isinstance(parsed.body_text, str)


def test_it_refuses_text_instead_of_bytes():
    with pytest.raises(TypeError):
        parse_message("From: a@b\r\n\r\nbody")  # type: ignore[arg-type]


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
def test_it_accepts_any_line_ending(newline: bytes):
    raw = newline.join([b"From: a@b.example", b"Subject: Hi", b"", b"line one", b"line two"])
    parsed = parse_message(raw)
    assert parsed.subject == "Hi" and parsed.text == "line one\nline two"


def test_it_falls_back_to_compat32_when_the_modern_parser_raises():
    raw = b"From: a@b.example\r\nSubject: x\r\nContent-Type: ;base64*\r\n\r\nbody"
    parsed = parse_message(raw)
    assert parsed.text == "body" and parsed.content_type == "text/plain"
    try:  # Python 3.11's modern header parser raises IndexError on this Content-Type
        email.message_from_bytes(raw, policy=policy.default).get_content_type()
    except IndexError:
        assert parsed.parser == "compat32"


def test_it_quarantines_when_both_policies_fail(monkeypatch: pytest.MonkeyPatch):
    real = mail.message.parse._extract

    def failing(msg, parser, size, limits):
        if parser == "default":
            raise RuntimeError("modern parser broke")
        return real(msg, parser, size, limits)

    monkeypatch.setattr(mail.message.parse, "_extract", failing)
    assert parse_message(build()).parser == "compat32"

    def always(msg, parser, size, limits):
        raise KeyError(parser)

    monkeypatch.setattr(mail.message.parse, "_extract", always)
    with pytest.raises(Quarantine) as refused:
        parse_message(build())
    assert refused.value.code == "unparseable"
    assert "default policy: KeyError" in refused.value.reason
    assert "compat32 policy: KeyError" in refused.value.reason
