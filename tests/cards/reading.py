"""Reading a card the way a person sees it: its visible texts and its buttons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ("buttons", "seen", "text_elements", "visible_texts")


def visible_texts(card: dict[str, Any]) -> list[str]:
    """Every string a person can read: TextBlocks, facts, button titles, fallbackText."""
    return text_elements(card) + [button["title"] for button in buttons(card)]


def text_elements(card: dict[str, Any]) -> list[str]:
    """The strings Teams renders as markdown: TextBlocks, FactSet titles and values, fallbackText
    (button titles are plain text)."""
    found = [card["fallbackText"]] if "fallbackText" in card else []
    for element in _elements(card.get("body", [])):
        if element["type"] == "TextBlock":
            found.append(element["text"])
        elif element["type"] == "FactSet":
            found.extend(part for fact in element["facts"] for part in (fact["title"], fact["value"]))
    return found


def seen(card: dict[str, Any]) -> str:
    """All visible texts in one string, for ``in`` checks."""
    return "\n".join(visible_texts(card))


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's buttons, in order: ActionSets in the body, then the action bar."""
    found = [button for element in _elements(card.get("body", [])) if element["type"] == "ActionSet" for button in element["actions"]]
    return found + list(card.get("actions", []))


def _elements(body: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for element in body:
        yield element
        yield from _elements(element.get("items", []))
        yield from _elements(element.get("columns", []))  # a ColumnSet's columns hold items too
