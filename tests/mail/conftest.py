"""Mail tests: print the corpus classification table at the end of the run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the corpus classification table (carried in user_properties, so xdist works)."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "mail_corpus_summary":
                terminalreporter.write_sep("-", "mail corpus: messages per kind")
                terminalreporter.write_line(str(value))
