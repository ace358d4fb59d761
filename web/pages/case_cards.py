"""What the case page's parties and child-records cards show and which forms they offer
(``case_card_forms.py`` handles the forms).

Both cards follow the section matrix (seed 001): the account, contacts and lead are the
*contact details*, the child records (mails, calls, notes) the *communications / email
records*; a role without the section does not get the card.  Every row comes from
``rules.parties`` or ``rules.child_records``, so the page shows exactly what ``case
parties`` and ``record list`` show the same user, and a form is offered only for what the
one decision allows - otherwise the card says why.  Customers never get either card: the
portal shows neither parties nor child records.
"""

from __future__ import annotations

from typing import Any

from engine.store.models import Case
from people.accounts import LEAD_STATUSES
from rules import child_records, parties

from ..auth import Actor

#: The kinds an agent adds by hand on the page (mails and attachments arrive on their own).
PAGE_KINDS = ("note", "call", "todo")


#: How many matches a picker offers at once; typing more narrows to any other.
PICK = 50


def _why_not_parties(detail: dict[str, Any]) -> str | None:
    if "edit" not in detail["allowed"]:
        return "Your roles may not change this case's account, contacts or lead."
    if detail.get("status") != "open":
        return "The case is closed: reopen it to change its account, contacts or lead."
    return None


def parties_card(
    me: Actor, detail: dict[str, Any], portal: bool, *, account_q: str = "", contact_q: str = ""
) -> dict[str, Any] | None:
    """The case's account (and parent account), contacts and lead as the user may see
    them; for those who may edit the case, the accounts and contacts they may link: the
    first :data:`PICK` matching what they typed (``account_q``, ``contact_q``), searched in
    the database through the visibility filter, so any of thousands can be picked."""
    if portal or "contact_details" not in detail["sections"]:
        return None
    card = parties.parties_of(me.work, me.subject, detail["number"])
    card["why_not"] = _why_not_parties(detail)
    if card["why_not"] is None:
        on_case = {c["id"] for c in card["contacts"]}
        accounts = parties.list_accounts(me.work, me.subject, search=account_q, limit=PICK + 1)
        addable = parties.list_contacts(
            me.work, me.subject, search=contact_q, leave_out=on_case, limit=PICK + 1
        )
        card["accounts"], card["more_accounts"] = accounts[:PICK], len(accounts) > PICK
        card["addable"], card["more_contacts"] = addable[:PICK], len(addable) > PICK
        card["account_q"], card["contact_q"] = account_q, contact_q
        card["statuses"] = LEAD_STATUSES
    return card


def records_card(
    me: Actor, case: Case, detail: dict[str, Any], portal: bool
) -> dict[str, Any] | None:
    """The case's child records shared with the user, whether they may add one, and
    whether they may restrict them (each unrestricted record naming its conflicts)."""
    if portal or "communications" not in detail["sections"]:
        return None
    return {
        "rows": child_records.records_for_case(me.work, me.subject, case),
        "can_add": "post_internal" in detail["allowed"],
        "can_restrict": child_records.may_restrict(me.subject),
        "kinds": PAGE_KINDS,
    }
