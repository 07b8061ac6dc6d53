"""Card clicks, read the same way whether they come as Action.Execute or Action.Submit.

Teams sends Action.Execute as an ``adaptiveCard/action`` invoke (``value.action.verb`` and
``value.action.data``) and the Action.Submit fallback as a message whose ``value`` carries the
data with our ``verb`` key. Both become one :data:`Click`: a pydantic discriminated union with
one model per verb of :class:`cards.Verb`, the verb being the discriminator. An unknown verb, a
missing case id or a malformed payload is refused with a clear error, never half-handled. The
error's text says what was wrong, for the log (never the value sent: it may be 100 KB of a
forger's text); the person who clicked is told in their language that the button could not be
read (cards/locales ``action.invalid``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from botbuilder.core import InvokeResponse
from botbuilder.schema import Activity, ActivityTypes
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from cards import CardDecision, Verb
from cards.adaptive import CARD_CONTENT_TYPE
from removal.case import TeardownTiming

__all__ = (
    "ADAPTIVE_CARD_ACTION",
    "AcceptTransfer",
    "ApproveAll",
    "CancelCase",
    "ChooseCustomer",
    "ChooseTeardownTiming",
    "Click",
    "ConfirmRemoval",
    "Decide",
    "InvalidCardAction",
    "PlanPage",
    "RejectTransfer",
    "ShowTransfer",
    "StatusPage",
    "card_action_of",
    "card_reply",
    "error_reply",
)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
_ERROR_TYPE = "application/vnd.microsoft.error"

# Ids become storage keys and Partner Center path segments: only the characters ours have.
_CASE_ID = r"^[A-Za-z0-9_-]*$"
_CUSTOMER_ID = r"^[A-Za-z0-9_.-]*$"
_DIGEST = r"^[0-9a-f]*$"
# Partner Center's transfer and line item ids are GUIDs or short numbers (transfer-entity-resources);
# anything else is not one our cards carry.
_TRANSFER_ID = r"^[A-Za-z0-9_.-]+$"
_TransferId = Annotated[str, Field(alias="transferId", min_length=1, max_length=64, pattern=_TRANSFER_ID)]
_LineItemId = Annotated[str, Field(min_length=1, max_length=64, pattern=_TRANSFER_ID)]
_CaseId = Annotated[str, Field(alias="caseId", min_length=1, max_length=64, pattern=_CASE_ID)]


class InvalidCardAction(ValueError):
    """The click's payload is not one our cards produce."""


class _Payload(BaseModel):
    """What any of our buttons may carry. Anything else in a click's data is ignored (a forged
    ``approver`` decides nothing: who clicked comes from the activity), but these keys are
    checked whatever the verb: a malformed one is refused, not ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    case_id: str = Field("", alias="caseId", max_length=64, pattern=_CASE_ID)
    customer_id: str = Field("", alias="customerId", max_length=64, pattern=_CUSTOMER_ID)
    item_key: str = Field("", alias="itemKey", max_length=200)
    decision: CardDecision | Literal[""] = ""
    # What the clicked card showed (a decide button's item proposal, approve all's pending set).
    proposal: str = Field("", max_length=32, pattern=_DIGEST)
    pending: str = Field("", max_length=32, pattern=_DIGEST)
    page: int = Field(0, ge=0, le=10_000)


class ChooseCustomer(_Payload):
    verb: Literal[Verb.CHOOSE_CUSTOMER]
    customer_id: str = Field(alias="customerId", min_length=1, max_length=64, pattern=_CUSTOMER_ID)


class PlanPage(_Payload):
    verb: Literal[Verb.PLAN_PAGE]
    case_id: _CaseId


class StatusPage(_Payload):
    verb: Literal[Verb.STATUS_PAGE]
    case_id: _CaseId


class Decide(_Payload):
    verb: Literal[Verb.DECIDE]
    case_id: _CaseId
    item_key: str = Field(alias="itemKey", min_length=1, max_length=200)
    decision: CardDecision


class ApproveAll(_Payload):
    verb: Literal[Verb.APPROVE_ALL]
    case_id: _CaseId


class ConfirmRemoval(_Payload):
    verb: Literal[Verb.CONFIRM_REMOVAL]
    case_id: _CaseId


class CancelCase(_Payload):
    verb: Literal[Verb.CANCEL_CASE]
    case_id: _CaseId


class ChooseTeardownTiming(_Payload):
    """Whether the approved access teardown runs before or after the relationship's removal
    (the plan card's one switch); any other value is refused, not read as the default."""

    verb: Literal[Verb.TEARDOWN_TIMING]
    case_id: _CaseId
    timing: TeardownTiming


class ShowTransfer(_Payload):
    """Show a transfer request's confirmation card (what moves, to whom, that it is final)."""

    verb: Literal[Verb.SHOW_TRANSFER]
    case_id: _CaseId
    transfer_id: _TransferId


class AcceptTransfer(_Payload):
    """Accept a transfer request: its ``lineItems`` (absent: all of them). ``lines``: the
    fingerprint of the line items (ids, quantities) the card showed; a click after they changed
    is answered as stale. The list is bounded only as a payload's sanity limit (the cards never
    list more line items than the request has; Partner Center answers for its own limits)."""

    verb: Literal[Verb.ACCEPT_TRANSFER]
    case_id: _CaseId
    transfer_id: _TransferId
    line_items: list[_LineItemId] | None = Field(None, alias="lineItems", min_length=1, max_length=1000)
    lines: str = Field("", max_length=64, pattern=r"^[0-9a-f]*$")


class RejectTransfer(_Payload):
    verb: Literal[Verb.REJECT_TRANSFER]
    case_id: _CaseId
    transfer_id: _TransferId


Click = Annotated[
    ChooseCustomer
    | PlanPage
    | StatusPage
    | Decide
    | ApproveAll
    | ConfirmRemoval
    | CancelCase
    | ChooseTeardownTiming
    | ShowTransfer
    | AcceptTransfer
    | RejectTransfer,
    Field(discriminator="verb"),
]
_CLICK: TypeAdapter[Click] = TypeAdapter(Click)


def card_action_of(activity: Activity) -> Click | None:
    """The card click this activity carries; None when it is not a card click.

    :raises InvalidCardAction: it looks like a click but its payload is wrong.
    """
    if activity.type == ActivityTypes.invoke and activity.name == ADAPTIVE_CARD_ACTION:
        action = (activity.value or {}).get("action") if isinstance(activity.value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            raise InvalidCardAction("not an Action.Execute")
        data = action.get("data") or {}
        if not isinstance(data, dict):
            raise InvalidCardAction("the action data is not an object")
        payload = {**data, "verb": action.get("verb")}
    elif activity.type == ActivityTypes.message and isinstance(activity.value, dict) and "verb" in activity.value:
        payload = activity.value
    else:
        return None
    try:
        return _CLICK.validate_python(payload)
    except ValidationError as error:
        raise InvalidCardAction(_what_was_wrong(error)) from error


def _what_was_wrong(error: ValidationError) -> str:
    first = error.errors(include_input=False, include_url=False)[0]
    if str(first["type"]).startswith("union_tag"):
        return "unknown verb"
    where = ".".join(str(part) for part in first["loc"][1:])  # [0] is the verb's model
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def card_reply(card: dict[str, Any]) -> InvokeResponse:
    """Answer an Action.Execute with the card that replaces the clicked one."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card})


def error_reply(status: int, code: str, message: str) -> InvokeResponse:
    return InvokeResponse(
        status=status,
        body={"statusCode": status, "type": _ERROR_TYPE, "value": {"code": code, "message": message}},
    )
