"""Real headless Chromium against a real server: what an agent and a customer see and do.

The server is uvicorn in a thread on a free loopback port over a fresh SQLite file;
the browser is the system's Chromium driven by Playwright (no downloaded browser).
Screenshots of the inbox, the case page and the portal go to ``tests/artifacts/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api

from mail.settings import MailSettings
from tests.conftest import wired_app
from tests.real_parts import missing
from tests.web.conftest import PASSWORD, seed
from tests.web.serving import served

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from web.app import create_app

    folder = tmp_path_factory.mktemp("browser")
    with wired_app(f"sqlite:///{folder / 'web.db'}", mail=MailSettings(maildir=folder)) as app:
        seed(app.runtime)
        with served(create_app(app)) as base:
            yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        missing("Chromium", f"not installed at {CHROMIUM}", "apt-get install chromium")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def dialogs() -> list[str]:
    return []


def session(browser, server: str, username: str, dialogs: list[str], area: str = ""):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server}{area}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def open_in_portal(page, server: str, subject: str, body: str) -> str:
    page.goto(f"{server}/portal/new")
    page.fill("input[name=subject]", subject)
    page.fill("textarea[name=body]", body)
    page.click("form[action='/portal/new'] button[type=submit]")
    page.wait_for_url("**/portal/cases/*")
    return page.url.rsplit("/", 1)[1]


def test_an_agent_claims_and_completes_a_task_and_the_diagram_advances(browser, server, dialogs):
    carol = session(browser, server, "carol", dialogs, "/portal")
    number = open_in_portal(carol, server, "Laptop will not boot", "Black screen since Monday")
    alice = session(browser, server, "alice", dialogs)
    assert number in alice.inner_text("main")
    shot(alice, "inbox.png")
    alice.click(f"text={number}")
    diagram = alice.locator("svg.bpmn")
    assert diagram.locator(".active").count() == 1
    assert diagram.locator(".completed").count() == 1  # the start event
    alice.click("button:has-text('Claim')")
    alice.wait_for_load_state()
    assert "held by alice" in alice.inner_text("article.task")
    alice.select_option("select[name=f_category]", "hardware")
    alice.fill("textarea[name=f_triage_note]", "check the power supply")
    alice.click(".task-form button:has-text('Complete')")
    alice.wait_for_load_state()
    assert "Propose resolution" in alice.inner_text("article.task")
    assert diagram.locator(".completed").count() == 2
    assert diagram.locator(".active").count() == 1
    shot(alice, "case.png")
    alice.fill("textarea[name=f_resolution]", "")
    alice.click(".task-form button:has-text('Complete')")
    alice.wait_for_load_state()
    assert "Resolution for the customer is required" in alice.inner_text("article.task")
    assert dialogs == []


def test_a_customer_sees_no_internal_posts_and_no_hidden_cases(browser, server, dialogs):
    carol = session(browser, server, "carol", dialogs, "/portal")
    number = open_in_portal(carol, server, "Invoice missing", "Please resend the invoice")
    hidden = open_in_portal(carol, server, "Second case", "to be hidden")
    alice = session(browser, server, "alice", dialogs)
    alice.goto(f"{server}/cases/{number}")
    alice.fill("form.reply textarea[name=body]", "Customer owes us money")
    alice.click("form.reply button[type=submit]")  # an internal note is the first button
    alice.fill("form.reply textarea[name=body]", "We sent it again")
    alice.click("form.reply button:has-text('Send public reply')")
    assert "owes us money" in alice.inner_text(".stream")
    alice.goto(f"{server}/cases/{hidden}")
    alice.click("button:has-text('Hide from the portal')")
    assert "hidden from the portal" in alice.inner_text("main")

    carol.goto(f"{server}/portal/cases/{number}")
    text = carol.inner_text("main")
    assert "We sent it again" in text and "owes us money" not in text
    carol.goto(f"{server}/portal")
    listed = carol.inner_text("main")
    assert number in listed and hidden not in listed
    shot(carol, "portal.png")
    assert carol.goto(f"{server}/portal/cases/{hidden}").status == 404
    assert dialogs == []


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)><svg onload=alert(2)>'


def test_hostile_text_in_subject_body_and_stream_stays_inert(browser, server, dialogs):
    carol = session(browser, server, "carol", dialogs, "/portal")
    number = open_in_portal(carol, server, XSS, XSS)
    carol.fill("form.reply textarea[name=body]", XSS)
    carol.click("form.reply button[type=submit]")
    carol.wait_for_load_state()
    alice = session(browser, server, "alice", dialogs)
    pages = ((carol, f"/portal/cases/{number}"), (alice, f"/cases/{number}"), (alice, "/"))
    for page, url in pages:
        page.goto(f"{server}{url}")
        page.wait_for_timeout(300)
        assert '<script>alert("x")</script>' in page.inner_text("main")
        assert page.locator("main img").count() == 0
    assert dialogs == []


def test_the_api_docs_load_with_no_request_leaving_this_server(browser, server, dialogs):
    page = browser.new_page()
    requested: list[str] = []
    refused: list[str] = []

    def only_here(route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        requested.append(url)
        if url.startswith(f"{server}/"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", only_here)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    assert page.locator(".opblock").count() > 30  # every operation is listed
    assert page.locator("text=Authorize").count() >= 1  # the security schemes
    page.wait_for_timeout(300)
    shot(page, "api-docs.png")
    assert refused == [] and requested, requested
    assert problems == []  # no script, style or image refused by the CSP
    assert dialogs == []


def test_signing_in_runs_the_password_hash_for_unknown_and_known_names(
    browser, server, dialogs, monkeypatch
):
    from argon2 import PasswordHasher

    checked: list[str] = []
    real = PasswordHasher.verify

    def verify(self, hash, password):  # type: ignore[no-untyped-def]
        checked.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)  # the server runs in this process
    stranger = session(browser, server, "nobody-by-this-name", dialogs)
    assert "Wrong username or password" in stranger.inner_text("main")
    assert len(checked) == 1
    known = session(browser, server, "bob", dialogs)
    assert "Inbox" in known.inner_text("main")
    assert len(checked) == 2 and checked[0] != checked[1]  # the dummy hash, then bob's
    assert dialogs == []


def test_an_agent_makes_and_revokes_a_token_on_the_tokens_page(browser, server, dialogs):
    alice = session(browser, server, "alice", dialogs)
    alice.click("nav >> text=Tokens")
    alice.fill("input[name=name]", "report script")
    alice.click("form[action='/tokens'] button[type=submit]")
    secret = alice.inner_text("code.secret")
    assert secret.startswith("cw_")
    shot(alice, "tokens.png")
    import httpx

    mine = httpx.get(f"{server}/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert mine.json()["username"] == "alice"
    alice.goto(f"{server}/tokens")
    assert secret not in alice.content()
    row = alice.locator("tr.token", has_text="report script")
    row.locator("button:has-text('Revoke')").click()
    alice.wait_for_load_state()
    assert "revoked" in alice.locator("tr.token", has_text="report script").inner_text()
    gone = httpx.get(f"{server}/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert gone.status_code == 401
    assert dialogs == []
