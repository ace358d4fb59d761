"""Quoted-text folding: three quote styles, signatures, and never losing a character."""

from __future__ import annotations

import pytest

from mail.message import parse_message
from mail.message.quotes import fold_quotes
from tests.mail.helpers import build

GMAIL = """Yes, it works again. Thanks!

On Tue, Jan 2, 2024 at 10:00 AM Support Team <support@casework.example> wrote:
> Please restart the printer.
>
> Regards
"""

WRAPPED = """Thanks.

On Tue, Jan 2, 2024 at 10:00 AM Support Team <
support@casework.example> wrote:

> Please restart the printer.
"""

GERMAN = """Danke, das hat geholfen.

Am 02.01.2024 um 10:00 schrieb Support Team <support@casework.example>:
> Bitte den Drucker neu starten.
"""

OUTLOOK_SEPARATOR = """It still fails.

-----Original Message-----
From: Support Team <support@casework.example>
Sent: Tuesday, January 2, 2024 10:00 AM
Subject: RE: Printer broken

Please restart the printer.
"""

OUTLOOK_HEADER_BLOCK = """Still broken, see screenshot.

________________________________
From: Support Team <support@casework.example>
Sent: Tuesday, January 2, 2024 10:00
To: Alice Customer
Subject: Printer broken [C-000123]

Please restart the printer.
"""

GERMAN_OUTLOOK = """Geht wieder.

Von: Support Team <support@casework.example>
Gesendet: Dienstag, 2. Januar 2024 10:00
An: Alice
Betreff: Drucker

Bitte neu starten.
"""

SIGNATURE = "The invoice is attached.\n\n-- \nAlice Customer\nACME Ltd., +49 30 1234567\n"

BARE_QUOTE = """Works now.

> Please restart the printer.
> Regards
"""


@pytest.mark.parametrize(
    ("text", "new_ends_with", "quoted_starts_with"),
    [
        (GMAIL, "Thanks!\n\n", "On Tue"),
        (WRAPPED, "Thanks.\n\n", "On Tue"),
        (GERMAN, "geholfen.\n\n", "Am 02.01.2024"),
        (OUTLOOK_SEPARATOR, "fails.\n\n", "-----Original Message-----"),
        (OUTLOOK_HEADER_BLOCK, "screenshot.\n\n", "________"),
        (GERMAN_OUTLOOK, "Geht wieder.\n\n", "Von: Support"),
        (SIGNATURE, "attached.\n\n", "-- \nAlice"),
        (BARE_QUOTE, "Works now.\n\n", "> Please"),
    ],
    ids=[
        "on-wrote",
        "on-wrote-wrapped",
        "am-schrieb",
        "original-message",
        "outlook-block",
        "von-gesendet",
        "signature",
        "bare-quote",
    ],
)
def test_it_folds_quotes_and_signatures(text: str, new_ends_with: str, quoted_starts_with: str):
    new, quoted = fold_quotes(text)
    assert new.endswith(new_ends_with)
    assert quoted.startswith(quoted_starts_with)
    assert new + quoted == text


def test_it_keeps_interleaved_answers_visible():
    text = (
        "On Tue, Jan 2, 2024 Support wrote:\n"
        "> Which model is it?\n"
        "An HP LaserJet 4.\n"
        "> Is it switched on?\n"
        "Yes.\n"
    )
    new, quoted = fold_quotes(text)
    assert "An HP LaserJet 4." in new and "Yes." in new
    assert new + quoted == text


def test_it_leaves_text_without_quotes_alone():
    text = "Please call me back on Monday.\nFrom: the 3rd floor\n"
    assert fold_quotes(text) == (text, "")


def test_it_folds_the_body_of_a_parsed_message():
    parsed = parse_message(build(body=GMAIL.replace("\n", "\r\n")))
    assert parsed.quoted_folded.new == "Yes, it works again. Thanks!\n\n"
    assert parsed.quoted_folded.quoted.startswith("On Tue, Jan 2, 2024")
    assert "".join(parsed.quoted_folded) == parsed.text
