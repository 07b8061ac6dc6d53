"""What the team is told, outside the removal's own conversation, and when.

A removal that completes or fails, is cancelled (with what was already done, which stays), has
items Partner Center refused, needs a person, becomes ready, or waits for people too long, and
a term end that comes near, are announced: each is a :class:`Notice` about a case. An
:class:`Announcer` (the Teams edge, ``bot.case_notices``) chooses how it is shown and where: the
notification channels (a new thread each) and the requester in a 1:1 chat, mentioning them; for
an escalation, the approvers it can reach 1:1 as well. No cards and no botbuilder here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from .case import CaseItem, RemovalCase

__all__ = ("Announcer", "CaseNotifications", "Notice")

_log = logging.getLogger(__name__)


class Notice(StrEnum):
    """What a case's announcement is about."""

    CANCELLED = "cancelled"  # with what was already carried out (it stays)
    ESCALATION = "escalation"  # still waiting after the reminder: the approvers are asked
    FAILED = "failed"
    ITEMS_FAILED = "items_failed"  # Partner Center refused or failed these items
    NEEDS_PERSON = "needs_person"  # the bot gave up (the case's error says why)
    READY = "ready"  # nothing blocks: the final confirmation waits
    REMINDER = "reminder"  # these items' terms end soon
    REMOVED = "removed"
    WAITING_REMINDER = "waiting_reminder"  # waited for approvals, or the final confirmation, long


class Announcer(Protocol):
    async def announce(self, notice: Notice, case: RemovalCase, items: Sequence[CaseItem] = ()) -> int:
        """Tell the team ``notice`` about ``case`` (``items``: the ones it is about, if any);
        how many messages were sent."""
        ...


class CaseNotifications:
    """The removal's announcements, one method per occasion. None of them raises: a notice that
    cannot go out must not undo or stop the removal (it is logged, and 0 is returned)."""

    def __init__(self, announcer: Announcer) -> None:
        self._announcer = announcer

    async def removed(self, case: RemovalCase) -> int:
        return await self._about(Notice.REMOVED, case)

    async def failed(self, case: RemovalCase) -> int:
        return await self._about(Notice.FAILED, case)

    async def ready(self, case: RemovalCase) -> int:
        return await self._about(Notice.READY, case)

    async def reminder(self, case: RemovalCase, items: Sequence[CaseItem]) -> int:
        return await self._about(Notice.REMINDER, case, items)

    async def cancelled(self, case: RemovalCase) -> int:
        """The case was cancelled: what Partner Center already carried out stays as it is, and
        is listed (a customer may be left half-offboarded: someone must know)."""
        return await self._about(Notice.CANCELLED, case, case.done)

    async def items_failed(self, case: RemovalCase, items: Sequence[CaseItem]) -> int:
        """Partner Center refused or failed ``items`` (with each one's error)."""
        return await self._about(Notice.ITEMS_FAILED, case, items)

    async def needs_person(self, case: RemovalCase) -> int:
        """The bot gave up on the case (its :attr:`RemovalCase.error` says why)."""
        return await self._about(Notice.NEEDS_PERSON, case)

    async def waiting_reminder(self, case: RemovalCase) -> int:
        """The case has waited for approvals, or for the final confirmation, for long."""
        return await self._about(Notice.WAITING_REMINDER, case)

    async def escalation(self, case: RemovalCase) -> int:
        """Still waiting after the reminder: the approvers are asked."""
        return await self._about(Notice.ESCALATION, case)

    async def _about(self, notice: Notice, case: RemovalCase, items: Sequence[CaseItem] = ()) -> int:
        try:
            return await self._announcer.announce(notice, case, items)
        except Exception:  # see the class docstring  # noqa: BLE001
            _log.exception("could not send the %s notification of case %s", notice.value, case.id)
            return 0
