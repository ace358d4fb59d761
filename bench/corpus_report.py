"""What Casework makes of real files: modeler files and mail of the shared corpus.

Each BPMN file of ``../shared/corpus/bpmn`` is compiled against the TOML a designer
would write first (every lane a manager lane) and sorted: it deploys (to run cases),
deploys for viewing only (its process is not executable), is refused with located
messages (the first one is printed), is refused vaguely, or crashes with a traceback.
A file is *handled* unless it is refused vaguely or crashes.

Every message of ``../shared/corpus/mail`` is then taken in through the real intake (a
fresh SQLite database, the shipped support case type, a mailbox that acknowledges new
cases).  For the messages the MANIFEST describes as bounces, auto-replies or abuse reports
it counts the cases they opened and the acknowledgements they caused: both must be 0.

Usage: python bench/corpus_report.py [--quick] [--corpus DIR] [--mail-corpus DIR]
(``--quick`` is accepted for symmetry with the other benches; the whole corpus takes
about a second.)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tempfile  # noqa: E402

from lxml import etree  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from cli.output import progress  # noqa: E402
from engine.definitions.file_outcomes import corpus_files, triage  # noqa: E402
from engine.store.models import Case  # noqa: E402
from engine.store.outbox import OutboxMessage  # noqa: E402
from tests.mail.helpers import manifest_kind, manifest_rows  # noqa: E402
from tests.mail.world import Desk, make_desk  # noqa: E402

#: The issue's target: at least 90 % deploy or are refused with a precise message.
TARGET_HANDLED_PCT = 90.0


_OUTSIDE = {
    "receiveTask": "receive task",
    "eventBasedGateway": "event-based gateway",
}


def waits_from_outside(path: Path) -> list[str]:
    """The constructs of a file that wait for something outside the case: message and
    signal catch, boundary and start events, receive tasks, event-based gateways, timer
    start events."""
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError:
        return []
    found = set()
    for node in root.iter():
        if not isinstance(node.tag, str) or node.getparent() is None:
            continue
        name, owner = etree.QName(node).localname, etree.QName(node.getparent()).localname
        if name in _OUTSIDE:
            found.add(_OUTSIDE[name])
        kind = name.removesuffix("EventDefinition")
        if (
            kind in ("message", "signal", "timer")
            and owner
            in (
                "startEvent",
                "intermediateCatchEvent",
                "boundaryEvent",
            )
            and (kind != "timer" or owner == "startEvent")
        ):
            found.add(f"{kind} {owner}")
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="same as without (it is quick)")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "bpmn")
    parser.add_argument(
        "--mail-corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "mail"
    )
    args = parser.parse_args()
    files = corpus_files(args.corpus)
    if not files:
        print(f"no BPMN files under {args.corpus}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    outcomes = [triage(path) for path in progress(files, "corpus", unit="files")]
    elapsed = time.perf_counter() - started
    width = max(len(str(o.path.relative_to(args.corpus))) for o in outcomes)
    print(f"{'FILE':<{width}}  {'RESULT':<9}  FIRST MESSAGE")
    for o in outcomes:
        name = str(o.path.relative_to(args.corpus))
        message = o.message.replace(str(o.path), "").lstrip(":")
        print(f"{name:<{width}}  {o.status:<9}  {message[:160]}")
    waiting = [(o, waits_from_outside(o.path)) for o in outcomes if o.status == "deploys"]
    waiting = [(o, found) for o, found in waiting if found]
    print(
        f"\ndeploying files whose cases wait for the outside ({len(waiting)}): they run since "
        "messages, signals and start events are delivered (run.py case message, message, "
        "signal, worker); before, a case stopped there for good"
    )
    for o, found in waiting:
        print(f"  {o.path.relative_to(args.corpus)}: {', '.join(found)}")
    counts = Counter(o.status for o in outcomes)
    handled = sum(o.handled for o in outcomes)
    pct = 100.0 * handled / len(outcomes)
    tracebacks = counts["traceback"]
    print(
        f"\n{len(outcomes)} files in {elapsed:.2f}s: "
        + ", ".join(f"{counts[s]} {s}" for s in ("deploys", "view-only", "refused", "vague"))
        + f", {tracebacks} traceback"
    )
    print(
        f"BENCH corpus_report handled_pct={pct:.1f} target>={TARGET_HANDLED_PCT:.0f} "
        f"{'PASS' if pct >= TARGET_HANDLED_PCT else 'FAIL'}"
    )
    print(
        f"BENCH corpus_report tracebacks={tracebacks} target<=0 "
        f"{'PASS' if tracebacks <= 0 else 'FAIL'}"
    )
    return mail_report(args.mail_corpus)


MACHINE_KINDS = ("bounce", "auto_reply", "feedback")


def mail_report(corpus: Path) -> int:
    """Take every corpus message in; machine mail must open no case and get no answer."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    if not files:
        print(f"no mail under {corpus}", file=sys.stderr)
        return 2
    rows = manifest_rows()
    seen: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    acks: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        desk = make_desk(f"sqlite:///{tmp}/corpus.db", acknowledge=True)
        try:
            for path in progress(files, "mail corpus", unit="messages"):
                expected = manifest_kind(rows.get(str(path.relative_to(corpus)), "")) or "other"
                before = _counts(desk)
                desk.take(path.read_bytes())
                after = _counts(desk)
                seen[expected] += 1
                cases[expected] += after[0] - before[0]
                acks[expected] += after[1] - before[1]
        finally:
            desk.runtime.close()
    print(f"\n{'MANIFEST KIND':<14}{'MESSAGES':>9}{'CASES':>7}{'ACKS':>6}")
    for kind in (*MACHINE_KINDS, "list", "other"):
        print(f"{kind:<14}{seen[kind]:>9}{cases[kind]:>7}{acks[kind]:>6}")
    machine_cases = sum(cases[k] for k in MACHINE_KINDS)
    machine_acks = sum(acks[k] for k in MACHINE_KINDS)
    for figure, value in (
        ("machine_mail_cases", machine_cases),
        ("machine_mail_acks", machine_acks),
    ):
        print(f"BENCH corpus_report {figure}={value} target<=0 {'PASS' if value <= 0 else 'FAIL'}")
    return 0


def _counts(desk: Desk) -> tuple[int, int]:
    """(cases, acknowledgements) in the desk's database now."""
    with desk.runtime.unit() as work:
        opened = work.session.scalar(select(func.count()).select_from(Case)) or 0
        answered = work.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "ack")
        )
        return opened, answered or 0


if __name__ == "__main__":
    sys.exit(main())
