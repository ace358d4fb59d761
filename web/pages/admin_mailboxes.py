"""Administration of the group mailboxes from the web: add one, edit it, test its sign-in.

The same checks as ``mail mailbox add|edit|test`` (``mail/mailboxes.py``), behind the admin
check and the form's CSRF token like every admin form.  A password typed here is stored
encrypted (or only its reference, ``env:NAME`` / ``file:/path``) and is never put back into
a page: the edit form shows how it is kept, and an empty password field keeps it.  A form
with problems comes back with what was typed (but the password) and each problem next to
its field.  The *Test* button signs in with the saved settings, outside the unit of work,
and shows the one line ``mail mailbox test`` prints.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput
from engine.store.mailbox import REFUSED_MATCH
from engine.store.models import CaseType, CustomerGroup
from mail import credentials
from mail.errors import MailServerError
from mail.mailboxes import AUTH_METHODS, MailboxSpec, add_mailbox, edit_mailbox, mailbox_by_name
from mail.mailboxes import spec_of as stored_spec
from mail.probe import try_sign_in

from ..api.directory import require_admin
from ..auth import Actor, acting
from ..render import render
from ..unit_routes import UnitRoute
from .common import base_context, read_form

router = APIRouter(route_class=UnitRoute, prefix="/admin/mailboxes", include_in_schema=False)

#: Form fields that are whole numbers, and the checkboxes.
NUMBERS = ("port", "max_bytes", "poll_seconds")
SWITCHES = ("tls", "acknowledge")
TEXTS = (
    *("name", "case_type", "group_address", "host", "user", "auth", "customer_group"),
    *("folder", "processed_folder", "refused_match"),
)


def _page(
    request: Request,
    me: Actor,
    values: dict[str, Any],
    *,
    editing: str | None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    tested: str | None = None,
    test_failed: bool = False,
    notice: str | None = None,
) -> Response:
    """The add or edit form; ``values`` never hold the password itself."""
    session = me.work.session
    context = {
        **base_context(me, False),
        "editing": editing,
        "values": values,
        "errors": errors or {},
        "error": error,
        "tested": tested,
        "test_failed": test_failed,
        "notice": notice,
        "case_types": list(session.scalars(select(CaseType.key).order_by(CaseType.key))),
        "customer_groups": list(
            session.scalars(select(CustomerGroup.name).order_by(CustomerGroup.name))
        ),
        "auth_methods": AUTH_METHODS,
        "refused_match": REFUSED_MATCH,
    }
    status = 422 if errors or error else 200
    return render(request, "mailbox_form.html", context, status=status)


def _shown(spec: MailboxSpec) -> dict[str, Any]:
    """A stored mailbox as the form shows it: how the password is kept, never the password."""
    values = {name: getattr(spec, name) for name in (*TEXTS, *NUMBERS, *SWITCHES)}
    values["processed_folder"] = spec.processed_folder or ""
    values["password_kept"] = credentials.describe(spec.password)
    values["password_ref"] = spec.password if credentials.is_reference(spec.password) else ""
    return values


def _typed(form: dict[str, str]) -> dict[str, Any]:
    """What the form sent, to show again after a problem (the password left out)."""
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in (*TEXTS, *NUMBERS)}
    values.update({name: form.get(name) == "on" for name in SWITCHES})
    values["password_ref"] = form.get("password_ref", "").strip()
    return values


def _fields(form: dict[str, str], *, new: bool) -> dict[str, Any]:
    """The form as :class:`MailboxSpec` fields; unreadable numbers and a missing password
    are named all at once (:class:`InvalidInput`)."""
    errors = {}
    fields: dict[str, Any] = {name: form.get(name, "").strip() for name in TEXTS}
    fields["processed_folder"] = fields["processed_folder"] or None
    fields.update({name: form.get(name) == "on" for name in SWITCHES})
    for name in NUMBERS:
        try:
            fields[name] = int(form.get(name, "").strip())
        except ValueError:
            errors[name] = "must be a whole number"
    secret = form.get("password_ref", "").strip() or form.get("password", "")
    if secret:
        if form.get("password_ref", "").strip() and not credentials.is_reference(secret):
            errors["password_ref"] = "must be env:NAME or file:/path"
        fields["password"] = secret
    elif new:
        errors["password"] = "is required (or give a reference env:NAME or file:/path)"
    if errors:
        raise InvalidInput("the mailbox was not saved", errors)
    return fields


def _problems(exc: InvalidInput | Conflict) -> tuple[str, dict[str, str]]:
    if isinstance(exc, Conflict):
        return "the mailbox was not saved", {"name": str(exc)}
    errors = {str(k): str(v) for k, v in exc.errors.items()}
    if credentials.KEY_VARIABLE in errors:  # no key to encrypt with: said at the password
        errors["password"] = f"{credentials.KEY_VARIABLE} {errors.pop(credentials.KEY_VARIABLE)}"
    return str(exc), errors


@router.get("/new")
def new_form(request: Request) -> Response:
    with acting(request) as me:
        require_admin(me)
        blank = MailboxSpec("", "", "", "", "", "", "", folder="INBOX")
        values = _shown(blank) | {"password_kept": None, "password_ref": ""}
        return _page(request, me, values, editing=None)


@router.post("/new")
async def add(request: Request) -> Response:
    """Add the mailbox; a form with problems comes back with each one named."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            require_admin(me)
            try:  # every check runs before anything is written: a refused form stores nothing
                add_mailbox(me.work, MailboxSpec(**_fields(form, new=True)), actor_id=me.user.id)
            except (InvalidInput, Conflict) as exc:
                error, errors = _problems(exc)
                return _page(request, me, _typed(form), editing=None, errors=errors, error=error)
        return RedirectResponse("/admin#mailboxes", status_code=303)

    return await run_in_threadpool(work)


@router.get("/{name}")
def edit_form(request: Request, name: str, saved: str = "") -> Response:
    with acting(request) as me:
        require_admin(me)
        spec = stored_spec(me.work, mailbox_by_name(me.work, name))
        notice = f"Mailbox {name} saved." if saved else None
        return _page(request, me, _shown(spec), editing=name, notice=notice)


@router.post("/{name}")
async def edit(request: Request, name: str) -> Response:
    """Change the mailbox; an empty password field keeps the stored password."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            require_admin(me)
            mailbox = mailbox_by_name(me.work, name)
            try:
                changes = _fields(form, new=False)
                changes.pop("name")  # renaming is not offered
                edit_mailbox(me.work, name, changes, actor_id=me.user.id)
            except (InvalidInput, Conflict) as exc:
                error, errors = _problems(exc)
                values = _typed(form) | {
                    "name": name,
                    "password_kept": credentials.describe(mailbox.imap_password),
                }
                return _page(request, me, values, editing=name, errors=errors, error=error)
        return RedirectResponse(f"/admin/mailboxes/{name}?saved=1", status_code=303)

    return await run_in_threadpool(work)


@router.post("/{name}/test")
async def test(request: Request, name: str) -> Response:
    """Sign in with the saved settings and show what ``mail mailbox test`` would print."""
    form = await read_form(request)

    def load() -> Any:
        with acting(request, form.get("csrf_token")) as me:
            require_admin(me)
            mailbox = mailbox_by_name(me.work, name)
            me.work.session.expunge(mailbox)
            return mailbox

    mailbox = await run_in_threadpool(load)
    try:  # outside the unit of work: a slow server holds no transaction
        line, failed = (await run_in_threadpool(try_sign_in, mailbox, 15.0)).line(), False
    except MailServerError as exc:
        line, failed = str(exc), True

    def show() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            spec = stored_spec(me.work, mailbox_by_name(me.work, name))
            return _page(request, me, _shown(spec), editing=name, tested=line, test_failed=failed)

    return await run_in_threadpool(show)
