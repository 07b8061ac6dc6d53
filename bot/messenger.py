"""Posting and updating cards outside a turn (proactive messages), through the adapter.

The conversation is the case's stored ConversationReference; ``continue_conversation`` opens a
turn on it with the bot's app id (CloudAdapter's argument order: reference, callback, app id).

When Teams answers that the bot is no longer there (403 ``BotNotInConversationRoster``, 404
``ConversationNotFound``: the notifier's classification, :class:`bot.notifier.Gone`), the
messenger raises :class:`removal.messaging.ConversationGone`, which the case display
(:mod:`bot.case_display`) and the workflow understand.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import ConversationReference

from removal.messaging import ConversationGone

# One reading of Teams' errors for every proactive send (the notifier's), not a second copy.
from .notifier import Gone, classify_teams_error

__all__ = ("AdapterMessenger", "Messenger", "card_activity")

_log = logging.getLogger(__name__)


class Messenger(Protocol):
    """Posts and updates cards in a conversation, outside of a turn.

    :raises ConversationGone: the bot is no longer in the conversation.
    """

    async def post(self, conversation: dict[str, Any], card: dict[str, Any]) -> str: ...

    async def update(self, conversation: dict[str, Any], activity_id: str, card: dict[str, Any]) -> None: ...


def card_activity(card: dict[str, Any]) -> Any:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


class AdapterMessenger:
    def __init__(self, adapter: BotAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id

    async def post(self, conversation: dict[str, Any], card: dict[str, Any]) -> str:
        """Post ``card``; the new message's id.

        :raises ConversationGone: the bot is no longer in the conversation.
        """
        posted: list[str] = []

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(card_activity(card))
            posted.append(response.id if response and response.id else "")

        await self._continue(conversation, send, what="post")
        return posted[0] if posted else ""

    async def update(self, conversation: dict[str, Any], activity_id: str, card: dict[str, Any]) -> None:
        """Replace message ``activity_id`` with ``card``. Any failure other than a gone
        conversation is logged, not raised: an update that fails must not stop the work it
        reports on.

        :raises ConversationGone: the bot is no longer in the conversation.
        """

        async def replace(turn_context: TurnContext) -> None:
            activity = card_activity(card)
            activity.id = activity_id
            await turn_context.update_activity(activity)

        try:
            await self._continue(conversation, replace, what=f"update {activity_id}")
        except ConversationGone:
            raise
        except Exception:  # see the docstring  # noqa: BLE001
            _log.exception("could not update message %s", activity_id)

    async def _continue(self, conversation: dict[str, Any], callback: Callable[[TurnContext], Awaitable[None]], *, what: str) -> None:
        try:
            await self._adapter.continue_conversation(self._reference(conversation), callback, self._app_id)
        except Exception as error:  # botbuilder raises msrest errors carrying Teams' answer
            if isinstance(classify_teams_error(error, what), Gone):
                raise ConversationGone(f"{what}: the bot is no longer in the conversation") from error
            raise

    @staticmethod
    def _reference(conversation: dict[str, Any]) -> ConversationReference:
        return ConversationReference().deserialize(conversation)
