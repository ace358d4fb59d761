"""Mail tests: a real IMAP server when asked for, and the corpus classification table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mail.dovecot import DOVECOT, Dovecot, start


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
        if os.environ.get("CI"):
            pytest.fail(f"dovecot is required here but missing at {DOVECOT}")
        pytest.skip(f"dovecot is not installed at {DOVECOT} (apt-get install dovecot-imapd)")
    yield from start()
