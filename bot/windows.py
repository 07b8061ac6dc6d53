"""Cancellation and refund windows about to close, announced to the approvers once.

A periodic check over the open cases: an item of a case (a blocker still found at the last read)
whose earliest window — ``cancellationAllowedUntilDate``, a refund option's end, a seat tranche's
``allowedUntilDateTime`` (:func:`partner_center.money.closing_windows`) — closes within the warning
time (``OFFBOARD_WINDOW_WARN_HOURS``, default 48) is announced with the amount at stake (or that
Partner Center gives no price): in the notification channels, and 1:1 to each approver the bot
can reach. Once per item and window: the announcement is claimed on the case
(:attr:`RemovalCase.windows_announced`, ``window:<item key>:<window end>``) in the same
ETag-checked update that decides to send it, so two instances or a restart do not send it twice
(at most once: an instance that dies between the write and the send does not send it). A later
window of the same item (the next seat tranche) is a new window, announced in its turn.

"Now" is the bot's clock: on the sandbox, the sandbox's (moved by its operator API), as the
token health check reads it (bot/token_health.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from aiohttp import web

import cards
from partner_center.money import ClosingWindow, closing_windows
from removal import CaseItem, Outcome, RemovalCase
from removal.store import CaseStore, Unchanged

from .case_notices import PersonalChats, _service_url_of, _tenant_of
from .notifier import CardAnnouncer

__all__ = ("WINDOWS", "WindowAnnouncements", "window_key")

_log = logging.getLogger(__name__)


def window_key(entry: ClosingWindow) -> str:
    """What is kept on the case once a window was announced (one item, one window)."""
    item = cast(CaseItem, entry.item)  # (closing_windows hands back the items it was given)
    return f"window:{item.key}:{entry.window_end.isoformat()}"


class WindowAnnouncements:
    def __init__(
        self,
        store: CaseStore,
        announcer: CardAnnouncer,
        *,
        clock: Callable[[], datetime],
        warn: timedelta = timedelta(hours=48),
        personal_chats: PersonalChats | None = None,
        approvers: Sequence[str] = (),
        before_check: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """:param clock: the bot's clock (the sandbox's, on the sandbox).
        :param before_check: brings ``clock`` up to date first (a sandbox elsewhere, read over HTTP).
        :param approvers: their Entra object ids (each is told 1:1 where the bot can reach them)."""
        self._store = store
        self._announcer = announcer
        self._clock = clock
        self._warn = warn
        self._personal_chats = personal_chats
        self._approvers = tuple(approvers)
        self._before_check = before_check

    async def check_all(self) -> int:
        """Announce every window closing soon not announced yet; how many cases were announced."""
        if self._before_check is not None:
            await self._before_check()
        announced = 0
        for case in await self._store.open_cases():
            try:
                announced += await self.check(case)
            except Exception:  # one case's trouble must not keep the others' windows unannounced  # noqa: BLE001
                _log.exception("announcing the closing windows of case %s failed", case.id)
        return announced

    async def check(self, case: RemovalCase) -> int:
        """Announce ``case``'s windows closing soon, once each; 1 if something was announced."""
        now = self._clock()
        if not _closing(case, now, self._warn):
            return 0  # (read only: most cases have nothing closing, and are not written)

        def claim(current: RemovalCase) -> list[ClosingWindow]:
            closing = _closing(current, now, self._warn)
            if not closing:
                raise Unchanged([])  # announced by another instance meanwhile, or moved on
            current.windows_announced.extend(window_key(entry) for entry in closing)
            return closing

        stored, closing = await self._store.update(case.id, claim)
        if not closing:
            return 0
        await self._announce(stored, closing, now)
        return 1

    async def run_every(self, interval: float) -> None:
        """Check now, then every ``interval`` seconds, whatever one check does."""
        while True:
            try:
                await self.check_all()
            except Exception:  # storage or Teams briefly unreachable: the next tick tries again  # noqa: BLE001
                _log.exception("window announcements failed; trying again in %s s", interval)
            await asyncio.sleep(interval)

    async def _announce(self, case: RemovalCase, closing: list[ClosingWindow], now: datetime) -> None:
        card = cards.window_closing_card(case, closing, now=now, locale=case.locale)
        tenant_id = _tenant_of(case)
        try:
            await self._announcer.announce(card, text="", requester=None, tenant_id=tenant_id, service_url=_service_url_of(case))
        except Exception:  # the approvers 1:1 are still worth telling  # noqa: BLE001
            _log.exception("could not announce the closing windows of case %s in the channels", case.id)
        for object_id in self._approvers:
            await self._to_approver(tenant_id, object_id, card, case)

    async def _to_approver(self, tenant_id: str, object_id: str, card: dict[str, Any], case: RemovalCase) -> None:
        if self._personal_chats is None:
            return
        try:
            await self._personal_chats.send(tenant_id, object_id, card)
        except Exception:  # one approver's chat must not keep the others from theirs  # noqa: BLE001
            _log.exception("could not tell approver %s about the closing windows of case %s", object_id, case.id)


def _closing(case: RemovalCase, now: datetime, warn: timedelta) -> list[ClosingWindow]:
    """The case's items whose window closes within ``warn`` and was not announced yet: blockers
    still found at the last read and not carried out (a cancelled subscription's window matters
    no more)."""
    if not case.is_open:
        return []
    items = [item for item in case.blocker_items if not item.cleared and item.money is not None and item.outcome is not Outcome.DONE]
    return [
        entry for entry in closing_windows(items, now, warn) if entry.window_end > now and window_key(entry) not in case.windows_announced
    ]


# Where the app keeps its announcements (tests and /healthz-like callers reach it there).
WINDOWS = web.AppKey("windows", WindowAnnouncements)
