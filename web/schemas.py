"""Request bodies of the JSON API: pydantic models, so bad shapes answer 422 per field.

Every integer, string and list a client sends has a bound that the OpenAPI document
states: text refuses NUL characters (PostgreSQL cannot store them) and has a maximum
length, ids fit 32 bits, free-form process data is JSON whose integers fit 64 bits,
whose numbers are finite, whose lists and objects are bounded and which nests at most
:data:`MAX_DEPTH` levels.  Out-of-range input gets a 422 naming the field instead of
reaching the database.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from typing_extensions import TypeAliasType

from engine.run.cases import Priority
from people.passwords import MAX_LENGTH as PASSWORD_MAX
from people.tokens import MAX_LIFETIME, SCOPES

from .api.params import CASE_NUMBER

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_TEXT = 100_000
MAX_ITEMS = 1000  # elements of one list in process data
MAX_KEYS = 200  # keys of one object in process data
MAX_DEPTH = 8  # nested lists and objects in process data


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _not_an_integer(value: Any) -> Any:
    # a strict float takes Python ints too; an integer out of the 64-bit range must not
    # slip through as an imprecise float
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"must be an integer from {INT64_MIN} to {INT64_MAX}")
    return value


def _json_problem(value: Any, where: str, depth: int) -> str | None:
    """What is wrong with a value of process data (in words, with its place), if anything.
    The union below would say it too, but once per member type; this says it once."""
    if depth > MAX_DEPTH:
        return f"{where} nests lists and objects more than {MAX_DEPTH} levels deep"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return f"{where} is an integer outside the 64-bit range"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is not a finite number"
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where} contains a NUL character"
        return None if len(value) <= MAX_TEXT else f"{where} is longer than {MAX_TEXT} characters"
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            return f"{where} has more than {MAX_ITEMS} items"
        items = (_json_problem(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
        return next((p for p in items if p), None)
    if isinstance(value, dict):
        if len(value) > MAX_KEYS:
            return f"{where} has more than {MAX_KEYS} keys"
        for key, item in value.items():
            if not isinstance(key, str) or not 1 <= len(key) <= 100 or "\x00" in key:
                return f"{where} has a key that is not 1 to 100 characters of text"
            problem = _json_problem(item, f"{where}.{key}", depth + 1)
            if problem:
                return problem
        return None
    return f"{where} is not JSON"


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        problem = _json_problem(value, "the data", 0)
        if problem:
            raise ValueError(problem.removeprefix("the data."))
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Key = Annotated[Text, Field(min_length=1, max_length=100)]
Int64 = Annotated[int, Field(strict=True, ge=INT64_MIN, le=INT64_MAX)]
Number = Annotated[
    float,
    BeforeValidator(_not_an_integer),
    Field(strict=True, allow_inf_nan=False, json_schema_extra={"not": {"type": "integer"}}),
]
JsonValue = TypeAliasType(
    "JsonValue",
    "bool | Int64 | Number | Annotated[Text, Field(max_length=MAX_TEXT)]"
    " | Annotated[list[JsonValue], Field(max_length=MAX_ITEMS)]"
    " | Annotated[dict[Key, JsonValue], Field(max_length=MAX_KEYS)] | None",
)
Data = Annotated[
    dict[Key, JsonValue],
    Field(
        max_length=MAX_KEYS,
        description=f"JSON object: integers within 64 bits, finite numbers, text up to "
        f"{MAX_TEXT} characters, lists up to {MAX_ITEMS} items, objects up to {MAX_KEYS} "
        f"keys, at most {MAX_DEPTH} levels deep",
    ),
    BeforeValidator(_plain_json),
]
Id32 = Annotated[int, Field(ge=1, le=2**31 - 1)]
Password = Annotated[Text, Field(min_length=1, max_length=PASSWORD_MAX)]
Scope = Literal[SCOPES]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenCase(Strict):
    case_type: Annotated[Text, Field(min_length=1, max_length=50, examples=["SUPPORT"])]
    subject: Annotated[Text, Field(min_length=1, max_length=500)]
    priority: Priority = "normal"
    data: Data = Field(default_factory=dict)
    contact: Id32 | None = None


class CloseCase(Strict):
    reason: Annotated[Text, Field(max_length=2000)] = ""
    #: what the case ended with (one of its type's ``[closing] outcomes`` when it lists them)
    outcome: Annotated[Text | None, Field(min_length=1, max_length=200)] = None


class PortalVisibility(Strict):
    hidden: bool


class NewPost(Strict):
    body: Annotated[Text, Field(min_length=1, max_length=MAX_TEXT)]
    internal: bool = False


class CompleteTask(Strict):
    data: Data = Field(default_factory=dict)


class HandOver(Strict):
    """``to``: the user, by name, who takes the task; they must be one of its candidates."""

    to: Annotated[Text, Field(min_length=1, max_length=150, examples=["bob"])]


class Login(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=150)]
    password: Password


class NewToken(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(SCOPES))] | None = Field(
        default=None,
        description="read, write, admin (admin only for administrators); default: those of "
        "the token the request is made with, or read and write",
    )
    expires_in_days: Annotated[int, Field(ge=1, le=MAX_LIFETIME.days)] | None = Field(
        default=None,
        description="default 90 days, never later than the token the request is made with",
    )


class NewPassword(Strict):
    current_password: Password
    new_password: Password


class PasswordReset(Strict):
    new_password: Password


class UserActive(Strict):
    """Deactivate (``false``) or reactivate (``true``) a user."""

    active: StrictBool


class NewUser(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=150)]
    display_name: Annotated[Text, Field(max_length=200)] = ""
    email: Annotated[Text, Field(max_length=320)] | None = None
    password: Password | None = None
    is_admin: bool = False


GroupName = Annotated[Text, Field(min_length=1, max_length=150)]


class Invitation(Strict):
    """A user to invite: created without a password, mailed a one-time link to set one."""

    username: Annotated[Text, Field(min_length=1, max_length=150)]
    display_name: Annotated[Text, Field(max_length=200)] = ""
    email: Annotated[Text, Field(max_length=320)] | None = None
    groups: Annotated[list[GroupName], Field(max_length=50)] = []
    #: groups joined as their lead (who also manages what the group shares)
    leads: Annotated[list[GroupName], Field(max_length=50)] = []


class NewGroup(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=150)]
    description: Annotated[Text, Field(max_length=500)] = ""


class Member(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=150)]
    #: ``lead``: also manages the group's canned replies; given, it changes an existing
    #: member's role too
    role: Literal["member", "lead"] | None = None


class ThreadInto(Strict):
    """The case a message held for triage belongs to."""

    case: Annotated[Text, Field(max_length=40, pattern=CASE_NUMBER)]
