"""The SLA report page in real headless Chromium; its screenshot illustrates the docs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import ManualClock, SystemClock
from mail.settings import MailSettings
from people import directory
from tests.conftest import wired_app
from tests.engine.sla.reporting import World, answer, finish, open_case
from tests.web.conftest import seed
from tests.web.serving import served
from tests.web.test_browser import browser, dialogs, session  # noqa: F401 - fixtures

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three months of support cases, some answered and closed late, then a live server."""
    from web.app import create_app

    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'web.db'}"
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    rt = wired_app(url, clock, MailSettings(maildir=folder)).runtime
    seed(rt)
    with rt.unit() as work:
        users = {n: directory.user_by_name(work, n) for n in ("alice", "carol")}
    world = World(rt, clock, users)
    for month, late in ((0, 1), (1, 3), (2, 2)):
        for n in range(4):
            clock.advance(timedelta(hours=1))
            number = open_case(world, f"Printer {month}-{n}")
            answer(world, number, after=timedelta(hours=5 if n < late else 1))
            finish(world, number, after=timedelta(days=4 if n < late else 1))
        clock.advance(timedelta(days=31 - 4))
    rt.close()
    live = wired_app(url, SystemClock(), MailSettings(maildir=folder))
    with served(create_app(live)) as base:
        yield base
    live.close()


def test_an_agent_sees_the_report_with_its_charts(browser, server: str, dialogs: list[str]):  # noqa: F811
    page = session(browser, server, "alice", dialogs)
    page.click("text=Reports")
    page.wait_for_load_state()
    assert page.locator("svg.chart").count() == 2
    assert page.locator("table.report tbody tr").count() >= 3
    DOCS_IMAGES.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS_IMAGES / "sla-report.png"), full_page=True)
    page.close()
