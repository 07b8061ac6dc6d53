"""What the team is told, outside the removal's own conversation, and when.

A removal that completes or fails, a waiting case that becomes ready, and a term end that comes
near are announced in the notification channels (a new thread each) and to the requester in a
1:1 chat, mentioning them. No botbuilder here: an :class:`Announcer` (the Teams edge) delivers.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Protocol

import cards

from .case import CaseItem, Person, RemovalCase

__all__ = ("Announcer", "CaseNotifications")

_log = logging.getLogger(__name__)


class Announcer(Protocol):
    async def announce(
        self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str
    ) -> int:
        """Deliver to the notification channels and 1:1 to ``requester``; how many were sent."""
        ...


class CaseNotifications:
    def __init__(self, announcer: Announcer, *, clock: Callable[[], datetime]) -> None:
        self._announcer = announcer
        self._clock = clock

    async def removed(self, case: RemovalCase) -> int:
        return await self._about(case, "removed")

    async def failed(self, case: RemovalCase) -> int:
        return await self._about(case, "failed")

    async def ready(self, case: RemovalCase) -> int:
        return await self._about(case, "ready")

    async def reminder(self, case: RemovalCase, items: list[CaseItem]) -> int:
        return await self._about(case, "reminder", items)

    async def _about(self, case: RemovalCase, kind: cards.NotificationKind, items: list[CaseItem] | None = None) -> int:
        card = cards.notification_card(kind, case, now=self._clock(), items=items, locale=case.locale)
        reference = case.conversation
        try:
            return await self._announcer.announce(
                card,
                text=cards.t(case.locale, "notify.mention"),
                requester=case.requested_by,
                tenant_id=str((reference.get("conversation") or {}).get("tenantId", "")),
                service_url=str(reference.get("serviceUrl", "")),
            )
        except Exception:  # a notification that cannot go out must not undo or stop the removal
            _log.exception("could not send the %s notification of case %s", kind, case.id)
            return 0
