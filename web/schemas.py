"""Request bodies of the JSON API: pydantic models, so bad shapes answer 422 per field.

Text fields refuse NUL characters (PostgreSQL cannot store them) and are bounded,
so hostile input gets a clear 422 instead of reaching the database.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from engine.cases import Priority

from .api.params import CASE_NUMBER


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _clean_data(value: dict[str, Any]) -> dict[str, Any]:
    if "\x00" in repr(value):
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Data = Annotated[dict[str, Any], AfterValidator(_clean_data)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenCase(Strict):
    case_type: Annotated[Text, Field(min_length=1, max_length=50)]
    subject: Annotated[Text, Field(min_length=1, max_length=500)]
    priority: Priority = "normal"
    data: Data = Field(default_factory=dict)
    contact: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class CloseCase(Strict):
    reason: Annotated[Text, Field(max_length=2000)] = ""


class PortalVisibility(Strict):
    hidden: bool


class NewPost(Strict):
    body: Annotated[Text, Field(min_length=1, max_length=100_000)]
    internal: bool = False


class CompleteTask(Strict):
    data: Data = Field(default_factory=dict)


class Login(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=150)]
    password: Annotated[Text, Field(min_length=1, max_length=1000)]


class NewToken(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=100)]


class NewUser(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=150)]
    display_name: Annotated[Text, Field(max_length=200)] = ""
    email: Annotated[Text, Field(max_length=320)] | None = None
    password: Annotated[Text, Field(min_length=8, max_length=1000)] | None = None
    is_admin: bool = False


class NewGroup(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=150)]
    description: Annotated[Text, Field(max_length=500)] = ""


class Member(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=150)]


class ThreadInto(Strict):
    """The case a message held for triage belongs to."""

    case: Annotated[Text, Field(max_length=40, pattern=CASE_NUMBER)]
