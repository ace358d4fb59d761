"""Split a reply into what the sender wrote now and what they quoted or signed.

None of Zammad, Znuny or RT folds quoted text, so every reply in a long case repeats
the whole history.  We fold, but never destroy: ``new + quoted`` is always exactly the
original text, and the caller keeps the full body.  The split point is the first line
that starts a quote in one of the styles clients really produce:

* a trailing block of ``>`` lines (an interleaved reply, where new text follows a
  quote, is not folded there: the answers would be hidden);
* an attribution line, ``On <date>, <name> wrote:`` / ``Am <date> schrieb <name>:``
  (and the French and Dutch forms), also when the client wrapped it over two lines;
* Outlook's ``-----Original Message-----`` separator or its header block
  ``From: … / Sent: …`` (``Von: … / Gesendet: …``), with the underscore rule above it;
* the ``-- `` signature delimiter.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Folded(NamedTuple):
    """``new`` is the fresh text; ``quoted`` the quote/signature tail (``new + quoted`` = all)."""

    new: str
    quoted: str


_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\s.{1,200}\bwrote\s*:"
    r"|Am\s.{1,200}\bschrieb\b.{0,200}:"
    r"|Le\s.{1,200}\ba\s+écrit\s*:"
    r"|Op\s.{1,200}\bschreef\b.{0,200}:"
    r")\s*$",
    re.IGNORECASE,
)
_BARE_ATTRIBUTION = re.compile(r"^.{1,150}\b(?:wrote|schrieb|a écrit|schreef)\s*:\s*$", re.I)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Oorspronkelijk bericht|Forwarded message|Weitergeleitete Nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:Sent|Gesendet|Date|Datum|Envoyé|Verzonden)\s*:\*?\s+\S", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^-- ?$")


def _is_quote(line: str) -> bool:
    return line.lstrip(" ").startswith(">")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _trailing_quotes(lines: list[str]) -> list[bool]:
    """``result[i]``: from line ``i`` on only quotes, blank lines or a signature follow.

    Computed once from the end, so a long quote block costs linear time, not quadratic.
    """
    result = [True] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if _SIGNATURE.match(line.rstrip("\r\n")):
            result[i] = True
        else:
            result[i] = (_is_quote(line) or _is_blank(line)) and result[i + 1]
    return result


def _attribution_lines(lines: list[str], i: int) -> int:
    """How many lines (0, 1 or 2) the attribution starting at ``i`` spans."""
    line = lines[i].strip()
    following = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if not line or len(line) > 400 or not (line.endswith(":") or following.endswith(":")):
        return 0  # every attribution form ends with a colon: skip the regexes
    if _ATTRIBUTION.match(line):
        return 1
    # A bare "Jane Doe wrote:" counts only when a ">" quote follows it.
    if _BARE_ATTRIBUTION.match(line):
        rest = [x for x in lines[i + 1 : i + 3] if not _is_blank(x)]
        return 1 if rest and _is_quote(rest[0]) else 0
    # Clients wrap long attributions: "On Tue, 1 Jan 2019 Jane Doe <\njane@x.org> wrote:".
    if following and _ATTRIBUTION.match(line + " " + following):
        return 2
    return 0


def _outlook_block_at(lines: list[str], i: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[i]):
        return False
    return any(_OUTLOOK_SENT.match(line) for line in lines[i + 1 : i + 5])


def _quote_start(lines: list[str]) -> int | None:
    trailing = _trailing_quotes(lines)
    for i, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        if _SIGNATURE.match(bare) or _SEPARATOR.match(bare):
            return i
        if _outlook_block_at(lines, i):
            j = i
            while j > 0 and _is_blank(lines[j - 1]):
                j -= 1
            return j - 1 if j > 0 and _UNDERSCORES.match(lines[j - 1]) else i
        span = _attribution_lines(lines, i)
        if span:
            after = i + span
            # Quoted with ">" and then answered in between: interleaved, keep it visible.
            interleaved = not trailing[after] and any(
                _is_quote(x) for x in lines[after : after + 3]
            )
            if not interleaved:
                return i
        if _is_quote(line) and trailing[i]:
            return i
    return None


def fold_quotes(text: str) -> Folded:
    """Split ``text`` at the first quote, attribution, Outlook header or signature."""
    lines = text.splitlines(keepends=True)
    start = _quote_start(lines)
    if start is None:
        return Folded(text, "")
    offset = sum(len(line) for line in lines[:start])
    return Folded(text[:offset], text[offset:])
