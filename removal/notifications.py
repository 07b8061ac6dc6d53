"""What the team is told, outside the removal's own conversation, and when.

A removal that completes or fails, is cancelled (with what was already done, which stays), has
items Partner Center refused, needs a person, becomes ready, or waits for people too long, and
a term end that comes near, are announced in the notification channels (a new thread each) and
to the requester in a 1:1 chat, mentioning them. A case still waiting after its reminder is
escalated: the channels are told which approvers are asked, and each approver the bot has a
personal chat with gets it 1:1. No botbuilder here: an :class:`Announcer` and
:class:`PersonalChats` (the Teams edge) deliver.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Callable, Protocol

import cards

from .case import CaseItem, Person, RemovalCase

__all__ = ("Announcer", "CaseNotifications", "PersonalChats")

_log = logging.getLogger(__name__)


class Announcer(Protocol):
    async def announce(
        self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str
    ) -> int:
        """Deliver to the notification channels and 1:1 to ``requester``; how many were sent."""
        ...


class PersonalChats(Protocol):
    """The people the bot has a personal (1:1) chat with, found by Entra object id."""

    async def name_of(self, tenant_id: str, object_id: str) -> str:
        """Their Teams display name, '' when the bot has never talked with them."""
        ...

    async def send(self, tenant_id: str, object_id: str, card: dict[str, Any]) -> bool:
        """Post ``card`` in their personal chat; False when there is none (or it is gone)."""
        ...


class CaseNotifications:
    def __init__(
        self,
        announcer: Announcer,
        *,
        clock: Callable[[], datetime],
        personal_chats: PersonalChats | None = None,
        approvers: Sequence[str] = (),
    ) -> None:
        """``approvers``: their Entra object ids (escalations name them and reach them 1:1)."""
        self._announcer = announcer
        self._clock = clock
        self._personal_chats = personal_chats
        self._approvers = tuple(approvers)

    async def removed(self, case: RemovalCase) -> int:
        return await self._about(case, "removed")

    async def failed(self, case: RemovalCase) -> int:
        return await self._about(case, "failed")

    async def ready(self, case: RemovalCase) -> int:
        return await self._about(case, "ready")

    async def reminder(self, case: RemovalCase, items: list[CaseItem]) -> int:
        return await self._about(case, "reminder", items)

    async def cancelled(self, case: RemovalCase) -> int:
        """The case was cancelled: what Partner Center already carried out stays as it is, and
        the card lists it (a customer may be left half-offboarded: someone must know)."""
        return await self._about(case, "cancelled", case.done)

    async def items_failed(self, case: RemovalCase, items: list[CaseItem]) -> int:
        """Partner Center refused or failed ``items`` (with each one's error)."""
        return await self._about(case, "items_failed", items)

    async def needs_person(self, case: RemovalCase) -> int:
        """The bot gave up on the case (its :attr:`RemovalCase.error` says why)."""
        return await self._about(case, "needs_person")

    async def waiting_reminder(self, case: RemovalCase) -> int:
        """The case has waited for approvals, or for the final confirmation, for long."""
        return await self._about(case, "waiting_reminder")

    async def escalation(self, case: RemovalCase) -> int:
        """Still waiting after the reminder: the channels are told which approvers are asked, and
        each approver with a personal chat gets the card 1:1 (in the case's language)."""
        tenant_id = _tenant_of(case)
        try:
            names = [await self._approver_name(tenant_id, object_id) for object_id in self._approvers]
            card = cards.notification_card("escalation", case, now=self._clock(), approvers=names, locale=case.locale)
            sent = await self._announcer.announce(
                card, text="", requester=None, tenant_id=tenant_id, service_url=_service_url_of(case)
            )
        except Exception:  # as in _about: a message never stops anything
            _log.exception("could not send the escalation of case %s", case.id)
            return 0
        for object_id in self._approvers:
            sent += await self._to_approver(tenant_id, object_id, card, case)
        return sent

    async def _approver_name(self, tenant_id: str, object_id: str) -> str:
        name = await self._personal_chats.name_of(tenant_id, object_id) if self._personal_chats else ""
        return name or object_id  # never met: the object id still says who to ask

    async def _to_approver(self, tenant_id: str, object_id: str, card: dict[str, Any], case: RemovalCase) -> int:
        if self._personal_chats is None:
            return 0
        try:
            return int(await self._personal_chats.send(tenant_id, object_id, card))
        except Exception:  # one approver's chat must not keep the others from theirs
            _log.exception("could not send the escalation of case %s to approver %s", case.id, object_id)
            return 0

    async def _about(self, case: RemovalCase, kind: cards.NotificationKind, items: list[CaseItem] | None = None) -> int:
        try:
            card = cards.notification_card(kind, case, now=self._clock(), items=items, locale=case.locale)
            return await self._announcer.announce(
                card,
                text=cards.t(case.locale, "notify.mention"),
                requester=case.requested_by,
                tenant_id=_tenant_of(case),
                service_url=_service_url_of(case),
            )
        except Exception:  # a notification that cannot go out must not undo or stop the removal
            _log.exception("could not send the %s notification of case %s", kind, case.id)
            return 0


def _tenant_of(case: RemovalCase) -> str:
    """The Teams tenant the case was asked in (its 1:1 chats are in that tenant)."""
    return str((case.conversation.get("conversation") or {}).get("tenantId", ""))


def _service_url_of(case: RemovalCase) -> str:
    return str(case.conversation.get("serviceUrl", ""))
