"""One turn as the dialogs see it: typed values the Teams edge read from the activity.

The edge reads the activity once (:mod:`bot.activity`) and hands the dialogs a frozen
:class:`Turn`: who acts, in which language, in which conversation, and, for a click on the
customer choice, the :class:`CustomerChoice`. botbuilder's dialogs reach it through the turn
context (:meth:`Turn.of`), the one place a dialog step can be handed anything.

A click that arrives as an Action.Execute invoke is answered once, with a card that replaces
the clicked one: :meth:`Reply.show` keeps the first card shown for that answer and posts any
later one as a new message (typed commands and Action.Submit clicks always get new messages).
The edge writes the invoke response from :attr:`Reply.card`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from removal import Person

__all__ = ("CustomerChoice", "Reply", "Turn", "post")


async def post(turn_context: TurnContext, card: dict[str, Any]) -> str:
    """Post ``card`` as a new message; its id ("" when the channel gives none)."""
    response = await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
    return response.id if response and response.id else ""


class Reply:
    """Where this turn's cards go: in place of the clicked card (once), else new messages."""

    __slots__ = ("_context", "_in_place", "card")

    def __init__(self, turn_context: TurnContext, *, in_place: bool) -> None:
        self._context = turn_context
        self._in_place = in_place
        # The card that answers the Action.Execute invoke; None until a step shows one.
        self.card: dict[str, Any] | None = None

    async def post(self, card: dict[str, Any]) -> str:
        return await post(self._context, card)

    async def show(self, card: dict[str, Any]) -> str:
        """Show ``card`` in place of the clicked card if possible, else as a new message; its id."""
        if self._in_place and self.card is None:
            self.card = card
            return self._context.activity.reply_to_id or ""
        return await post(self._context, card)


@dataclass(slots=True)
class CustomerChoice:
    """A click on the customer choice, and what the waiting prompt made of it."""

    customer_id: str
    taken: bool = False  # the prompt took it: the removal goes on with this customer
    refused_for: Person | None = None  # the prompt waits for this person, not the clicker


@dataclass(frozen=True, slots=True)
class Turn:
    """What the Teams edge read from this turn's activity.

    Attributes:
        person: who acts (from the authenticated activity, never from a card's data).
        locale: the language the person reads.
        conversation_id: the conversation the turn happens in.
        reference: where to post later (a serialized ``ConversationReference``).
        reply: where this turn's cards go.
        choice: the customer choice this turn's click carries, if it does.
    """

    person: Person
    locale: str
    conversation_id: str
    reference: dict[str, Any]
    reply: Reply
    choice: CustomerChoice | None = None

    @staticmethod
    def of(turn_context: TurnContext) -> Turn:
        """The turn the edge handed to the dialogs with :meth:`hand_to`."""
        turn = turn_context.turn_state.get(Turn)
        if not isinstance(turn, Turn):
            raise LookupError("the Teams edge did not hand this turn to the dialogs")
        return turn

    def hand_to(self, turn_context: TurnContext) -> None:
        turn_context.turn_state[Turn] = self
