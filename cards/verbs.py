"""The verbs of the cards' buttons and the keys of their data: the contract with the bot's router.

The bot routes an ``adaptiveCard/action`` invoke (or an ``Action.Submit`` fallback, whose data
carries ``verb``) by these verbs; data keys are camelCase.

=================== ==========================================================
verb                data
=================== ==========================================================
``choose_customer`` ``{"customerId"}``
``plan_page``       ``{"caseId", "page"}`` (0-based page)
``decide``          ``{"caseId", "itemKey", "decision": "approve" | "skip"}``
``approve_all``     ``{"caseId"}``
``confirm_removal`` ``{"caseId"}``
``cancel_case``     ``{"caseId"}``
``status_page``     ``{"caseId", "page"}`` (0-based page)
=================== ==========================================================
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ("CardDecision", "Verb")


class Verb(StrEnum):
    CHOOSE_CUSTOMER = "choose_customer"
    PLAN_PAGE = "plan_page"
    DECIDE = "decide"
    APPROVE_ALL = "approve_all"
    CONFIRM_REMOVAL = "confirm_removal"
    CANCEL_CASE = "cancel_case"
    STATUS_PAGE = "status_page"


class CardDecision(StrEnum):
    """The ``decision`` of a ``decide`` button."""

    APPROVE = "approve"
    SKIP = "skip"
