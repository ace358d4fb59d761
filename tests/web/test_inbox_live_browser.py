"""Real Chromium, at a desktop width and at 360 px: bulk actions from the inbox, the e / r /
? keys, the live refresh banner, the dark theme and its toggle, no page wider than the
screen, and axe-core (bundled with the tests, never fetched) finding no serious or critical
accessibility violation on the main pages - all under the strict Content Security Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe

from engine.clock import SystemClock
from mail.settings import MailSettings
from tests.conftest import wired_app
from tests.web.conftest import seed
from tests.web.serving import served
from tests.web.test_browser import browser  # noqa: F401 - the Chromium fixture
from tests.web.test_inbox_browser import WIDTHS, portal_case, signed_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a real clock: the live refresh announces what changed after the page
    was drawn, which a stopped clock never lets happen."""
    from web.app import create_app

    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'web.db'}"
    with wired_app(url, SystemClock(), MailSettings(maildir=folder)) as app:
        seed(app.runtime)
        with served(create_app(app)) as base:
            yield base


def wide(page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def overflowing(page, width: int) -> list[str]:
    """The innermost elements whose content reaches past the screen's right edge."""
    return list(
        page.evaluate(
            """w => Array.from(document.querySelectorAll('body, body *'))
              .filter(e => e.getBoundingClientRect().left + e.scrollWidth > w + 1
                && getComputedStyle(e).overflowX === 'visible')
              .slice(-4).map(e => e.tagName + '.' + e.getAttribute('class')
                + ' ' + Math.round(e.getBoundingClientRect().left + e.scrollWidth))""",
            width,
        )
    )


def serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page (none expected)."""
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def specialist_task(browser, server: str, width: int) -> str:  # noqa: F811 - the fixtures
    """A case triaged to the specialists; answers the task page's address."""
    _, number = portal_case(browser, server, width, f"Noise {width}")
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/cases/{number}")
    alice.select_option("select[name=f_category]", "hardware")
    alice.check("input[type=checkbox][name=f_needs_investigation]")
    alice.click("text=Complete Triage case")
    alice.wait_for_load_state()
    sam = signed_in(browser, server, "sam", width)
    sam.goto(f"{server}/cases/{number}")
    sam.wait_for_url("**/tasks/*")
    return sam.url


@pytest.mark.parametrize("width", WIDTHS)
def test_bulk_actions_select_all_on_the_page_and_name_each_refusal(browser, server, width):  # noqa: F811
    _, number = portal_case(browser, server, width, f"Bulk {width}")
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/?sort=key&dir=desc")
    alice.check("#select-all")
    boxes = alice.locator("#worklist input[name=case]")
    assert boxes.count() >= 1
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    selected = boxes.count()
    alice.select_option("form.bulk select[name=priority]", "high")
    alice.click("form.bulk button[value=priority]")
    alice.wait_for_load_state()
    assert f"{selected} of {selected} done." in alice.inner_text("#bulk-done")
    alice.goto(f"{server}/?sort=key&dir=desc")
    alice.locator(f"input[name=case][value='{number}']").check()
    alice.click("form.bulk button[value=close]")
    alice.wait_for_load_state()
    assert "0 of 1 done." in alice.inner_text("#bulk-done")
    assert alice.inner_text("#bulk-refused") == f"{number}: 1 open task"
    assert wide(alice) <= width
    assert not alice.errors, alice.errors


@pytest.mark.parametrize("width", WIDTHS)
def test_keys_e_and_r_reach_the_task_and_the_reply_and_question_mark_lists_them(
    browser,  # noqa: F811 - the fixtures
    server,
    width,
):
    _, number = portal_case(browser, server, width, f"Keys {width}")
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/?sort=key&dir=desc")
    alice.keyboard.press("?")
    assert alice.locator("#shortcuts").is_visible()
    assert "complete" in alice.inner_text("#shortcuts")
    alice.keyboard.press("Escape")
    assert not alice.locator("#shortcuts").is_visible()
    alice.keyboard.press("j")
    alice.keyboard.press("e")
    alice.wait_for_url(f"**/cases/{number}#work")
    assert alice.evaluate("document.activeElement.closest('form.task-form') !== null")
    alice.keyboard.press("Escape")
    alice.evaluate("document.activeElement.blur()")
    alice.keyboard.press("r")
    assert alice.evaluate("document.activeElement.matches('form.reply textarea')")
    alice.keyboard.type("typed after r")
    assert alice.input_value("form.reply textarea") == "typed after r"
    alice.evaluate("document.activeElement.blur()")
    alice.keyboard.press("e")
    assert alice.evaluate("document.activeElement.closest('form.task-form') !== null")
    assert not alice.errors, alice.errors


@pytest.mark.parametrize("width", WIDTHS)
def test_the_inbox_says_when_cases_change_without_a_reload(browser, server, width):  # noqa: F811
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/")
    assert not alice.locator("#live").is_visible()
    portal_case(browser, server, width, f"Live {width}")
    alice.locator("#live").wait_for(state="visible", timeout=15_000)
    assert "new or updated" in alice.inner_text("#live")
    alice.click("#live .live-refresh")
    alice.wait_for_load_state()
    assert f"Live {width}" in alice.inner_text("#worklist")
    assert not alice.errors, alice.errors


def background(page) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dark_theme_follows_the_system_and_the_toggle_is_remembered(browser, server, width):  # noqa: F811
    alice = signed_in(browser, server, "alice", width)
    alice.emulate_media(color_scheme="dark")
    alice.goto(f"{server}/")
    assert background(alice) == "rgb(18, 22, 29)"
    assert alice.get_attribute("#theme-toggle", "aria-pressed") == "true"
    alice.click("#theme-toggle")  # light, chosen by hand
    assert background(alice) == "rgb(245, 247, 250)"
    alice.reload()
    assert background(alice) == "rgb(245, 247, 250)"
    assert alice.get_attribute("#theme-toggle", "aria-pressed") == "false"
    alice.click("#theme-toggle")
    alice.emulate_media(color_scheme="light")
    alice.reload()
    assert background(alice) == "rgb(18, 22, 29)"
    assert not serious(alice), serious(alice)  # contrast holds in the dark too
    alice.evaluate("localStorage.removeItem('casework-theme')")
    assert not alice.errors, alice.errors


@pytest.mark.parametrize("width", WIDTHS)
def test_the_main_pages_fit_the_screen_and_pass_axe(browser, server, width):  # noqa: F811
    carol, number = portal_case(browser, server, width, f"Fit {width}")
    task_page = specialist_task(browser, server, width)
    alice = signed_in(browser, server, "alice", width)
    root = signed_in(browser, server, "root", width)
    sam = signed_in(browser, server, "sam", width)
    pages = [
        (alice, "/"),
        (alice, f"/cases/{number}"),
        (alice, "/cases"),
        (alice, "/search?q=Fit"),
        (sam, task_page.removeprefix(server)),
        (carol, "/portal"),
        (carol, f"/portal/cases/{number}"),
        (root, "/admin"),
    ]
    problems = []
    for page, path in pages:
        page.goto(f"{server}{path}")
        if wide(page) > width:
            problems.append((path, f"{wide(page)} px wide", overflowing(page, width)))
        problems.extend((path, found) for found in serious(page))
    assert problems == []
    for page, _ in pages:
        assert not page.errors, page.errors
