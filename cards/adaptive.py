"""Adaptive Card building blocks shared by every card (schema 1.5, Teams' subset).

Buttons are ``Action.Execute`` (Universal Actions: the invoke carries the verb and its answer
replaces the card) with an ``Action.Submit`` fallback carrying the same verb in its data, for
clients that do not know Action.Execute. Danger is said in words: Teams ignores button styles.
Teams refuses a message over about 100 KB and advises staying under 80 KB, counted in UTF-16:
:func:`card_size_bytes` measures a card the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = (
    "CARD_CONTENT_TYPE",
    "MAX_CARD_BYTES",
    "SCHEMA_VERSION",
    "action",
    "action_set",
    "adaptive_card",
    "bullets",
    "card_size_bytes",
    "container",
    "facts",
    "literal",
    "open_url",
    "text",
)

SCHEMA_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams' advice for one bot message (../shared/reference/teams-and-peers.md §3.2), in UTF-16 bytes.
MAX_CARD_BYTES = 80_000
_SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
_MARKUP = re.compile(r"([\\`*_~\[\]<>])")


def adaptive_card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    *,
    full_width: bool = True,
    fallback_text: str = "",
    lang: str = "",
) -> dict[str, Any]:
    """A top-level card.

    :param fallback_text: what clients that cannot render the card show; defaults to the text
        of the first TextBlock, so that every card has one.
    :param lang: the card's locale (e.g. ``"en-US"``); its 2-letter language goes into ``lang``.
    """
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": _SCHEMA_URL,
        "version": SCHEMA_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    fallback = fallback_text or _first_text(body)
    if fallback:
        card["fallbackText"] = fallback
    language = lang.replace("_", "-").split("-", 1)[0].lower()
    if language:
        card["lang"] = language
    if full_width:
        card["msteams"] = {"width": "Full"}
    return card


def text(
    value: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    subtle: bool = False,
    wrap: bool = True,
    spacing: str | None = None,
    separator: bool = False,
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": wrap}
    if size:
        block["size"] = size
    if weight:
        block["weight"] = weight
    if subtle:
        block["isSubtle"] = True
    if spacing:
        block["spacing"] = spacing
    if separator:
        block["separator"] = True
    return block


def literal(typed: str) -> str:
    """Text a person typed, to be shown as typed inside a message: the characters of markdown's
    emphasis, code, links and tags are escaped with a backslash (CommonMark), so ``**x**`` or
    ``[x](https://…)`` does not become bold text or a link in the bot's own words."""
    return _MARKUP.sub(r"\\\1", typed)


def bullets(lines: list[str], *, spacing: str | None = None) -> dict[str, Any]:
    """A markdown list in one TextBlock (Teams renders ``- item`` lines separated by ``\\r``)."""
    return text("\r".join(f"- {line}" for line in lines), spacing=spacing)


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in pairs]}


def container(items: list[dict[str, Any]], *, separator: bool = False, spacing: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "Container", "items": items}
    if separator:
        block["separator"] = True
    if spacing:
        block["spacing"] = spacing
    return block


def action(title: str, verb: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A button: Action.Execute, falling back to Action.Submit with the verb in its data."""
    payload = dict(data or {})
    verb = str(verb)
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": payload,
        "fallback": {"type": "Action.Submit", "title": title, "data": {**payload, "verb": verb}},
    }


def open_url(title: str, url: str) -> dict[str, Any]:
    """A button that opens a web page (no invoke reaches the bot)."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def action_set(actions: list[dict[str, Any]], *, spacing: str | None = None) -> dict[str, Any]:
    """Buttons inside the body (each set has its own limit of buttons on Teams)."""
    block: dict[str, Any] = {"type": "ActionSet", "actions": actions}
    if spacing:
        block["spacing"] = spacing
    return block


def card_size_bytes(card: dict[str, Any]) -> int:
    """The card's size as Teams counts it: its JSON in UTF-16."""
    return len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))


def _first_text(body: list[dict[str, Any]]) -> str:
    for element in body:
        if element.get("type") == "TextBlock" and element.get("text"):
            return str(element["text"])
        found = _first_text(element.get("items", []))
        if found:
            return found
    return ""
