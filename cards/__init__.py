"""Adaptive Cards for Offboard: pure functions from a removal case to a card dict (schema 1.5).

No I/O, no settings, no botbuilder: the bot sends what these return. Every string comes from
the catalog in ``cards/texts.py``; every card function takes ``locale`` and, where it shows
relative dates, ``now``. Buttons carry the verbs of :class:`Verb`.
"""

from __future__ import annotations

from .adaptive import (
    CARD_CONTENT_TYPE,
    MAX_CARD_BYTES,
    SCHEMA_VERSION,
    action,
    adaptive_card,
    card_size_bytes,
    facts,
    literal,
    open_url,
    text,
)
from .cancelled import cancelled_card
from .choice import MAX_CHOICES, customer_choice_card
from .confirm import confirmation_card, decision_recorded_card
from .current import case_card
from .errors import error_card, partner_center_error_card
from .final import final_confirmation_card
from .format import format_date, format_datetime, format_time, relative_days
from .help import help_card
from .history import history_card
from .money import format_money
from .notification import NotificationKind, case_link, external_notification_card, half_offboarded_since, notification_card
from .paging import MAX_PAGE_SIZE
from .paused import paused_card, resumed_card
from .plan import plan_card
from .result import removing_card, result_card
from .status import item_progress, status_card
from .texts import DEFAULT_LOCALE, t
from .token_health import token_health_card
from .transfer import transfer_confirmation_card
from .verbs import CardDecision, Verb
from .waiting import blocking_reason, still_blocked_card
from .windows import window_closing_card
from .words import AZURE_RESERVATIONS_URL

__all__ = (
    "AZURE_RESERVATIONS_URL",
    "CARD_CONTENT_TYPE",
    "DEFAULT_LOCALE",
    "MAX_CARD_BYTES",
    "MAX_CHOICES",
    "MAX_PAGE_SIZE",
    "SCHEMA_VERSION",
    "CardDecision",
    "NotificationKind",
    "Verb",
    "action",
    "adaptive_card",
    "blocking_reason",
    "cancelled_card",
    "card_size_bytes",
    "case_card",
    "case_link",
    "confirmation_card",
    "customer_choice_card",
    "decision_recorded_card",
    "error_card",
    "external_notification_card",
    "facts",
    "final_confirmation_card",
    "format_date",
    "format_datetime",
    "format_money",
    "format_time",
    "half_offboarded_since",
    "help_card",
    "history_card",
    "item_progress",
    "literal",
    "notification_card",
    "open_url",
    "partner_center_error_card",
    "paused_card",
    "plan_card",
    "relative_days",
    "removing_card",
    "result_card",
    "resumed_card",
    "status_card",
    "still_blocked_card",
    "t",
    "text",
    "token_health_card",
    "transfer_confirmation_card",
    "window_closing_card",
)
