"""The :class:`removal.display.CaseDisplay` for Teams: which card shows what happened to a case,
and whether it is a new message or an update of one the case already has.

The messages a case is shown in are the edge's own record (:class:`~bot.case_messages.CaseMessageBook`):

- the plan message is redrawn on every change of state;
- the carrying out is shown by updating its status message;
- the final confirmation becomes "removing…", then the result (or what failed, or what blocks now);
- questions, pauses, resumptions and failures of a re-check are new messages.

Nothing here raises but :class:`~removal.messaging.ConversationGone`, once, at the end of the
verb that found the conversation gone (Teams 403 ``BotNotInConversationRoster``/404
``ConversationNotFound``), after what people must see or act on (the final confirmation, new
questions, what blocks, the result) went to the notification channels and the requester 1:1
instead. Progress, pause and plan updates are not sent there: they would flood the channels, and
the end of the case is announced anyway.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import cards
from cards.result import removal_unclear_card
from partner_center.errors import PartnerCenterError, RemovalUnclearError
from removal import CaseState, RemovalCase
from removal.messaging import ConversationGone
from removal.store import CaseStore

from .case_messages import CaseMessageBook
from .messenger import Messenger
from .notifier import CardAnnouncer

__all__ = ("TeamsCaseDisplay",)

_log = logging.getLogger(__name__)


class TeamsCaseDisplay:
    def __init__(
        self,
        messenger: Messenger,
        messages: CaseMessageBook,
        *,
        cases: CaseStore,
        clock: Callable[[], datetime],
        announcer: CardAnnouncer | None = None,
    ) -> None:
        """:param announcer: where a case's cards go once its conversation is gone (the
        notification channels and the requester 1:1); None: they are only logged."""
        self._messenger = messenger
        self._messages = messages
        self._cases = cases
        self._clock = clock
        self._announcer = announcer

    async def progress(self, case: RemovalCase) -> None:
        async with self._in(case) as teams:
            await self._progress(teams)

    async def plan_changed(self, case: RemovalCase) -> None:
        plan = (await self._messages.get(case.id)).plan
        if plan:
            async with self._in(case) as teams:
                await teams.update(plan, cards.plan_card(case, now=self._clock(), locale=case.locale))

    async def next_step(self, case: RemovalCase, *, moved: bool) -> None:
        async with self._in(case) as teams:
            await self._ask(teams, reroute=moved)

    async def refused(self, case: RemovalCase) -> None:
        async with self._in(case) as teams:
            card = cards.still_blocked_card(case, now=self._clock(), locale=case.locale, changed=True)
            await teams.update_final((await self._messages.get(case.id)).final, card, reroute=True)
            if case.state is CaseState.AWAITING_APPROVAL:
                await self._ask(teams, reroute=True)

    async def removed(self, case: RemovalCase) -> None:
        # Re-routed if the conversation is gone: the result card has the link to re-establish.
        async with self._in(case) as teams:
            await teams.update_final((await self._messages.get(case.id)).final, cards.result_card(case, locale=case.locale), reroute=True)

    async def removal_failed(self, case: RemovalCase, error: PartnerCenterError) -> None:
        if isinstance(error, RemovalUnclearError):
            card = removal_unclear_card(case, locale=case.locale)
        else:
            card = cards.partner_center_error_card(error, locale=case.locale)
        # Not re-routed if the conversation is gone: the "failed" notification says it.
        async with self._in(case) as teams:
            await teams.update_final((await self._messages.get(case.id)).final, card, reroute=False)

    async def failed(self, case: RemovalCase, error: PartnerCenterError) -> None:
        # Not re-routed if the conversation is gone: the "failed" notification says it.
        async with self._in(case) as teams:
            await teams.post(cards.partner_center_error_card(error, locale=case.locale), reroute=False)

    async def paused(self, case: RemovalCase) -> None:
        card = cards.paused_card(case, now=self._clock(), locale=case.locale)
        async with self._in(case) as teams:
            if case.pause is not None and case.pause.resume_to is CaseState.REMOVING:
                await teams.update_final((await self._messages.get(case.id)).final, card, reroute=False)  # the "removing…" card
            else:
                await teams.post(card, reroute=False)
                await self._progress(teams)

    async def resumed(self, case: RemovalCase) -> None:
        async with self._in(case) as teams:
            await teams.post(cards.resumed_card(case, locale=case.locale), reroute=False)
            if case.state is CaseState.REMOVING:
                final = (await self._messages.get(case.id)).final
                await teams.update_final(final, cards.removing_card(case, locale=case.locale), reroute=False)
            else:
                await self._progress(teams)

    async def needs_person(self, case: RemovalCase, *, was_removing: bool) -> None:
        async with self._in(case) as teams:
            await self._progress(teams)
            if was_removing:  # the "removing…" card says it too
                card = cards.status_card(case, now=self._clock(), locale=case.locale)
                await teams.update_final((await self._messages.get(case.id)).final, card, reroute=False)

    # ---- Inside ----

    async def _progress(self, teams: _Conversation) -> None:
        case = teams.case
        status = (await self._messages.get(case.id)).status
        if status:
            await teams.update(status, cards.status_card(case, now=self._clock(), locale=case.locale))

    async def _ask(self, teams: _Conversation, *, reroute: bool) -> None:
        """Post the case's current card as a new message and note it as the case's next step."""
        case = teams.case
        message_id = await teams.post(cards.case_card(case, now=self._clock(), locale=case.locale), reroute=reroute)
        await self._messages.step_shown(case, message_id, state_now=lambda: self._cases.state_of(case.id))

    @asynccontextmanager
    async def _in(self, case: RemovalCase) -> AsyncIterator[_Conversation]:
        teams = _Conversation(case, self._messenger, self._announcer)
        try:
            yield teams
        except Exception:
            if not teams.found_gone:
                raise
            # Teams said the conversation is gone: that must reach the case whatever failed after.
            _log.exception("case %s: failed after finding its conversation gone", case.id)
        if teams.found_gone:
            raise ConversationGone(f"case {case.id}: the bot is no longer in its conversation")


class _Conversation:
    """The case's conversation for the length of one verb: once found gone, nothing more is
    sent there, and what is re-routed goes to the announcer."""

    def __init__(self, case: RemovalCase, messenger: Messenger, announcer: CardAnnouncer | None) -> None:
        self.case = case
        self.found_gone = False
        self._messenger = messenger
        self._announcer = announcer

    @property
    def gone(self) -> bool:
        return self.found_gone or self.case.conversation_gone_at is not None

    async def post(self, card: dict[str, Any], *, reroute: bool) -> str:
        """Post ``card``; the new message's id, or "" if it was not posted there. If the
        conversation is gone and ``reroute``, the notification channels and the requester get
        it instead."""
        if not self.gone:
            try:
                return await self._messenger.post(self.case.conversation, card)
            except ConversationGone:
                self.found_gone = True
            except Exception:  # Teams unreachable, throttled for too long…: the state stands  # noqa: BLE001
                _log.exception("could not post in the conversation of case %s", self.case.id)
                return ""
        if reroute:
            await self._announce(card)
        return ""

    async def update(self, message_id: str, card: dict[str, Any]) -> None:
        """Update a message of the case's conversation (nothing if gone)."""
        if not message_id or self.gone:
            return
        try:
            await self._messenger.update(self.case.conversation, message_id, card)
        except ConversationGone:
            self.found_gone = True
        except Exception:  # noqa: BLE001
            _log.exception("could not update message %s of case %s", message_id, self.case.id)

    async def update_final(self, final_id: str, card: dict[str, Any], *, reroute: bool) -> None:
        """The final card (confirmation, "removing…", result) becomes ``card``."""
        if not final_id:
            await self.post(card, reroute=reroute)
            return
        await self.update(final_id, card)
        if self.gone and reroute:
            await self._announce(card)

    async def _announce(self, card: dict[str, Any]) -> None:
        """To the notification channels and the requester 1:1, in place of the gone conversation."""
        case = self.case
        if self._announcer is None:
            _log.warning("case %s: its conversation is gone and no announcer is configured: a card is lost", case.id)
            return
        reference = case.conversation
        try:
            await self._announcer.announce(
                card,
                text=cards.t(case.locale, "notify.conversation_gone"),
                requester=case.requested_by,
                tenant_id=str((reference.get("conversation") or {}).get("tenantId", "")),
                service_url=str(reference.get("serviceUrl", "")),
            )
        except Exception:  # the state is saved; the sweep's announcements come from it  # noqa: BLE001
            _log.exception("could not announce a card of case %s", case.id)
