"""The announcement that a cancellation or refund window of an open case closes soon (issue 21).

The workflow checks open cases periodically and, once per item and window, tells the approvers
which windows close within ``OFFBOARD_WINDOW_WARN_HOURS`` (default 48) and what is at stake: the
refund cancelling (or reducing the seats) before then would give, or "Partner Center gives no
price". ``closing`` is :func:`partner_center.money.closing_windows` for one case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from partner_center.money import ClosingWindow
from removal.case import CaseItem, RemovalCase

from .adaptive import action, adaptive_card, container, text
from .money import amount_text, window_date
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb
from .words import customer_name, item_label, proposal

__all__ = ("MAX_WINDOW_LINES", "window_closing_card")

MAX_WINDOW_LINES = 15


def window_closing_card(
    case: RemovalCase, closing: Sequence[ClosingWindow], *, now: datetime, locale: str = DEFAULT_LOCALE
) -> dict[str, Any]:
    """ "2 cancellation windows close soon for Contoso Ltd": each item, when its window closes
    (to the minute, and in how many hours), the amount at stake, and what Offboard proposes; a
    button opens the plan."""
    title = t(locale, "window.title", customer=customer_name(case.customer), count=len(closing))
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder"), text(t(locale, "window.intro"), spacing="Small")]
    for entry in list(closing)[:MAX_WINDOW_LINES]:
        body.append(_entry(entry, now, locale))
    if len(closing) > MAX_WINDOW_LINES:
        body.append(text(t(locale, "blocked.more", count=len(closing) - MAX_WINDOW_LINES), subtle=True, spacing="Small"))
    buttons = [action(t(locale, "window.open_plan"), Verb.PLAN_PAGE, {"caseId": case.id, "page": 0})] if case.is_open else []
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def _entry(entry: ClosingWindow, now: datetime, locale: str) -> dict[str, Any]:
    item = entry.item
    lines = []
    if isinstance(item, CaseItem):
        lines.append(text(f"**{item_label(item, locale)}**", spacing="Small"))
    lines.append(text(t(locale, "window.closes", date=window_date(entry.window_end, now, locale)), spacing="None"))
    lines.append(text(t(locale, "window.at_stake", amount=amount_text(entry.amount_at_stake, locale)), spacing="None"))
    if isinstance(item, CaseItem):
        lines.append(text(proposal(item, now, locale), subtle=True, spacing="None"))
    return container(lines, spacing="Small", separator=True)
