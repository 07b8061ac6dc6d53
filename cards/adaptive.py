"""Adaptive Card building blocks shared by every card (schema 1.5, Teams' subset).

Buttons are ``Action.Execute`` (Universal Actions: the invoke carries the verb and its answer
replaces the card) with an ``Action.Submit`` fallback carrying the same verb in its data, for
clients that do not know Action.Execute. Danger is said in words: Teams ignores button styles.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "CARD_CONTENT_TYPE",
    "SCHEMA_VERSION",
    "action",
    "adaptive_card",
    "facts",
    "text",
)

SCHEMA_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"


def adaptive_card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, *, full_width: bool = True) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": _SCHEMA_URL,
        "version": SCHEMA_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    if full_width:
        card["msteams"] = {"width": "Full"}
    return card


def text(value: str, *, size: str | None = None, weight: str | None = None, subtle: bool = False, wrap: bool = True, spacing: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": wrap}
    if size:
        block["size"] = size
    if weight:
        block["weight"] = weight
    if subtle:
        block["isSubtle"] = True
    if spacing:
        block["spacing"] = spacing
    return block


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in pairs]}


def action(title: str, verb: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A button: Action.Execute, falling back to Action.Submit with the verb in its data."""
    payload = dict(data or {})
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": payload,
        "fallback": {"type": "Action.Submit", "title": title, "data": {**payload, "verb": verb}},
    }
