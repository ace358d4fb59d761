"""Turn mail bytes into text without losing characters.

Real mail lies about its charset: bodies declared ``us-ascii`` or ``utf-8`` carry
windows-1252 bytes, headers carry raw 8-bit bytes, encoded words name charsets Python
does not know (``ks_c_5601-1987``, ``unicode-1-1-utf-7``, ``NONE``).  The stdlib answers
such mail with U+FFFD replacement characters, which silently destroys names and
umlauts.  Here every decode walks a chain: valid UTF-8 first (whatever the label),
the declared charset (through a table of the supersets mail clients really use),
mostly-UTF-8 with stray single bytes, a statistical guess for scripts a Western
fallback would garble, then windows-1252 and finally latin-1, which cannot fail.
The result is always a clean ``str``: no lone surrogates and no NUL (PostgreSQL text
columns refuse NUL).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re

import charset_normalizer

# Declared name -> codecs to try, in order.  Mail clients label text with the base
# charset but write its Microsoft superset; decoding with the superset never hurts.
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "us-ascii": ("ascii",),
    "ascii": ("ascii",),
    "iso-8859-1": ("cp1252",),
    "latin1": ("cp1252",),
    "latin-1": ("cp1252",),
    "iso-8859-9": ("cp1254",),
    "iso-8859-8-i": ("iso8859_8",),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "euc-cn": ("gb18030",),
    "shift_jis": ("cp932",),
    "shift-jis": ("cp932",),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext"),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "unicode-1-1-utf-7": ("utf-7",),
    "tis-620": ("cp874",),
    "windows-874": ("cp874",),
}
# Labels that carry no information: go straight to the detection chain.
_UNKNOWN = {"", "none", "unknown", "unknown-8bit", "x-unknown", "default", "charset", "8bit"}
# Codecs that are not a character set a sender could mean; never let a header pick one.
_REFUSED = {"raw_unicode_escape", "unicode_escape", "idna", "punycode", "undefined", "mbcs"}
# A statistical guess is only trusted for scripts where windows-1252 would be garbage;
# for Latin-script text the guess often picks a cousin (cp1250, mac_roman) that turns
# "à" into "ŕ", so windows-1252 is the better default there.
# fmt: off
_DISTINCTIVE = frozenset({
    "cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "mac_cyrillic", "cp1253", "iso8859_7",
    "cp1255", "iso8859_8", "cp1256", "iso8859_6", "gb18030", "gb2312", "gbk", "big5",
    "big5hkscs", "cp950", "cp932", "shift_jis", "euc_jp", "iso2022_jp", "cp949", "euc_kr",
    "cp874", "tis_620",
})
# fmt: on
_MIN_NON_ASCII_FOR_GUESS = 24
_ASCII = bytes(range(128))
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_ESCAPE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _non_ascii(data: bytes) -> int:
    return len(data.translate(None, _ASCII))


def _codecs_for(declared: str | None) -> tuple[str, ...]:
    return _codecs_for_label((declared or "")[:80])


@functools.lru_cache(maxsize=256)
def _codecs_for_label(label: str) -> tuple[str, ...]:
    label = label.strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    if label in _UNKNOWN:
        return ()
    names = _SUPERSETS.get(label, (label,))
    usable = []
    for name in names:
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        if info.name.replace("-", "_") in _REFUSED or not getattr(info, "_is_text_encoding", True):
            continue
        usable.append(info.name)
    return tuple(usable)


def _guess(data: bytes) -> str | None:
    """A statistical guess, only when there is enough signal and the script is distinctive."""
    if _non_ascii(data) < _MIN_NON_ASCII_FOR_GUESS:
        return None
    try:
        best = charset_normalizer.from_bytes(data[:65536]).best()
    except Exception:  # the detector is a heuristic; it must never stop intake
        return None
    if best is None or best.encoding not in _DISTINCTIVE:
        return None
    try:
        return data.decode(best.encoding)
    except (UnicodeError, LookupError):
        return None


def _byte_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in bad), exc.end


codecs.register_error("casework-cp1252", _byte_as_cp1252)

_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_WIDE = ("utf-16", "utf-32")


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 text with a few stray single-byte characters (a signature pasted from elsewhere)."""
    valid = sum(len(m) for m in _UTF8_SEQUENCE.findall(data))
    return valid > 0 and valid >= 0.8 * _non_ascii(data)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` labelled ``declared``; never raises and never drops characters.

    Non-ASCII bytes that form valid UTF-8 are taken as UTF-8 whatever the label says:
    clients that write UTF-8 under a legacy label are common, while legacy text that
    happens to be valid UTF-8 is vanishingly rare.
    """
    names = _codecs_for(declared)
    if not any(n.startswith(_WIDE) for n in names) and not data.isascii():
        try:
            return clean_text(data.decode("utf-8"))
        except UnicodeError:
            pass
    for name in (*names, "utf-8"):
        try:
            return clean_text(data.decode(name))
        except (UnicodeError, LookupError, ValueError):
            continue
    if _mostly_utf8(data):
        return clean_text(data.decode("utf-8", "casework-cp1252"))
    guessed = _guess(data)
    if guessed is not None:
        return clean_text(guessed)
    try:
        return clean_text(data.decode("cp1252"))
    except UnicodeError:
        return clean_text(data.decode("latin-1"))


def clean_text(text: str) -> str:
    """Repair surrogates left by surrogateescape or UTF-7 and replace NUL characters."""
    if _SURROGATE.search(text):
        if not _NON_ESCAPE_SURROGATE.search(text):
            # Only escaped raw bytes (from a header with 8-bit bytes): decode those bytes.
            return decode_bytes(text.encode("utf-8", "surrogateescape"))
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "\ufffd")


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*?)\?=")
_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]{1,75}\?[bBqQ]\?[^?]*?\?=)[ \t\r\n]+(?==\?)")


def _decode_word(charset: str, encoding: str, payload: str) -> str:
    raw = payload.encode("ascii", "ignore")
    if encoding in "bB":
        raw = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
        if len(raw) % 4 == 1:  # a dangling sextet carries no whole byte
            raw = raw[:-1]
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4))
    else:
        data = re.sub(
            rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"_", b" ")
        )
    return decode_bytes(data, charset)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words leniently (bad padding, unknown charsets, spaces).

    Whitespace between two adjacent encoded words is dropped, as RFC 2047 says; raw
    8-bit bytes that arrived surrogate-escaped are decoded by the same chain as bodies.
    """
    value = clean_text(value)
    if "=?" not in value:
        return value
    value = _BETWEEN_WORDS.sub(r"\1", value)
    try:
        return _ENCODED_WORD.sub(lambda m: _decode_word(m.group(1), m.group(2), m.group(3)), value)
    except (binascii.Error, ValueError):
        return value
