"""Card clicks, read the same way whether they come as Action.Execute or Action.Submit.

Teams sends Action.Execute as an ``adaptiveCard/action`` invoke (``value.action.verb`` and
``value.action.data``) and the Action.Submit fallback as a message whose ``value`` carries the
data with our ``verb`` key. Both become one :class:`CardAction`, validated: an unknown verb, a
missing case id or a malformed payload is refused with a clear error, never half-handled. The
error's text says what was wrong, for the log; the person who clicked is told in their language
that the button could not be read (cards/locales ``action.invalid``).
"""

from __future__ import annotations

from typing import Any, Literal

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import ActivityTypes
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = (
    "ADAPTIVE_CARD_ACTION",
    "CardAction",
    "InvalidCardAction",
    "card_action_of",
    "card_reply",
    "error_reply",
)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
_CARD_TYPE = "application/vnd.microsoft.card.adaptive"
_ERROR_TYPE = "application/vnd.microsoft.error"

Verb = Literal[
    "choose_customer", "plan_page", "status_page", "decide", "approve_all", "confirm_removal", "cancel_case"
]


class InvalidCardAction(ValueError):
    """The click's payload is not one our cards produce."""


class CardAction(BaseModel):
    """The data our cards put on their buttons; anything else in a click's data is ignored (a
    forged ``approver`` decides nothing: who clicked comes from the activity)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    verb: Verb
    # Ids become storage keys and Partner Center path segments: only the characters ours have.
    case_id: str = Field("", alias="caseId", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")
    customer_id: str = Field("", alias="customerId", max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")
    item_key: str = Field("", alias="itemKey", max_length=200)
    decision: Literal["approve", "skip", ""] = ""
    # What the clicked card showed (a decide button's item proposal, approve all's pending set).
    proposal: str = Field("", max_length=32, pattern=r"^[0-9a-f]*$")
    pending: str = Field("", max_length=32, pattern=r"^[0-9a-f]*$")
    page: int = Field(0, ge=0, le=10_000)
    via_invoke: bool = False


_NEEDS_CASE = {"plan_page", "status_page", "decide", "approve_all", "confirm_removal", "cancel_case"}


def card_action_of(turn_context: TurnContext) -> CardAction | None:
    """The card action this activity carries; None when it is not a card click.

    :raises InvalidCardAction: it looks like a click but its payload is wrong.
    """
    activity = turn_context.activity
    if activity.type == ActivityTypes.invoke and activity.name == ADAPTIVE_CARD_ACTION:
        action = (activity.value or {}).get("action") if isinstance(activity.value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            raise InvalidCardAction("not an Action.Execute")
        data = action.get("data") or {}
        payload = {**data, "verb": action.get("verb"), "via_invoke": True} if isinstance(data, dict) else None
    elif activity.type == ActivityTypes.message and isinstance(activity.value, dict) and "verb" in activity.value:
        payload = {**activity.value, "via_invoke": False}
    else:
        return None
    if payload is None:
        raise InvalidCardAction("the action data is not an object")
    try:
        parsed = CardAction.model_validate(payload)
    except ValidationError as error:
        raise InvalidCardAction(str(error.errors()[0]["msg"])) from error
    if parsed.verb in _NEEDS_CASE and not parsed.case_id:
        raise InvalidCardAction("missing caseId")
    if parsed.verb == "decide" and not (parsed.item_key and parsed.decision):
        raise InvalidCardAction("a decision needs itemKey and decision")
    if parsed.verb == "choose_customer" and not parsed.customer_id:
        raise InvalidCardAction("missing customerId")
    return parsed


def card_reply(card: dict[str, Any]) -> InvokeResponse:
    """Answer an Action.Execute with the card that replaces the clicked one."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": _CARD_TYPE, "value": card})


def error_reply(status: int, code: str, message: str) -> InvokeResponse:
    return InvokeResponse(
        status=status,
        body={"statusCode": status, "type": _ERROR_TYPE, "value": {"code": code, "message": message}},
    )
