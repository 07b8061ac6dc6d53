"""How the workflow says what happened to a case, in the conversation the case was asked in.

The workflow stores every change first, then tells a :class:`CaseDisplay` about it, in domain
words: the carrying out moved on, the plan changed, here is the next step, the removal was
refused, done, failed… The Teams edge (``bot.case_display``) implements it: it chooses the card,
decides whether to post a new message or update one, and keeps its own record of which Teams
message shows what. Nothing here knows a card or a message id.

Every verb is called with the case as stored after the change, and never raises but for
:class:`~removal.messaging.ConversationGone`: Teams said the bot is no longer in the case's
conversation. The display has then already shown what people must see or act on elsewhere (the
notification channels and the requester); the workflow records it on the case
(:attr:`RemovalCase.conversation_gone_at`), and the display reads it there from then on.
"""

from __future__ import annotations

from typing import Protocol

from partner_center.errors import PartnerCenterError

from .case import RemovalCase

__all__ = ("CaseDisplay",)


class CaseDisplay(Protocol):
    async def progress(self, case: RemovalCase) -> None:
        """The carrying out moved on, ended, or was stopped (the progress shown is brought up to
        date; nothing is said if the case has none)."""
        ...

    async def plan_changed(self, case: RemovalCase) -> None:
        """The case's state changed: the plan, which shows it, is brought up to date."""
        ...

    async def next_step(self, case: RemovalCase, *, moved: bool) -> None:
        """Partner Center was read afresh: what comes next (a question, the final confirmation,
        what the case waits for) is shown. ``moved``: the state changed; only then is it worth
        showing elsewhere if the conversation is gone."""
        ...

    async def refused(self, case: RemovalCase) -> None:
        """The final confirmation was given, but Partner Center changed since: nothing was
        removed; what blocks now is shown, and asked about if someone must decide."""
        ...

    async def removed(self, case: RemovalCase) -> None:
        """The relationship is removed (the case has the link to re-establish it)."""
        ...

    async def removal_failed(self, case: RemovalCase, error: PartnerCenterError) -> None:
        """Partner Center refused the removal, or did not confirm it (the case's error reason
        says which)."""
        ...

    async def failed(self, case: RemovalCase, error: PartnerCenterError) -> None:
        """Partner Center refused to be read afresh: the case failed."""
        ...

    async def paused(self, case: RemovalCase) -> None:
        """Partner Center is not answering: the case waits to go on by itself."""
        ...

    async def resumed(self, case: RemovalCase) -> None:
        """Partner Center answers again: the case goes on where it was paused."""
        ...

    async def needs_person(self, case: RemovalCase, *, was_removing: bool) -> None:
        """The bot gave up on the case (its error says why); ``was_removing``: it gave up on
        the removal itself, whose own message must say so too."""
        ...
