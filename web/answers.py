"""What the JSON API answers: one pydantic model per response shape, and the error bodies.

The handlers return plain dictionaries built by the engine's read models; declaring
these as response models makes the OpenAPI document exact (clients and the generated
request run check answers against it) without changing what is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# --- errors --------------------------------------------------------------------------------


class Problem(Answer):
    """Every refusal: what went wrong, in words meant for the user."""

    detail: str


class InvalidProblem(Problem):
    """Bad input: ``errors`` maps each bad field (dotted for nested ones) to its message."""

    errors: dict[str, str]


_ERRORS: dict[int, tuple[type[Problem], str]] = {
    401: (Problem, "No valid session cookie or API token (sign in, or send a live token)"),
    403: (
        Problem,
        "Not allowed: the permission rules refuse it, a cookie-authenticated change lacks "
        "its X-CSRF-Token, or the API token lacks the scope",
    ),
    404: (Problem, "No such object, or none the caller may see (the two look the same)"),
    409: (Problem, "Someone else acted first, or the object's state does not allow it"),
    422: (InvalidProblem, "Bad input; every bad field is named"),
    429: (Problem, "Too many failed sign-ins; the Retry-After header says when to try again"),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes, with their real body models."""
    return {code: {"model": _ERRORS[code][0], "description": _ERRORS[code][1]} for code in codes}


def links(status: int, **targets: tuple[str, dict[str, str]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from this answer to operations it names (operation id, parameters
    as runtime expressions), so clients and the stateful test run can follow them."""
    return {
        status: {
            "links": {
                name: {"operationId": operation, "parameters": parameters}
                for name, (operation, parameters) in targets.items()
            }
        }
    }


# --- people and credentials ----------------------------------------------------------------


class SignedIn(Answer):
    username: str
    csrf_token: str = Field(description="send it back as X-CSRF-Token with every change")


class SignedOut(Answer):
    logged_out: str


class PasswordChanged(Answer):
    username: str
    csrf_token: str | None = Field(
        description="the new session's CSRF token (every other session has ended); "
        "null when the request was made with an API token"
    )


class Token(Answer):
    id: int
    name: str
    user: str
    parent_id: int | None = Field(description="the token this one was made with")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


class NewTokenAnswer(Token):
    token: str = Field(description="the secret: shown this once, only its hash is stored")


class Revoked(Answer):
    revoked: list[int] = Field(description="the token and its descendants revoked now")


class UserRow(Answer):
    id: int
    username: str
    display_name: str
    is_admin: bool
    is_active: bool


class Me(UserRow):
    groups: list[str]
    portal: bool


class GroupRow(Answer):
    id: int
    name: str
    description: str
    members: list[str] = []


class Membership(Answer):
    group: str
    username: str


class MemberRemoved(Answer):
    group: str
    removed: str


class ContactRow(Answer):
    id: int
    name: str
    email: str | None
    customer_group_id: int | None


class CaseTypeRow(Answer):
    key: str
    name: str
    prefix: str
    may_open: bool


class VersionRow(Answer):
    id: int
    number: int
    current: bool
    deployed_at: datetime
    view_only: bool


# --- cases and tasks -----------------------------------------------------------------------


class FormField(Answer):
    id: str
    label: str
    type: str
    required: bool
    default: Any = None
    enum_values: list[list[str]]
    constraints: dict[str, Any]


class TaskSummary(Answer):
    """A task; customers get what to do and its form, not who else may do it (the
    element, lane, role and candidates are then left out)."""

    id: int
    case: str
    name: str
    element: str | None = None
    lane: str | None = None
    role: str | None = None
    state: str
    claimed_by: str | None
    claimed_by_deactivated: bool = Field(
        False, description="the holder is deactivated: the task waits for someone to reassign it"
    )
    completed_by: str | None
    created_at: datetime
    candidates: list[str] = []
    form: list[FormField]


class TaskAnswer(Answer):
    task: TaskSummary
    open_tasks: list[TaskSummary]
    case_status: str | None = Field(default=None, description="after completing a task")


class CaseSummary(Answer):
    """A case in a list; customers never get staff names or internal timers (``raiser``,
    ``assignee`` and ``next_timer_due`` are then left out)."""

    number: str
    subject: str
    status: str
    type: str | None
    priority: str
    raiser: str | None = None
    assignee: str | None = None
    assignee_deactivated: bool = Field(
        False, description="the assignee is deactivated: reassign the case"
    )
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    outcome: str | None = Field(None, description="what a closed case ended with")
    next_timer_due: datetime | None = None


class RelatedCase(CaseSummary):
    """A linked case the caller may read, and how the case it is listed on relates to it."""

    link: str = Field(
        description="related, duplicate-of, duplicated-by, parent-of, child-of, "
        "merged-into or merged-from"
    )


class OpenedCase(CaseSummary):
    tasks: list[TaskSummary] = Field(description="the new case's tasks the caller may do")


class Attachment(Answer):
    id: int
    filename: str
    content_type: str
    size: int


class Post(Answer):
    id: int
    at: datetime
    internal: bool
    body: str
    attachments: list[Attachment] = []


class StreamPost(Post):
    author: str | None


class HistoryEntry(Answer):
    at: datetime
    actor: str | None
    entity: str
    id: str
    action: str
    before: Any = None
    after: Any = None


class FieldValue(Answer):
    """A process variable as a person reads it: label and display text from the case type
    (customers get only the case type's public fields)."""

    id: str
    label: str
    type: str
    value: Any
    display: str


class CaseContact(Answer):
    id: int
    name: str
    email: str | None
    main: bool


class IncidentAnswer(Answer):
    """A process step that failed on a case: where (element, expression or script line),
    why, what a retry replays, and how often it was tried.  An incident of a case type
    (a timer start event that could not open its case) has no ``case``."""

    id: int
    case: str | None
    case_type: str | None
    state: str
    element_id: str | None
    element_name: str | None
    code: str | None
    line: int | None
    reason: str
    action: str
    attempts: int
    created_at: datetime
    resolved_at: datetime | None
    opened: str | None = None  # the case a retried start event opened


class CasePage(Answer):
    """A case as the caller may see it: fields of sections the caller may not see are left
    out (a customer sees number, subject, status, type, priority and the stream)."""

    number: str
    subject: str
    status: str
    type: str | None
    priority: str
    raiser: str | None = None
    assignee: str | None = None
    assignee_deactivated: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    next_timer_due: datetime | None = None
    collaborators: list[str] = Field([], description="agents only: who collaborates on it")
    data: dict[str, Any] | None = None
    fields: list[FieldValue] = []
    tasks: list[TaskSummary]
    history: list[HistoryEntry] = []
    stream: list[StreamPost]
    contacts: list[CaseContact] = []
    related: list[RelatedCase] = []
    sections: list[str]
    allowed: list[str]
    incidents: list[IncidentAnswer] = []


class PortalVisibilityAnswer(Answer):
    number: str
    hidden_from_portal: bool


class TrailStep(Answer):
    rule: str
    level: str | None
    reason: str
    decides: bool


class Decision(Answer):
    allowed: bool
    action: str
    section: str | None
    level: str
    needs: str
    decided_by: str
    reason: str
    sections: list[str]
    trail: list[TrailStep]


class Granted(Answer):
    number: str
    restricted: bool
    newly_restricted: bool


class RestrictionLifted(Answer):
    number: str
    restricted: bool


# --- mail triage ---------------------------------------------------------------------------


class HeldMail(Answer):
    id: int
    mailbox: str
    case_type: str
    received_at: datetime
    from_: str | None = Field(alias="from")
    subject: str | None
    refused: str | None
    excerpt: str


class TriageOutcome(Answer):
    id: int | None
    state: str
    case: str | None
    matched_by: str | None
