"""Real Chromium, at a desktop width and at 360 px: the knowledge base from an agent's
pen to a customer's reply.  An editor arranges a category inside another, writes a draft
there and publishes it to one portal role; a customer of that role browses the category
tree, searches and reads it, while a customer of another role finds nothing and a draft
is never found; when the customer opens a case whose subject matches, the agent sees the
article suggested on the case page, inserts it into a reply and the customer reads the
reply.  A reader without the edit right is refused when publishing.  Every page passes
axe-core (no serious or critical violation) and fits the screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mail.settings import MailSettings
from rules import kb
from rules.admin import set_portal_access
from tests.conftest import wired_app
from tests.web.conftest import seed
from tests.web.serving import served
from tests.web.test_browser import browser  # noqa: F401 - the Chromium fixture
from tests.web.test_inbox_browser import WIDTHS, portal_case, signed_in
from tests.web.test_inbox_live_browser import serious, wide

pytestmark = pytest.mark.integration
CAROLS_ROLE = "own-view/own-edit/open:SUPPORT"
#: a word only this width's articles hold, so the two runs never find each other's
WORD = {1280: "zephyr", 360: "quokka"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded app; the service desk edits the knowledge base, the specialists read it,
    and dave is a customer of another portal role than carol."""
    from web.app import create_app

    folder = tmp_path_factory.mktemp("kb")
    with wired_app(f"sqlite:///{folder / 'web.db'}", mail=MailSettings(maildir=folder)) as app:
        seed(app.runtime)
        with app.runtime.unit() as work:
            kb.permit(work, group="service-desk", level="edit")
            kb.permit(work, group="specialists", level="read")
            set_portal_access(
                work, username="dave", view="all", edit="all", parent_visibility=False
            )
        with served(create_app(app)) as base:
            yield base


def checked(page, width: int, problems: list) -> None:
    """The page fits the screen and axe-core finds nothing serious on it."""
    if wide(page) > width:
        problems.append((page.url, f"{wide(page)} px wide"))
    problems.extend((page.url, found) for found in serious(page))


def write(alice, server: str, title: str, body: str, category: str) -> str:
    """A draft article shown to carol's portal role; answers its KB number."""
    alice.goto(f"{server}/kb/new")
    alice.fill("input[name=title]", title)
    alice.fill("input[name=category]", category)
    alice.fill("textarea[name=body]", body)
    alice.check(f"input[name=portal_role][value='{CAROLS_ROLE}']")
    alice.click("form.kb-editor button[type=submit]")
    alice.wait_for_url("**/kb/KB-*")
    assert alice.inner_text("#kb-state") == "draft"
    return alice.url.rsplit("/", 1)[1]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_article_goes_from_the_agents_draft_to_the_customers_reply(browser, server, width):  # noqa: F811
    word, problems = WORD[width], []
    top, inner = f"Printers {word}", f"Laser {word}"
    alice = signed_in(browser, server, "alice", width)
    # the editor arranges Laser inside Printers on the knowledge base page
    alice.goto(f"{server}/kb")
    for name, parent in ((top, ""), (inner, top)):
        alice.fill("#kb-category-forms input[name=name]", name)
        if parent:
            alice.select_option("#kb-category-forms form >> nth=0 >> select[name=parent]", parent)
        alice.click("text=Add category")
        alice.wait_for_url("**/kb?category=*")
    assert alice.inner_text("#kb-category") == f"{top} / {inner}"
    checked(alice, width, problems)
    # a cycle is refused by name, on the page
    alice.select_option("#kb-category-forms form >> nth=1 >> select[name=name]", top)
    alice.select_option("#kb-category-forms form >> nth=1 >> select[name=parent]", inner)
    alice.click("text=Move category")
    assert f"{top} cannot be put inside {inner}, which is inside it" in alice.inner_text(
        "[role=alert]"
    )
    # a draft in the inner category, and a second draft that stays one
    ref = write(
        alice,
        server,
        f"Smudged pages from the {word} printer",
        "Take the toner cartridge out and shake it gently.",
        inner,
    )
    checked(alice, width, problems)
    secret = write(alice, server, f"Recall of {word} toner (draft)", "Not yet public.", inner)
    carol = signed_in(browser, server, "carol", width, "/portal")
    carol.goto(f"{server}/portal/kb?q={word}")
    assert carol.locator("#no-hits").count() == 1  # a draft is never found
    assert top not in carol.inner_text("main")  # nor is its category shown
    # a reader (sam: KB read, no edit right) may not publish, even with a valid form
    sam = signed_in(browser, server, "sam", width)
    token = {"csrf_token": sam.get_attribute("form.logout input[name=csrf_token]", "value")}
    forged = sam.request.post(f"{server}/kb/{ref}/state", form={**token, "state": "published"})
    assert forged.status == 404  # a draft he may not see, like one that does not exist
    alice.goto(f"{server}/kb/{ref}")
    assert alice.inner_text("#kb-state") == "draft"
    alice.click("button:has-text('Publish')")
    alice.wait_for_load_state()
    assert alice.inner_text("#kb-state") == "published"
    sam.goto(f"{server}/kb/{ref}")
    assert sam.locator("button:has-text('Archive')").count() == 0
    forged = sam.request.post(f"{server}/kb/{ref}/state", form={**token, "state": "archived"})
    assert forged.status == 403
    alice.reload()
    assert alice.inner_text("#kb-state") == "published"
    checked(alice, width, problems)
    # carol browses the tree down to the article, and finds it by its words
    carol.goto(f"{server}/portal/kb")
    carol.click(f"#kb-categories >> text={top}")
    carol.click(f"#kb-categories >> text={inner}")
    assert carol.inner_text("#kb-category") == f"{top} / {inner}"
    assert f"Smudged pages from the {word} printer" in carol.inner_text("#kb-articles")
    assert "Recall" not in carol.inner_text("main")
    checked(carol, width, problems)
    carol.goto(f"{server}/portal/kb")
    carol.fill("#kb-q", f"{word} smudged")
    carol.click("form.search-page button[type=submit]")
    carol.wait_for_load_state()
    assert carol.locator("#kb-hits li").count() == 1
    carol.click(f"#kb-hits >> text=Smudged pages from the {word} printer")
    carol.wait_for_url(f"**/portal/kb/{ref}")
    assert "shake it gently" in carol.inner_text("#kb-body")
    assert carol.locator("#kb-state").count() == 0  # customers never see an article's state
    checked(carol, width, problems)
    # dave, of another portal role, finds nothing and cannot open it by its number
    dave = signed_in(browser, server, "dave", width, "/portal")
    dave.goto(f"{server}/portal/kb?q={word}")
    assert dave.locator("#no-hits").count() == 1
    for forged_ref in (ref, secret, "KB-999999"):
        assert dave.goto(f"{server}/portal/kb/{forged_ref}").status == 404
        assert carol.goto(f"{server}/portal/kb/{secret}").status == 404
    # carol opens a case about it; the agent is offered the article and answers with it
    carol, number = portal_case(browser, server, width, f"Smudged {word} printer pages")
    alice.goto(f"{server}/cases/{number}")
    suggested = alice.inner_text("#kb-suggested")
    assert ref in suggested and secret not in suggested
    checked(alice, width, problems)
    alice.fill("form.reply textarea[name=body]", "Hello Carol,")
    alice.select_option("form.reply select[name=article]", ref)
    alice.click("text=Insert article into reply")
    alice.wait_for_load_state()
    typed = alice.input_value("form.reply textarea[name=body]")
    assert typed.startswith("Hello Carol,\n\nSmudged pages from the")
    assert "shake it gently" in typed
    alice.click("form.reply button.public")
    alice.wait_for_load_state()
    carol.goto(f"{server}/portal/cases/{number}")
    assert "Take the toner cartridge out and shake it gently." in carol.inner_text("main")
    assert f"/portal/kb/{ref}" in carol.content() and f"/portal/kb/{secret}" not in carol.content()
    checked(carol, width, problems)
    assert problems == []
    for page in (alice, carol, dave, sam):
        assert not page.errors, page.errors
