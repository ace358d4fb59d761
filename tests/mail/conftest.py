"""Mail tests: a real IMAP server when asked for, and the corpus classification table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mail.dovecot import DOVECOT, Dovecot, start
from tests.real_parts import missing


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the corpus classification table (carried in user_properties, so xdist works)."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "mail_corpus_summary":
                terminalreporter.write_sep("-", "mail corpus: messages per kind")
                terminalreporter.write_line(str(value))


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One real IMAP server for the session; each test logs in as its own user."""
    if not Path(DOVECOT).exists():
        missing("Dovecot", f"not installed at {DOVECOT}", "apt-get install dovecot-imapd")
    yield from start()
