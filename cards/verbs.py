"""The verbs of the cards' buttons and the keys of their data: the contract with the bot's router.

:class:`Verb` is the one list of verb names. The bot reads each verb's data as its own payload
model (``bot.card_actions``: one discriminated union, the verb its discriminator) and routes an
``adaptiveCard/action`` invoke (or an ``Action.Submit`` fallback, whose data carries ``verb``) to
the one handler registered for the verb (``bot.teams_bot``); data keys are camelCase. A new verb:
add it here, give it a payload model in the union and a handler with what it needs.

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
``teardown_timing`` ``{"caseId", "timing": "before" | "after"}`` (when approved
                    access items run, relative to the relationship's removal)
``show_transfer``   ``{"caseId", "transferId"}`` (the transfer's confirmation
                    card)
``accept_transfer`` ``{"caseId", "transferId", "lines", "lineItems"?}``
                    (``lines``: a fingerprint of the line items shown, a
                    stale card accepts nothing; ``lineItems``: the accepted
                    line item ids; absent = all of them)
``reject_transfer`` ``{"caseId", "transferId"}``
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
    TEARDOWN_TIMING = "teardown_timing"
    SHOW_TRANSFER = "show_transfer"
    ACCEPT_TRANSFER = "accept_transfer"
    REJECT_TRANSFER = "reject_transfer"


class CardDecision(StrEnum):
    """The ``decision`` of a ``decide`` button."""

    APPROVE = "approve"
    SKIP = "skip"
