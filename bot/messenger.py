"""Posting and updating cards outside a turn (proactive messages), through the adapter.

The conversation is the case's stored ConversationReference; ``continue_conversation`` opens a
turn on it with the bot's app id (CloudAdapter's argument order: reference, callback, app id).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import ConversationReference

__all__ = ("AdapterMessenger", "card_activity")

_log = logging.getLogger(__name__)


def card_activity(card: dict[str, Any]) -> Any:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


class AdapterMessenger:
    def __init__(self, adapter: BotAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id

    async def post(self, conversation: dict[str, Any], card: dict[str, Any]) -> str:
        posted: list[str] = []

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(card_activity(card))
            posted.append(response.id if response and response.id else "")

        await self._adapter.continue_conversation(self._reference(conversation), send, self._app_id)
        return posted[0] if posted else ""

    async def update(self, conversation: dict[str, Any], activity_id: str, card: dict[str, Any]) -> None:
        async def replace(turn_context: TurnContext) -> None:
            activity = card_activity(card)
            activity.id = activity_id
            await turn_context.update_activity(activity)

        try:
            await self._adapter.continue_conversation(self._reference(conversation), replace, self._app_id)
        except Exception:  # an update that fails must not stop the work it reports on
            _log.exception("could not update message %s", activity_id)

    @staticmethod
    def _reference(conversation: dict[str, Any]) -> ConversationReference:
        return ConversationReference().deserialize(conversation)
