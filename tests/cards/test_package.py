"""The package surface and the building blocks."""

from __future__ import annotations

import importlib
import pkgutil

import cards
from cards import action, adaptive_card, card_size_bytes, text


def test_every_module_has_a_sorted_all() -> None:
    for module in pkgutil.iter_modules(cards.__path__):
        names = importlib.import_module(f"cards.{module.name}").__all__
        assert list(names) == sorted(names), module.name


def test_cards_do_no_io_and_import_no_botbuilder() -> None:
    for module in pkgutil.iter_modules(cards.__path__):
        source = importlib.import_module(f"cards.{module.name}").__loader__.get_source(f"cards.{module.name}")  # type: ignore[union-attr]
        for forbidden in ("botbuilder", "import os", "open(", "datetime.now", "utcnow", "settings", "aiohttp"):
            assert forbidden not in source, (module.name, forbidden)


def test_card_size_counts_utf16() -> None:
    card = {"a": "é"}
    assert card_size_bytes(card) == len('{"a": "é"}') * 2
    assert card_size_bytes({"a": "😀"}) == (len('{"a": ""}') + 2) * 2


def test_adaptive_card_fallback_text_defaults_to_the_first_text() -> None:
    card = adaptive_card([{"type": "Container", "items": [text("Hello")]}], lang="fr-FR")
    assert card["fallbackText"] == "Hello"
    assert card["lang"] == "fr"


def test_action_is_execute_with_a_submit_fallback() -> None:
    button = action("Go", "decide", {"caseId": "c"})
    assert button == {
        "type": "Action.Execute",
        "title": "Go",
        "verb": "decide",
        "data": {"caseId": "c"},
        "fallback": {"type": "Action.Submit", "title": "Go", "data": {"caseId": "c", "verb": "decide"}},
    }
