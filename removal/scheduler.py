"""Waiting cases, re-checked on a schedule (and at start, and when Partner Center says so).

A case waits for what the bot cannot do: a new-commerce term to end, a reservation cancelled by
hand. Every interval each instance goes through the open cases (an index, not a scan of all
cases); for each waiting case whose lease it gets it reads Partner Center afresh
(:meth:`RemovalWorkflow.recheck`: when nothing blocks any more the final confirmation is offered
and the team notified), and reminds the team once per subscription a set number of days before
its term ends. The lease keeps two instances from re-checking the same case at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from .case import CaseItem, CaseState, RemovalCase
from .lease import Leases, LeaseTaken
from .notifications import CaseNotifications
from .store import CaseStore, Unchanged
from .workflow import RemovalWorkflow

__all__ = ("WaitingCases",)

_log = logging.getLogger(__name__)


class WaitingCases:
    def __init__(
        self,
        *,
        store: CaseStore,
        workflow: RemovalWorkflow,
        leases: Leases,
        notifications: CaseNotifications | None,
        clock: Callable[[], datetime],
        reminder_days: int = 7,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._leases = leases
        self._notifications = notifications
        self._clock = clock
        self._reminder = timedelta(days=reminder_days)

    async def check_all(self) -> int:
        """Re-check every waiting case nobody else is checking; how many were checked."""
        checked = 0
        for case in await self._store.open_cases():
            if case.state is CaseState.WAITING and await self.check(case.id):
                checked += 1
        return checked

    async def check(self, case_id: str) -> bool:
        """Re-check one waiting case now (also what a Partner Center event triggers)."""
        try:
            async with self._leases.hold(case_id):
                case = await self._store.get(case_id)
                if case is None or case.state is not CaseState.WAITING:
                    return False
                case = await self._workflow.recheck(case_id)
                if case.state is CaseState.WAITING:
                    await self._remind(case)
                return True
        except LeaseTaken:
            return False  # another instance is on it
        except Exception:  # one case's trouble must not stop the others' checks
            _log.exception("re-checking case %s failed", case_id)
            return False

    async def _remind(self, case: RemovalCase) -> None:
        now = self._clock()
        due = [item for item in case.still_blocking if _ends_within(item, now, self._reminder) and item.key not in case.reminded]
        if not due or self._notifications is None:
            return

        def mark(current: RemovalCase) -> bool:
            fresh = [item.key for item in due if item.key not in current.reminded]
            if not fresh:
                raise Unchanged(False)  # another instance reminded meanwhile
            current.reminded.extend(fresh)
            return True

        _, marked = await self._store.update(case.id, mark)
        if marked:  # written by us: send (once per item, whatever instance runs)
            await self._notifications.reminder(case, due)


def _ends_within(item: CaseItem, now: datetime, window: timedelta) -> bool:
    return item.term_ends is not None and now <= item.term_ends <= now + window
