"""A removal stopped before the end: nothing more changes, and what was already done stays done."""

from __future__ import annotations

from typing import Any

from partner_center.blockers import Action
from removal.case import RemovalCase

from .adaptive import adaptive_card, bullets, text
from .texts import DEFAULT_LOCALE, t
from .words import action_phrase, customer_name

__all__ = ("MAX_DONE_LINES", "cancelled_card")

# Enough to see what happened; the rest is counted so the card stays small.
MAX_DONE_LINES = 15


def cancelled_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The case is cancelled: says that nothing more changes and lists what Partner Center
    already carried out (those changes stay; suspended subscriptions can be reactivated)."""
    title = t(locale, "cancelled.title", customer=customer_name(case.customer))
    body = [text(title, size="Medium", weight="Bolder"), text(t(locale, "cancelled.nothing_more"))]
    done = case.done
    if not done:
        body.append(text(t(locale, "cancelled.nothing_done")))
        return adaptive_card(body, fallback_text=title, lang=locale)
    body.append(text(t(locale, "cancelled.done.heading"), weight="Bolder", spacing="Medium"))
    body.append(bullets([action_phrase(item, locale) for item in done[:MAX_DONE_LINES]], spacing="Small"))
    if len(done) > MAX_DONE_LINES:
        body.append(text(t(locale, "blocked.more", count=len(done) - MAX_DONE_LINES), subtle=True, spacing="Small"))
    if any(item.action is Action.SUSPEND for item in done):
        body.append(text(t(locale, "cancelled.reactivate"), subtle=True, spacing="Medium"))
    return adaptive_card(body, fallback_text=title, lang=locale)
