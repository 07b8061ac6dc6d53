"""How the workflow talks to a case's conversation, without botbuilder.

The Teams edge (:class:`bot.messenger.AdapterMessenger`) implements :class:`Messenger`. When
Teams says the bot is no longer in the conversation (removed from the team, app uninstalled),
it raises :class:`ConversationGone`: the workflow records that on the case and from then on
tells the notification channels and the requester instead (see README, "Notifications").
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ("ConversationGone", "Messenger")


class ConversationGone(Exception):
    """The bot can no longer post in that conversation (Teams: 403 ``BotNotInConversationRoster``
    or 404 ``ConversationNotFound``); nothing sent there will arrive again."""


class Messenger(Protocol):
    """Posts and updates cards in a conversation, outside of a turn.

    :raises ConversationGone: the bot is no longer in the conversation.
    """

    async def post(self, conversation: dict[str, Any], card: dict[str, Any]) -> str: ...

    async def update(self, conversation: dict[str, Any], activity_id: str, card: dict[str, Any]) -> None: ...
