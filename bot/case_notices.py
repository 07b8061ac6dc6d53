"""The :class:`removal.notifications.Announcer` for Teams: the notification card of each
:class:`~removal.notifications.Notice`, in the case's language, to the notification channels and
the requester (mentioned), through a :class:`~bot.notifier.CardAnnouncer`.

An escalation names the approvers (by their Teams name when the bot has a personal chat with
them, else by Entra object id) and goes to each approver it can reach 1:1 as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import cards
from removal import CaseItem, RemovalCase
from removal.notifications import Notice

from .case_messages import CaseMessageBook
from .notifier import CardAnnouncer

__all__ = ("PersonalChats", "TeamsCaseNotices")

_log = logging.getLogger(__name__)


class PersonalChats(Protocol):
    """The people the bot has a personal (1:1) chat with, found by Entra object id."""

    async def name_of(self, tenant_id: str, object_id: str) -> str:
        """Their Teams display name, '' when the bot has never talked with them."""
        ...

    async def send(self, tenant_id: str, object_id: str, card: dict[str, Any]) -> bool:
        """Post ``card`` in their personal chat; False when there is none (or it is gone)."""
        ...


class TeamsCaseNotices:
    def __init__(
        self,
        announcer: CardAnnouncer,
        *,
        clock: Callable[[], datetime],
        messages: CaseMessageBook | None = None,
        personal_chats: PersonalChats | None = None,
        approvers: Sequence[str] = (),
    ) -> None:
        """:param messages: where the case's plan message is found ("Open the removal" links
            to it); None: the link opens the message the removal was asked in.
        :param approvers: their Entra object ids (escalations name them and reach them 1:1)."""
        self._announcer = announcer
        self._clock = clock
        self._messages = messages
        self._personal_chats = personal_chats
        self._approvers = tuple(approvers)

    async def announce(self, notice: Notice, case: RemovalCase, items: Sequence[CaseItem] = ()) -> int:
        if notice is Notice.ESCALATION:
            return await self._escalate(case)
        card = await self._card(notice, case, items=items)
        return await self._announcer.announce(
            card,
            text=cards.t(case.locale, "notify.mention"),
            requester=case.requested_by,
            tenant_id=_tenant_of(case),
            service_url=_service_url_of(case),
        )

    async def _escalate(self, case: RemovalCase) -> int:
        """The channels are told which approvers are asked, and each approver with a personal
        chat gets the card 1:1 (in the case's language)."""
        tenant_id = _tenant_of(case)
        names = [await self._approver_name(tenant_id, object_id) for object_id in self._approvers]
        card = await self._card(Notice.ESCALATION, case, approvers=names)
        sent = await self._announcer.announce(card, text="", requester=None, tenant_id=tenant_id, service_url=_service_url_of(case))
        for object_id in self._approvers:
            sent += await self._to_approver(tenant_id, object_id, card, case)
        return sent

    async def _card(
        self, notice: Notice, case: RemovalCase, *, items: Sequence[CaseItem] = (), approvers: Sequence[str] = ()
    ) -> dict[str, Any]:
        plan = (await self._messages.get(case.id)).plan if self._messages is not None else ""
        return cards.notification_card(
            notice.value,  # the same names, one per notice
            case,
            now=self._clock(),
            items=list(items) or None,
            approvers=approvers,
            plan_message_id=plan,
            locale=case.locale,
        )

    async def _approver_name(self, tenant_id: str, object_id: str) -> str:
        name = await self._personal_chats.name_of(tenant_id, object_id) if self._personal_chats else ""
        return name or object_id  # never met: the object id still says who to ask

    async def _to_approver(self, tenant_id: str, object_id: str, card: dict[str, Any], case: RemovalCase) -> int:
        if self._personal_chats is None:
            return 0
        try:
            return int(await self._personal_chats.send(tenant_id, object_id, card))
        except Exception:  # one approver's chat must not keep the others from theirs  # noqa: BLE001
            _log.exception("could not send the escalation of case %s to approver %s", case.id, object_id)
            return 0


def _tenant_of(case: RemovalCase) -> str:
    """The Teams tenant the case was asked in (its 1:1 chats are in that tenant)."""
    return str((case.conversation.get("conversation") or {}).get("tenantId", ""))


def _service_url_of(case: RemovalCase) -> str:
    return str(case.conversation.get("serviceUrl", ""))
