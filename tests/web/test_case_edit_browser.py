"""Real headless Chromium: an agent edits a case on its page - subject and priority, the
assignee, a collaborator, cancel and reopen - and a refused change says why on the page;
the customer's portal page offers none of it."""

from __future__ import annotations

import pytest

from tests.web.test_browser import (  # noqa: F401  (fixtures)
    browser,
    dialogs,
    open_in_portal,
    server,
    session,
    shot,
)

pytestmark = pytest.mark.integration


def test_an_agent_edits_a_case_on_its_page(browser, server: str, dialogs: list[str]):  # noqa: F811
    carol = session(browser, server, "carol", dialogs, "/portal")
    number = open_in_portal(carol, server, "Printer jams", "It jams on page 2.")
    alice = session(browser, server, "alice", dialogs)
    alice.goto(f"{server}/cases/{number}")

    edit = alice.locator(f"form[action='/cases/{number}/edit']")
    edit.locator("input[name=subject]").fill("Printer on fire")
    edit.locator("select[name=priority]").select_option("urgent")
    edit.locator("button[type=submit]").click()
    alice.wait_for_load_state()
    assert "Printer on fire" in alice.locator("h1").inner_text()
    assert alice.locator(".badge.prio-urgent").inner_text() == "urgent"

    assign = alice.locator(f"form[action='/cases/{number}/assign']")
    assign.locator("input[name=to]").fill("bob")
    assign.locator("button[type=submit]").click()
    alice.wait_for_load_state()
    assert "assigned to bob" in alice.locator(".facts").inner_text()
    add = alice.locator("#collaborators form:has(input[name=op][value=add])")
    add.locator("input[name=user]").fill("mona")
    add.locator("button[type=submit]").click()
    alice.wait_for_load_state()
    people = alice.locator("#collaborators").inner_text()
    assert "bob" in people and "mona" in people and "carol" in people

    # a customer cannot be given the case: the page says why and nothing changes
    assign = alice.locator(f"form[action='/cases/{number}/assign']")
    assign.locator("input[name=to]").fill("carol")
    assign.locator("button[type=submit]").click()
    alice.wait_for_load_state()
    assert "carol is a portal customer" in alice.locator("#edit-error").inner_text()
    assert "assigned to bob" in alice.locator(".facts").inner_text()

    alice.locator(f"form[action='/cases/{number}/cancel'] button[type=submit]").click()
    alice.wait_for_load_state()
    assert alice.locator(".badge.status-closed").count() == 1
    assert alice.locator(".badge.outcome").inner_text() == "cancelled"
    shot(alice, "case-edit-cancelled.png")
    alice.locator(f"form[action='/cases/{number}/reopen'] button[type=submit]").click()
    alice.wait_for_load_state()
    assert alice.locator(".badge.status-open").count() == 1
    history = alice.locator("table.history").inner_text()
    for action in ("edited", "reassigned", "collaborator_added", "cancelled", "reopened"):
        assert action in history, action

    carol.goto(f"{server}/portal/cases/{number}")
    assert carol.locator("#edit-case").count() == 0 and carol.locator("#collaborators").count() == 0
    assert dialogs == []


def test_an_agent_hands_a_task_to_a_colleague_on_the_case_page(
    browser,  # noqa: F811
    server: str,  # noqa: F811
    dialogs: list[str],  # noqa: F811
):
    carol = session(browser, server, "carol", dialogs, "/portal")
    number = open_in_portal(carol, server, "Scanner jams", "It jams on page 3.")
    alice = session(browser, server, "alice", dialogs)
    alice.goto(f"{server}/cases/{number}")
    task = alice.locator("article.task").first
    hand = task.locator("form.hand-over")
    hand.locator("input[name=to]").fill("mona")  # a monitor: not one of the task's candidates
    hand.locator("button", has_text="Reassign").click()
    alice.wait_for_load_state()
    task = alice.locator("article.task").first
    refusal = task.locator("form.hand-over [role=alert]").inner_text()
    assert "mona may not act on task" in refusal and "service-desk" in refusal
    assert "held by" not in task.locator("h3").inner_text()  # nothing changed

    task.locator("form.hand-over input[name=to]").fill("bob")
    task.locator("form.hand-over button", has_text="Reassign").click()
    alice.wait_for_load_state()
    assert "held by bob" in alice.locator("article.task").first.locator("h3").inner_text()
    history = alice.locator("table.history").inner_text()
    assert "reassigned" in history
    assert dialogs == []
