"""Every message of the shared corpus is parsed or quarantined with a reason, never crashes,
and every message the MANIFEST calls a bounce, auto-reply or list mail is classified so."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mail.message import Quarantine, classify, parse_message, thread_candidates
from tests.mail.helpers import (
    MAIL_CORPUS,
    assert_storable,
    corpus_files,
    manifest_kind,
    manifest_rows,
    require_corpus,
)

pytestmark = pytest.mark.integration

OUR_DOMAINS = {"casework.example"}
FILES = corpus_files()


def test_it_finds_the_whole_corpus_and_its_manifest():
    corpus = require_corpus()
    rows = manifest_rows()
    on_disk = {str(p.relative_to(corpus)) for p in FILES}
    assert len(on_disk) >= 100, "the mail corpus looks incomplete"
    assert on_disk == set(rows), "files and MANIFEST rows differ"


@pytest.mark.parametrize(
    "path", FILES or [None], ids=[str(p.relative_to(MAIL_CORPUS)) for p in FILES] or ["absent"]
)
def test_it_parses_or_quarantines_every_corpus_message(path: Path | None):
    require_corpus()
    assert path is not None
    try:
        parsed = parse_message(path.read_bytes())
    except Quarantine as refused:
        assert refused.reason and refused.code
        return
    # Any other exception propagates and fails the test: that is the point.
    new, quoted = parsed.quoted_folded
    assert new + quoted == parsed.body_text
    if parsed.safe_html is not None:
        assert "<script" not in parsed.safe_html.lower()
    assert_storable(parsed)
    classification = classify(parsed, our_domains=OUR_DOMAINS)
    assert classification.reason
    thread_candidates(parsed, token_domain="casework.example")


def test_it_classifies_what_the_manifest_describes(record_property: pytest.RecordProperty):
    corpus = require_corpus()
    rows = manifest_rows()
    counts: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    wrong = []
    for path in FILES:
        name = str(path.relative_to(corpus))
        try:
            parsed = parse_message(path.read_bytes())
        except Quarantine:
            counts["quarantined"] += 1
            continue
        result = classify(parsed, our_domains=OUR_DOMAINS)
        counts[result.kind] += 1
        expected = manifest_kind(rows.get(name, ""))
        if expected is None:
            continue
        checked[expected] += 1
        if result.kind != expected:
            wrong.append(f"{name}: expected {expected}, got {result.kind} ({result.reason})")
    table = "\n".join(
        f"{kind:<12}{counts[kind]:>5}"
        + (f"   ({checked[kind]} checked against the MANIFEST)" if checked[kind] else "")
        for kind in ("human", "auto_reply", "bounce", "feedback", "list", "loop", "quarantined")
    )
    record_property("mail_corpus_summary", table)
    print("\n" + table)
    assert not wrong, "\n".join(wrong)
    assert checked["bounce"] >= 20 and checked["auto_reply"] >= 5 and checked["list"] >= 5


def test_it_extracts_bounce_details_from_the_corpus():
    corpus = require_corpus()
    parsed = parse_message((corpus / "rt" / "multipart-report.eml").read_bytes())
    result = classify(parsed, our_domains=OUR_DOMAINS)
    assert result.kind == "bounce"
    assert result.original_message_id == "<200308221615.h7MGFGac020135@mx12.other.example.com>"
    assert result.failed_recipient == "jesmund@mailbox.other.example.com"
    assert result.status == "5.1.1"
