"""Mail intake throughput: messages per second from a real Dovecot to committed cases.

One worker (one process, one IMAP connection) polls a folder holding N new customer
requests: each is fetched, stored raw, parsed, classified, threaded, opens a case with a new
contact as raiser and its first stream post (the shipped support case type with its SLA
and the real rule hooks), commits, and is flagged on the server.  Then it measures the
cost of a poll that finds nothing new (one SELECT and one read of the sync state).  For
information it also times N replies threaded into those cases (a post each, no new case).

Needs Dovecot (``apt-get install dovecot-imapd``).  Ends with the BENCH lines.
Usage: python bench/mail_intake.py [--quick] [--messages N] [--db URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.output import ProgressBar  # noqa: E402
from mail.imap import MailboxPoller  # noqa: E402
from tests.mail.dovecot import PASSWORD, Dovecot  # noqa: E402
from tests.mail.helpers import build  # noqa: E402
from tests.mail.world import DOMAIN, make_desk  # noqa: E402

TARGET_PER_S = 100.0
TARGET_EMPTY_MS = 20.0


def request(n: int) -> bytes:
    return build(
        f"From: Customer {n} <customer{n}@kunden{n % 7}.example>",
        f"Message-ID: <bench-{n}@kunden.example>",
        f"Subject: Request number {n}: the printer on floor {n % 5} jams",
        body=f"Hello,\n\nthe printer jams again ({n}).\n\nRegards\nCustomer {n}\n",
    )


def reply(n: int) -> bytes:
    return build(
        f"From: customer{n}@kunden{n % 7}.example",
        f"Message-ID: <bench-reply-{n}@kunden.example>",
        f"References: <bench-{n}@kunden.example>",
        f"Subject: Re: Request number {n}",
        body=f"It jams again.\n\nOn Monday you wrote:\n> the printer jams again ({n}).\n",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small size, well under a minute")
    parser.add_argument("--messages", type=int, help="messages to take in")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    count = args.messages or (300 if args.quick else 1000)
    empty_polls = 30 if args.quick else 100
    server = Dovecot()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.db or f"sqlite:///{tmp}/bench.db"
            user = server.new_user()
            desk = make_desk(url, port=server.port, tls=False, user=user, password=PASSWORD)
            server.append(user, *(request(n) for n in range(count)))
            poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
            started = time.perf_counter()
            with ProgressBar("taking in", unit="messages") as bar:
                result = poller.poll_once(progress=bar)
            elapsed = time.perf_counter() - started
            cases = desk.cases()
            assert result.new == count == cases, (result, cases)
            rate = count / elapsed
            # for information: replies by the raisers, threaded by References
            server.append(user, *(reply(n) for n in range(count)))
            began = time.perf_counter()
            replies = poller.poll_once()
            reply_rate = count / (time.perf_counter() - began)
            assert replies.new == count and desk.cases() == count, replies
            timings = []
            for _ in range(empty_polls):
                began = time.perf_counter()
                assert poller.poll_once().fetched == 0
                timings.append((time.perf_counter() - began) * 1000)
            poller.close()
            desk.runtime.close()
    finally:
        server.stop()
    empty_ms = statistics.median(timings)
    backend = (args.db or "sqlite").split(":")[0]
    print(f"{count} messages -> {cases} cases in {elapsed:.2f} s on {backend} ({rate:.1f}/s)")
    print(f"{count} replies threaded into their cases: {reply_rate:.1f}/s (for information)")
    print(f"empty poll: median {empty_ms:.2f} ms, max {max(timings):.2f} ms over {empty_polls}")
    print(
        f"BENCH mail_intake msgs_per_s={rate:.1f} target>={TARGET_PER_S:.0f} "
        f"{'PASS' if rate >= TARGET_PER_S else 'FAIL'}"
    )
    print(
        f"BENCH mail_intake empty_poll_ms={empty_ms:.2f} target<={TARGET_EMPTY_MS:.0f} "
        f"{'PASS' if empty_ms <= TARGET_EMPTY_MS else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
