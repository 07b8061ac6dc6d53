"""The card that shows where a case is now: what any click on an old card, on any instance, gets.

Rendering a case by its state alone (never by what the clicker's conversation remembers) is what
keeps every viewer, and every bot instance, showing the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from removal.case import CaseState, RemovalCase

from .cancelled import cancelled_card
from .confirm import confirmation_card
from .final import final_confirmation_card
from .paused import paused_card
from .result import removing_card, result_card
from .status import status_card
from .texts import DEFAULT_LOCALE
from .waiting import still_blocked_card

__all__ = ("case_card",)


def case_card(case: RemovalCase, *, now: datetime, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The next question while approvals are open; otherwise the card of the case's state."""
    if case.state is CaseState.AWAITING_APPROVAL and case.next_pending is not None:
        return confirmation_card(case, case.next_pending, now=now, locale=locale)
    if case.state is CaseState.READY:
        return final_confirmation_card(case, locale=locale)
    if case.state is CaseState.WAITING:
        return still_blocked_card(case, now=now, locale=locale)
    if case.state is CaseState.PAUSED:
        return paused_card(case, now=now, locale=locale)
    if case.state is CaseState.REMOVING:
        return removing_card(case, locale=locale)
    if case.state is CaseState.REMOVED:
        return result_card(case, locale=locale)
    if case.state is CaseState.CANCELLED:
        return cancelled_card(case, locale=locale)
    return status_card(case, now=now, locale=locale)
