"""Per-turn helpers shared by the dialogs: the card click of this turn, and showing a card.

A click that arrives as an Action.Execute invoke is answered with a card that replaces the clicked
one; :func:`show` does that when the turn is such a click not yet answered, and posts a new
message otherwise (typed commands, Action.Submit). The Teams edge reads the answer back from
``turn_state`` and writes the invoke response.
"""

from __future__ import annotations

import json
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

__all__ = ("CARD_ACTION", "INVOKE_CARD", "conversation_reference", "locale_of", "post", "show", "tenant_ids", "tenant_of")

CARD_ACTION = "offboard.card_action"
INVOKE_CARD = "offboard.invoke_card"


def locale_of(turn_context: TurnContext) -> str:
    return turn_context.activity.locale or "en-US"


def tenant_of(turn_context: TurnContext) -> str:
    """The Entra tenant the activity comes from (conversation, else Teams' channelData)."""
    return next(iter(tenant_ids(turn_context.activity)), "")


def tenant_ids(activity: Activity) -> list[str]:
    """Every tenant id the activity names: ``conversation.tenantId``, then ``channelData.tenant.id``.

    botbuilder's ConversationAccount reads only ``tenantID``; Teams writes ``tenantId``, which
    botbuilder keeps aside in ``additional_properties``: both are read. A value that is not a
    string is kept (as text), so that it is refused rather than taken for no tenant at all.
    """
    named: list[Any] = []
    if activity.conversation is not None:
        named += [activity.conversation.tenant_id, (activity.conversation.additional_properties or {}).get("tenantId")]
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    named.append(tenant.get("id") if isinstance(tenant, dict) else tenant)
    return list(dict.fromkeys(value if isinstance(value, str) else json.dumps(value) for value in named if value))


def conversation_reference(turn_context: TurnContext) -> dict[str, Any]:
    """Where this turn happens, serialized for later proactive posts. botbuilder's serializer
    drops the conversation's tenant id, which a 1:1 chat with the requester needs: kept here."""
    reference = TurnContext.get_conversation_reference(turn_context.activity).serialize()
    reference.setdefault("conversation", {})["tenantId"] = tenant_of(turn_context)
    return reference


async def post(turn_context: TurnContext, card: dict[str, Any]) -> str:
    response = await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
    return response.id if response and response.id else ""


async def show(turn_context: TurnContext, card: dict[str, Any]) -> str:
    """Show ``card`` in place of the clicked card if possible, else as a new message; its id."""
    action = turn_context.turn_state.get(CARD_ACTION)
    if action is not None and action.via_invoke and INVOKE_CARD not in turn_context.turn_state:
        turn_context.turn_state[INVOKE_CARD] = card
        return turn_context.activity.reply_to_id or ""
    return await post(turn_context, card)
