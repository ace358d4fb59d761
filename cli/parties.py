"""``account``, ``contact list/show/import`` and ``case account/contacts/lead/parties``.

Adding accounts and importing contacts are set-up commands (the operator's, like
``contact add``); every list and page is read ``--as`` a user, through the one
visibility decision (``rules.parties``), and linking is a case edit (write access).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import InvalidInput
from people import accounts, contact_import
from people.accounts import LEAD_STATUSES
from people.directory import user_by_name
from rules import load_subject, parties

from .context import add_as, row_id, runtime
from .output import emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    account = commands.add_parser("account", help="customer accounts").add_subparsers(
        dest="action", required=True
    )
    p = account.add_parser("add", help="add an account (in a customer group, or its parent's)")
    p.add_argument("name")
    p.add_argument("--customer", help="customer group (default: the parent's)")
    p.add_argument("--parent", help="parent account: its portal contacts may view this one's cases")
    p.set_defaults(handler=cmd_account_add)
    p = account.add_parser("list", help="accounts the user may see")
    p.add_argument("--search", help="only those whose name or customer group holds every word")
    add_as(p)
    p.set_defaults(handler=cmd_account_list)
    p = account.add_parser("show", help="an account with its contacts and the cases linked to it")
    p.add_argument("name")
    add_as(p)
    p.set_defaults(handler=cmd_account_show)


def register_contact(contact: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Under the ``contact`` command, beside add."""
    p = contact.add_parser("list", help="contacts the user may see")
    p.add_argument("--account", help="only the contacts of this account")
    p.add_argument("--search", help="only those whose name or address holds every word")
    add_as(p)
    p.set_defaults(handler=cmd_contact_list)
    p = contact.add_parser("show", help="a contact and the cases naming them the user may see")
    p.add_argument("id", type=row_id)
    add_as(p)
    p.set_defaults(handler=cmd_contact_show)
    p = contact.add_parser(
        "import", help="import contacts from CSV (name,email,account,customer): all or nothing"
    )
    p.add_argument("file", type=Path)
    p.set_defaults(handler=cmd_contact_import)


def register_case(case: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Under the ``case`` command, beside edit."""
    p = case.add_parser("parties", help="a case's account, contacts and lead")
    p.add_argument("number")
    add_as(p)
    p.set_defaults(handler=cmd_case_parties)
    p = case.add_parser("account", help="link a case to an account, or to none (managers)")
    p.add_argument("number")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--set", dest="account", metavar="ACCOUNT")
    to.add_argument("--none", action="store_true", help="link the case to no account")
    add_as(p)
    p.set_defaults(handler=cmd_case_account)
    p = case.add_parser("contacts", help="add or remove a case's contacts (managers)")
    p.add_argument("number")
    p.add_argument("--add", action="append", default=[], type=row_id, metavar="CONTACT_ID")
    p.add_argument("--remove", action="append", default=[], type=row_id, metavar="CONTACT_ID")
    add_as(p)
    p.set_defaults(handler=cmd_case_contacts)
    p = case.add_parser("lead", help="set a case's lead (a prospective contact), or none")
    p.add_argument("number")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--email", help="the lead's address: found again by it, or created")
    to.add_argument("--none", action="store_true", help="the case has no lead")
    p.add_argument("--name")
    p.add_argument("--company")
    p.add_argument("--status", choices=LEAD_STATUSES)
    add_as(p)
    p.set_defaults(handler=cmd_case_lead)


def cmd_account_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        account = accounts.add_account(
            work, name=args.name, customer_group=args.customer, parent=args.parent
        )
        emit({"id": account.id, "name": account.name, "parent": args.parent}, as_json=args.json)
    return 0


def cmd_account_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = parties.list_accounts(work, subject, search=args.search)
    emit(rows, as_json=args.json, table=("name", "customer", "parent"))
    return 0


def _print_cases(cases: list[dict[str, object]]) -> None:
    print("cases:")
    emit(cases, as_json=False, table=("number", "status", "subject"))


def cmd_account_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        page = parties.account_page(work, subject, args.name)
    if args.json:
        emit(page, as_json=True)
        return 0
    print(f"account {page['name']} (customer {page['customer']})")
    print(f"parent: {page['parent'] or '-'}; children: {', '.join(page['children']) or '-'}")
    print("contacts:")
    emit(page["contacts"], as_json=False, table=("id", "name", "email"))
    _print_cases(page["cases"])
    return 0


def cmd_contact_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        rows = parties.list_contacts(work, subject, args.account, search=args.search)
    emit(rows, as_json=args.json, table=("id", "name", "email", "account"))
    return 0


def cmd_contact_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        page = parties.contact_page(work, subject, args.id)
    if args.json:
        emit(page, as_json=True)
        return 0
    print(f"contact {page['id']}: {page['name']} <{page['email'] or '-'}>")
    print(f"account: {page['account'] or '-'}")
    _print_cases(page["cases"])
    return 0


def cmd_contact_import(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InvalidInput("cannot read the file", {str(args.file): str(reason)}) from None
    with runtime(args) as rt, rt.unit() as work:
        result = contact_import.import_contacts(work, text)
    counts = {k: len(getattr(result, k)) for k in ("created", "updated", "unchanged")}
    if args.json:
        emit({**counts, "created_emails": result.created}, as_json=True)
    else:
        print(", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def cmd_case_parties(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        page = parties.parties_of(work, subject, args.number)
    _show_parties(args, page)
    return 0


def _show_parties(
    args: argparse.Namespace, page: dict[str, object], changed: object = None
) -> None:
    if changed is not None:
        page = {**page, "changed": changed}
    if args.json:
        emit(page, as_json=True)
        return
    emit(page, as_json=False)


def cmd_case_account(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = parties.link_account(
            work, subject, args.number, None if args.none else args.account
        )
        page = parties.parties_of(work, subject, args.number)
    _show_parties(args, page, changed)
    return 0


def cmd_case_contacts(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = None
        if args.add or args.remove:  # without them: only show the contacts
            changed = parties.change_contacts(
                work, subject, args.number, add=args.add, remove=args.remove
            )
        page = parties.parties_of(work, subject, args.number)
    _show_parties(args, page, changed)
    return 0


def cmd_case_lead(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        subject = load_subject(work, user_by_name(work, args.as_user))
        changed = parties.link_lead(
            work,
            subject,
            args.number,
            email=None if args.none else args.email,
            name=args.name,
            company=args.company,
            status=args.status,
        )
        page = parties.parties_of(work, subject, args.number)
    _show_parties(args, page, changed)
    return 0
