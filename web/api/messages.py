"""Messages and signals over JSON: to one case, to the case a correlation key names (or a
new one, when the process starts with the message), and signals to a type's waiting cases.

A message that reaches no waiting case is refused, never dropped: 404 when there is no
such case (or none the caller may see), 409 when the case waits for something else (the
answer names what it waits for).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import Field

from engine.errors import CaseworkError
from engine.run.messages import Delivery
from rules import message_acts

from ..answers import errors
from ..auth import SIGNED_IN, acting
from ..schemas import Data, Strict, Text
from ..unit_routes import UnitRoute
from .operations_answers import Delivery as DeliveryAnswer
from .operations_answers import SignalResult
from .params import CaseNumber

router = APIRouter(
    route_class=UnitRoute,
    tags=["messages"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 409, 422),
)
#: as drawn in the modeler: any name without control characters ("Love Letter Response")
EventName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
TypeKey = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Z][A-Z0-9_]*$")]


class NewMessage(Strict):
    data: Data = Field(default_factory=dict)


class CorrelatedMessage(Strict):
    key: Annotated[Text, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="the value of the case type's correlation property"
    )
    subject: Annotated[Text, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="subject of the case the message opens, if it opens one"
    )
    data: Data = Field(default_factory=dict)


def _answer(delivery: Delivery) -> dict[str, Any]:
    return {
        "case": delivery.case,
        "kind": delivery.kind,
        "name": delivery.name,
        "caught": delivery.caught,
        "case_status": delivery.case_status,
        "new_task_ids": delivery.new_task_ids,
    }


@router.post(
    "/api/cases/{number}/messages/{name}",
    summary="Deliver a message to a case that waits for it",
    response_model=DeliveryAnswer,
)
def deliver_message(
    request: Request, number: CaseNumber, name: EventName, body: NewMessage
) -> dict[str, Any]:
    with acting(request) as me:
        return _answer(
            message_acts.deliver_to_case(
                me.work, me.subject, me.user, number, "message", name, body.data
            )
        )


@router.post(
    "/api/cases/{number}/signals/{name}",
    summary="Deliver a signal to one case that waits for it",
    response_model=DeliveryAnswer,
)
def deliver_signal(
    request: Request, number: CaseNumber, name: EventName, body: NewMessage
) -> dict[str, Any]:
    with acting(request) as me:
        return _answer(
            message_acts.deliver_to_case(
                me.work, me.subject, me.user, number, "signal", name, body.data
            )
        )


@router.post(
    "/api/case-types/{case_type}/messages/{name}",
    summary="Deliver a message to the case its correlation key names, or open one",
    response_model=DeliveryAnswer,
)
def correlate_message(
    request: Request, case_type: TypeKey, name: EventName, body: CorrelatedMessage
) -> dict[str, Any]:
    with acting(request) as me:
        return _answer(
            message_acts.send_message(
                me.work,
                me.subject,
                me.user,
                case_type=case_type,
                name=name,
                key=body.key,
                data=body.data,
                title=body.subject,
            )
        )


@router.post(
    "/api/case-types/{case_type}/signals/{name}",
    summary="Broadcast a signal to every waiting case of a type I may change",
    response_model=list[SignalResult],
)
def broadcast_signal(
    request: Request, case_type: TypeKey, name: EventName, body: NewMessage
) -> list[dict[str, Any]]:
    """Each case in its own transaction: a case whose next step fails gets an incident
    and an ``error`` here, and the signal still reaches the others."""
    with acting(request) as me:
        numbers = message_acts.signal_targets(me.work, me.subject, case_type, name, body.data)
    results: list[dict[str, Any]] = []
    for number in numbers:
        try:
            with acting(request) as me:
                delivery = message_acts.deliver_to_case(
                    me.work, me.subject, me.user, number, "signal", name, body.data
                )
            results.append({**_answer(delivery), "error": None})
        except CaseworkError as exc:
            results.append({"case": number, "error": str(exc)})
    return results
