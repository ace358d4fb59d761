"""What of a case reaches customers: its public fields, and the people who work it unnamed.

Process variables are internal by default.  A case type declares the fields customers
see, with labels and types (``[portal.fields]`` in its TOML, or ``public`` on a BPMN
form field), and which of them customers may set when they open a case (``open``).
Every customer output - the portal page, the API's customer view, customer mail and
notifications - takes its fields from here, and names the people who work the case
by the case type's ``staff_name`` instead of their usernames.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from engine.definitions.forms import FormField, validate_form
from engine.errors import InvalidInput
from engine.run.cases import check_process_data
from engine.runtime import LoadedVersion, UnitOfWork
from engine.store.access import PortalMembership
from engine.store.models import Case, Contact

_CUSTOMER_SIDE = (
    select(Contact.user_id)
    .where(Contact.user_id.in_(bindparam("ids", expanding=True)))
    .union(
        select(PortalMembership.user_id).where(
            PortalMembership.user_id.in_(bindparam("ids", expanding=True))
        )
    )
)


def version_of(work: UnitOfWork, case: Case) -> LoadedVersion:
    return work.runtime.version(work.session, case.version_id)


def display(field: FormField, value: Any) -> str:
    """A value as a person reads it: an enum's label, yes/no, or the text."""
    if value is None:
        return ""
    if field.type == "enum":
        return dict(field.enum_values).get(str(value), str(value))
    if field.type == "boolean" and isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def described(
    fields: tuple[FormField, ...] | list[FormField], data: dict[str, Any]
) -> list[dict[str, Any]]:
    """The given fields that have a value, with their labels and display text."""
    return [
        {
            "id": f.id,
            "label": f.label,
            "type": f.type,
            "value": data[f.id],
            "display": display(f, data[f.id]),
        }
        for f in fields
        if data.get(f.id) is not None
    ]


def customer_fields(version: LoadedVersion, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's public fields with a value: all a customer ever sees of its variables."""
    return described(version.public_fields, data)


def agent_fields(version: LoadedVersion, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every variable, labelled from the case type's forms where one declares it."""
    known: dict[str, FormField] = {}
    for form in (version.start_form, *(r.form for r in version.routing.values())):
        for f in form:
            known.setdefault(f.id, f)
    for f in version.public_fields:
        known[f.id] = f
    return described(
        [known.get(k) or FormField(id=k, label=k.replace("_", " ").capitalize()) for k in data],
        data,
    )


def opening_form(version: LoadedVersion, *, customer: bool) -> list[FormField]:
    """The fields a new case's form offers: the start form, or for customers only the
    fields the case type opens to them."""
    if not customer:
        return list(version.start_form)
    return [f for f in version.public_fields if f.public == "open"]


def customer_opening_data(version: LoadedVersion, data: dict[str, Any]) -> dict[str, Any]:
    """The variables a customer may open a case with: only the fields declared open to
    them (every other key is refused, naming it), checked as the form checks them."""
    check_process_data(data)
    allowed = {f.id: f for f in opening_form(version, customer=True)}
    refused = {str(k): "is not a field customers may set" for k in data if k not in allowed}
    if refused:
        raise InvalidInput("cannot open the case", refused)
    if version.start_form:  # the start form checks it (and its other fields' defaults)
        return dict(data)
    return validate_form([f for f in allowed.values() if f.id in data], data)


def staff_name(version: LoadedVersion) -> str:
    return version.config.staff_name


def customer_side(work: UnitOfWork, user_ids: set[int]) -> set[int]:
    """Which of these users are customers (a contact's user or a portal user): only their
    names are shown to customers; everyone else is the case type's staff name."""
    if not user_ids:
        return set()
    return set(work.session.scalars(_CUSTOMER_SIDE, {"ids": sorted(user_ids)}))
