"""What the domain hears back when a case's conversation is gone.

The Teams edge shows a case (:class:`removal.display.CaseDisplay`). When Teams says the bot is no
longer in the case's conversation (removed from the team, app uninstalled), the edge raises
:class:`ConversationGone`: the workflow records that on the case and from then on the edge shows
the case in the notification channels and to the requester instead (see README, "Notifications").
"""

from __future__ import annotations

__all__ = ("ConversationGone",)


class ConversationGone(Exception):
    """The bot can no longer post in that conversation (Teams: 403 ``BotNotInConversationRoster``
    or 404 ``ConversationNotFound``); nothing sent there will arrive again."""
