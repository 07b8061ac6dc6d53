"""Waiting cases, re-checked on a schedule (and at start, and when Partner Center says so).

A case waits for what the bot cannot do: a new-commerce term to end, a reservation cancelled by
hand. Every interval each instance goes through the open cases (an index, not a scan of all
cases); for each waiting case whose lease it gets it reads Partner Center afresh
(:meth:`RemovalWorkflow.recheck`: when nothing blocks any more the final confirmation is offered
and the team notified), and reminds the team once per subscription a set number of days before
its term ends. The lease keeps two instances from re-checking the same case at once.

The same sweep looks at the cases waiting for people (approvals, or the final confirmation of a
case that is ready): one left there ``decision_reminder`` long is reminded about once (channels
and requester); still there ``escalation`` later, it is escalated once to the approvers. What was
sent is written on the case in the same ETag-checked update that decides to send it
(:attr:`RemovalCase.nudged`), so it is sent once whatever the instances and restarts (at most
once: an instance that dies between the write and the send does not send it); a case that
moves on and comes back to wait again is reminded about again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from .case import CaseItem, CaseState, RemovalCase
from .lease import Leases, LeaseTaken
from .notifications import CaseNotifications
from .store import CaseStore, Unchanged
from .workflow import RemovalWorkflow

__all__ = ("WAITING_FOR_PEOPLE", "WaitingCases")

_log = logging.getLogger(__name__)

# The states in which a case waits for a person's click, and is reminded about, then escalated.
WAITING_FOR_PEOPLE = frozenset({CaseState.AWAITING_APPROVAL, CaseState.READY})


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
        decision_reminder_hours: float = 24.0,
        escalation_hours: float = 48.0,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._leases = leases
        self._notifications = notifications
        self._clock = clock
        self._reminder = timedelta(days=reminder_days)
        self._decision_reminder = timedelta(hours=decision_reminder_hours)
        self._escalation = timedelta(hours=escalation_hours)

    async def check_all(self) -> int:
        """Re-check every waiting case nobody else is checking, and remind about (or escalate)
        cases waiting for people; how many waiting cases were checked."""
        checked = 0
        for case in await self._store.open_cases():
            if case.state is CaseState.WAITING and await self.check(case.id):
                checked += 1
            elif case.state in WAITING_FOR_PEOPLE:
                await self.nudge(case.id)
        return checked

    async def nudge(self, case_id: str) -> str:
        """Remind about, or escalate, one case waiting for people if it is time; what was sent
        ("reminder", "escalation", or "" for nothing).

        A case whose state has no known start (moved by code that did not say when, or stored
        before that was kept) starts counting now.
        """
        now = self._clock()

        def mark(current: RemovalCase) -> str:
            if current.state not in WAITING_FOR_PEOPLE:
                raise Unchanged("")
            if current.state_since is None:
                current.state_since = now
                return ""
            due = _due_nudge(current, now, self._decision_reminder, self._escalation)
            if not due:
                raise Unchanged("")
            current.nudged.append(_nudge_key(due, current))
            return due

        try:
            case, sent = await self._store.update(case_id, mark)
            if sent and self._notifications is not None:  # written by us: send (once, whatever instance runs)
                if sent == "reminder":
                    await self._notifications.waiting_reminder(case)
                else:
                    await self._notifications.escalation(case)
            return sent
        except Exception:  # one case's trouble must not stop the others' reminders  # noqa: BLE001
            _log.exception("reminding about case %s failed", case_id)
            return ""

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
        except Exception:  # one case's trouble must not stop the others' checks  # noqa: BLE001
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


def _due_nudge(case: RemovalCase, now: datetime, reminder: timedelta, escalation: timedelta) -> str:
    """What the case's wait calls for now: "reminder", "escalation" (only after its reminder),
    or "" (not yet, or sent already)."""
    assert case.state_since is not None
    waited = now - case.state_since
    if _nudge_key("reminder", case) not in case.nudged:
        return "reminder" if waited >= reminder else ""
    if _nudge_key("escalation", case) not in case.nudged and waited >= reminder + escalation:
        return "escalation"
    return ""


def _nudge_key(kind: str, case: RemovalCase) -> str:
    """One wait is one state since one time: a case that comes back to wait is a new wait."""
    assert case.state_since is not None
    return f"{kind}:{case.state.value}:{case.state_since.isoformat()}"


def _ends_within(item: CaseItem, now: datetime, window: timedelta) -> bool:
    return item.term_ends is not None and now <= item.term_ends <= now + window
