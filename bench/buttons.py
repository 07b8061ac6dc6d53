"""Reading a card's Action.Execute buttons, as a click needs them (the benchmarks and the tests).

Unlike ``tests/cards/reading.py``'s ``buttons`` (every button in order, as a person sees them),
these are the buttons that post back to the bot, by title, with the verb and data a click sends.
"""

from __future__ import annotations

from typing import Any

__all__ = ("button_data", "buttons")


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's Action.Execute buttons by title: {title: {"verb", "data"}}."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found[node["title"]] = {"verb": node["verb"], "data": node.get("data", {})}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def button_data(card: dict[str, Any], verb: str, **match: Any) -> dict[str, Any]:
    """The data of the card's ``verb`` button whose data matches ``match``."""
    for button in buttons(card).values():
        if button["verb"] == verb and all(button["data"].get(k) == v for k, v in match.items()):
            return button["data"]
    raise AssertionError(f"no {verb} button {match} in {list(buttons(card))}")
