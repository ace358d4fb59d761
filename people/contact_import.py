"""Contacts imported from a CSV file: all or nothing, idempotent by email address.

The file has a header row naming its columns: ``name`` and ``email`` are required,
``account`` and ``customer`` (customer group) say where a contact belongs (one of them).
Every line is checked before anything is stored; one bad line refuses the whole file, with
one error per problem naming the line and the field.  A contact whose address is already
known (case-insensitively) is updated, not added again, so importing the same file twice
changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select

from engine import audit
from engine.errors import InvalidInput
from engine.runtime import UnitOfWork
from engine.store.models import Account, Contact, CustomerGroup

from .accounts import contact_by_email, email_problem

COLUMNS = ("name", "email", "account", "customer")
MAX_ERRORS = 50  # a wrong file is told in full enough to fix it, not in ten thousand lines


@dataclass
class Imported:
    created: list[str] = field(default_factory=list)  # email addresses
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    name: str
    email: str
    account_id: int | None
    group_id: int


def _parse(work: UnitOfWork, text: str) -> list[_Row]:
    if "\x00" in text:
        raise InvalidInput("cannot import contacts", {"file": "not CSV (a NUL character)"})
    try:
        return _checked(work, text)
    except csv.Error as exc:  # a broken quote, a NUL: the file is not CSV at all
        raise InvalidInput("cannot import contacts", {"file": f"not CSV ({exc})"}) from None


def _checked(work: UnitOfWork, text: str) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text), strict=True)
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    missing = [c for c in ("name", "email") if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        problems = [f"missing column {c!r}" for c in missing]
        problems += [f"unknown column {h!r} (known: {', '.join(COLUMNS)})" for h in unknown]
        raise InvalidInput("cannot import contacts", {"line 1 (header)": "; ".join(problems)})
    reader.fieldnames = header
    accounts = {a.name: a for a in work.session.scalars(select(Account))}
    groups = dict(work.session.execute(select(CustomerGroup.name, CustomerGroup.id)).tuples().all())
    rows: list[_Row] = []
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:
            errors[f"line {line}"] = "more fields than the header names"
            continue
        value = {k: (v or "").strip() for k, v in record.items()}
        name, email = value.get("name", ""), value.get("email", "")
        account, customer = value.get("account", ""), value.get("customer", "")
        if not name:
            errors[f"line {line}: name"] = "is required"
        elif len(name) > 200:
            errors[f"line {line}: name"] = "must be at most 200 characters"
        problem = email_problem(email) if email else "is required"
        if problem:
            errors[f"line {line}: email"] = problem
        elif email.lower() in seen:
            errors[f"line {line}: email"] = f"{email!r} is already on line {seen[email.lower()]}"
        else:
            seen[email.lower()] = line
        on = accounts.get(account) if account else None
        group_id = groups.get(customer) if customer else None
        if account and on is None:
            errors[f"line {line}: account"] = f"no account {account!r}"
        if customer and group_id is None:
            errors[f"line {line}: customer"] = f"no customer group {customer!r}"
        if not account and not customer:
            errors[f"line {line}: account"] = "name an account or a customer group"
        if on is not None and group_id is not None and on.customer_group_id != group_id:
            errors[f"line {line}: account"] = f"{account!r} is not an account of {customer!r}"
        if len(errors) >= MAX_ERRORS:
            break
        if not errors:
            gid = on.customer_group_id if on is not None else group_id
            assert gid is not None
            rows.append(_Row(line, name, email, on.id if on else None, gid))
    if errors:
        raise InvalidInput("nothing imported: fix these lines and import the file again", errors)
    return rows


def import_contacts(work: UnitOfWork, text: str, *, actor_id: int | None = None) -> Imported:
    """Import the CSV ``text`` (see the module's description); audited per contact."""
    result = Imported()
    for row in _parse(work, text):
        known = contact_by_email(work, row.email)
        if known is None:
            contact = Contact(
                name=row.name,
                email=row.email,
                customer_group_id=row.group_id,
                account_id=row.account_id,
            )
            work.session.add(contact)
            work.session.flush()
            result.created.append(row.email)
            _audit(work, contact, "created", None, actor_id)
            continue
        before = _state(known)
        known.name, known.customer_group_id = row.name, row.group_id
        if row.account_id is not None:
            known.account_id = row.account_id
        if _state(known) == before:
            result.unchanged.append(row.email)
            continue
        work.session.flush()
        result.updated.append(row.email)
        _audit(work, known, "imported", before, actor_id)
    return result


def _state(contact: Contact) -> dict[str, object]:
    return {
        "name": contact.name,
        "customer_group_id": contact.customer_group_id,
        "account_id": contact.account_id,
    }


def _audit(
    work: UnitOfWork,
    contact: Contact,
    action: str,
    before: dict[str, object] | None,
    actor_id: int | None,
) -> None:
    audit.record(
        work,
        actor_id=actor_id,
        entity="contact",
        entity_id=contact.id,
        action=action,
        before=before,
        after={**_state(contact), "email": contact.email, "source": "import"},
    )
