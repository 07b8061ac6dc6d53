"""The history card: what Offboard recorded about one customer, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .adaptive import adaptive_card, literal, text
from .format import format_datetime
from .texts import t

__all__ = ("history_card",)

_SHOWN = 30


def history_card(customer: str, events: Sequence[dict[str, Any]], *, locale: str = "en-US") -> dict[str, Any]:
    """``events`` are audit records (oldest first, as the trail returns them).

    The customer's name, the actors' Teams names, the items' names and Partner Center's details
    all come from outside the bot: they are shown escaped (:func:`literal`), never as markdown.
    """
    body: list[dict[str, Any]] = [text(t(locale, "history.title", customer=literal(customer)), size="Medium", weight="Bolder")]
    if not events:
        body.append(text(t(locale, "history.empty", customer=literal(customer))))
        return adaptive_card(body)
    newest = list(reversed(events))[:_SHOWN]
    for event in newest:
        when = format_datetime(datetime.fromisoformat(event["at"]), locale)
        parts = [
            f"**{when}**",
            literal(event.get("actor", "")),
            f"`{event.get('action', '')}`",
            literal(event.get("item", "")),
            literal(event.get("detail", "")),
        ]
        if event.get("correlation_id"):
            parts.append(f"correlation id {event['correlation_id']}")
        body.append(text(" — ".join(part for part in parts if part), spacing="Small"))
    if len(events) > _SHOWN:
        body.append(text(t(locale, "history.more", count=len(events) - _SHOWN), subtle=True))
    return adaptive_card(body)
