"""Mail tests: a real IMAP server when asked for, and the corpus classification table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mail.dovecot import DOVECOT, Dovecot, start
from tests.mail.oauth2_server import IntrospectionServer
from tests.mail.oauth2_server import start as start_provider
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


@pytest.fixture(scope="session")
def oauth2_provider() -> Iterator[IntrospectionServer]:
    """The token introspection endpoint an OAuth2 provider offers, on loopback."""
    yield from start_provider()


@pytest.fixture(scope="session")
def oauth2_dovecot(oauth2_provider: IntrospectionServer) -> Iterator[Dovecot]:
    """A real IMAP server that signs users in with OAuth2 access tokens (XOAUTH2), checking
    each token at ``oauth2_provider``; plain passwords still work for putting mail in."""
    if not Path(DOVECOT).exists():
        missing("Dovecot", f"not installed at {DOVECOT}", "apt-get install dovecot-imapd")
    server = Dovecot(introspection_url=oauth2_provider.url)
    try:
        yield server
    finally:
        server.stop()
