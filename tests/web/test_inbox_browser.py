"""Real Chromium journeys: an agent triages, works and closes a case from the inbox; a
specialist completes their task; the customer follows in the portal, replies with a file
and sees the answer.  Each at a desktop width and at 360 px (a phone), with the inbox's
j / k / Enter keys."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD
from tests.web.test_browser import browser, server, shot  # noqa: F401 - the Chromium and app fixtures

pytestmark = pytest.mark.integration
WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(360, id="phone")]


def signed_in(browser, server: str, username: str, width: int, area: str = ""):  # noqa: F811 - the fixtures
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.on("dialog", lambda d: d.accept())
    errors: list[str] = []
    # script errors and Content Security Policy refusals (a missing favicon is no fault)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.errors = errors
    page.goto(f"{server}{area}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def fits(page, selector: str, width: int) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box


def portal_case(browser, server: str, width: int, subject: str) -> tuple[object, str]:  # noqa: F811 - the fixtures
    carol = signed_in(browser, server, "carol", width, "/portal")
    carol.goto(f"{server}/portal/new")
    carol.fill("input[name=subject]", subject)
    carol.fill("textarea[name=body]", "It makes a noise")
    carol.click("form[action='/portal/new'] button[type=submit]")
    carol.wait_for_url("**/portal/cases/*")
    return carol, carol.url.rsplit("/", 1)[1]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_agent_triages_works_and_closes_a_case(browser, server: str, width: int):  # noqa: F811 - the fixtures
    carol, number = portal_case(browser, server, width, f"Kettle {width}")
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/?show=groups&sort=key&dir=desc")
    first = alice.locator("#worklist tbody tr").first
    assert number in first.inner_text()
    assert alice.locator("#worklist .sla-ok").count() >= 1
    alice.keyboard.press("j")
    assert "selected" in (first.get_attribute("class") or "")
    alice.keyboard.press("Enter")
    alice.wait_for_url(f"**/cases/{number}")
    assert not alice.errors, alice.errors
    # the task form comes first; the diagram is folded away
    assert alice.locator("details.diagram").get_attribute("open") is None
    fits(alice, "form.task-form button[type=submit]", width)
    assert alice.locator(".why-not").inner_text() == "Close: 1 open task."
    alice.select_option("select[name=f_category]", "hardware")
    alice.click("text=Complete Triage case")
    alice.wait_for_load_state()
    alice.fill("textarea[name=f_resolution]", "Descale it")
    alice.click("text=Complete Propose resolution")
    alice.wait_for_load_state()
    # an internal note by default (alice is not the case's manager), said on the button
    alice.fill("textarea[name=body]", "Told the customer to descale")
    alice.click("text=Add internal note (agents only)")
    alice.wait_for_load_state()
    assert "Internal" in alice.locator("article.post.internal .meta").first.inner_text()
    # the customer confirms in the portal: human labels, Yes/No, no Claim button
    carol.goto(f"{server}/portal/cases/{number}")
    assert carol.locator("text=Did this solve your problem?").count() == 1
    assert carol.locator("button:has-text('Claim')").count() == 0
    assert "We are working on it" in carol.inner_text("body")
    assert "Told the customer" not in carol.inner_text("body")
    carol.check("input[name=f_resolved][value=true]")
    carol.click("form.task-form button[type=submit]")
    carol.wait_for_load_state()
    alice.goto(f"{server}/cases/{number}")
    if alice.locator("text=Close case").count():
        alice.click("text=Close case")
        alice.wait_for_load_state()
    assert alice.locator(".case-head .status-closed").count() == 1
    alice.goto(f"{server}/?show=all")
    assert number not in alice.inner_text("#main, main")
    carol.goto(f"{server}/portal")
    assert "Resolved" in carol.inner_text("main")
    assert not carol.errors, carol.errors


@pytest.mark.parametrize("width", WIDTHS)
def test_a_specialist_completes_their_task(browser, server: str, width: int):  # noqa: F811 - the fixtures
    _, number = portal_case(browser, server, width, f"Fridge {width}")
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/cases/{number}")
    alice.select_option("select[name=f_category]", "hardware")
    alice.check("input[type=checkbox][name=f_needs_investigation]")
    alice.fill("textarea[name=f_triage_note]", "check the compressor")
    alice.click("text=Complete Triage case")
    alice.wait_for_load_state()
    sam = signed_in(browser, server, "sam", width)
    sam.goto(f"{server}/?show=groups")
    sam.click(f"text={number}")
    sam.wait_for_url("**/tasks/*")
    body = sam.inner_text("main")
    assert f"Fridge {width}" in body and "Stream" not in body
    fits(sam, "form.task-form button[type=submit]", width)
    sam.fill("textarea[name=f_findings]", "compressor worn")
    sam.fill("input[name=f_hours_spent]", "-5")
    sam.click("text=Complete Investigate")
    sam.wait_for_load_state()
    assert sam.locator(".field-error").count() >= 1
    assert sam.input_value("textarea[name=f_findings]") == "compressor worn"
    sam.fill("input[name=f_hours_spent]", "3")
    sam.click("text=Complete Investigate")
    sam.wait_for_url(f"{server}/?done=1")
    assert "Task completed." in sam.inner_text("main")
    assert not sam.errors, sam.errors


@pytest.mark.parametrize("width", WIDTHS)
def test_a_customer_opens_a_case_replies_with_a_file_and_sees_the_answer(
    browser,  # noqa: F811 - the fixtures
    server: str,  # noqa: F811
    width: int,
):
    carol, number = portal_case(browser, server, width, f"Toaster {width}")
    carol.fill("textarea[name=body]", "Here is a photo of the plug")
    carol.set_input_files(
        "input[name=files]",
        files=[{"name": "plug.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\nplug"}],
    )
    carol.click("form.reply button[type=submit]")
    carol.wait_for_load_state()
    alice = signed_in(browser, server, "alice", width)
    alice.goto(f"{server}/cases/{number}")
    assert "plug.png" in alice.inner_text("main")  # the customer's file reached the agent
    alice.fill("textarea[name=body]", "Internal: the plug looks burnt")
    alice.click("form.reply button.internal")
    alice.wait_for_load_state()
    alice.fill("textarea[name=body]", "Please use another socket and tell us if it works")
    alice.click("form.reply button.public")
    alice.wait_for_load_state()
    carol.goto(f"{server}/portal/cases/{number}")
    body = carol.inner_text("main")
    assert "Please use another socket" in body and "Here is a photo of the plug" in body
    assert "plug.png" in body and "burnt" not in body
    assert carol.evaluate("document.scrollingElement.scrollWidth") <= width
    shot(carol, f"portal-answer-{width}.png")
    assert not carol.errors and not alice.errors, carol.errors + alice.errors
