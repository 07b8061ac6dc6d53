"""What holds for every card in every state: schema 1.5, fallback text, size, no Python leaking."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import cards
from cards import MAX_CARD_BYTES, card_size_bytes

from .catalogue import ALL_CARDS, CARD_FUNCTIONS
from .factories import NOW, make_case
from .reading import buttons, visible_texts
from .schema import assert_valid_card

# What a forgotten placeholder, an enum or an object printed by mistake looks like.
_PYTHON_LEAKS = re.compile(
    r"\bNone\b|\bTrue\b|\bFalse\b|<[A-Za-z_.]+ object at|\b(?:Action|BlockerKind|CaseState|Decision|Outcome|Verb)\.[A-Z_]+"
    r"|\{[a-z_]+\}|datetime\.|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:|\+00:00"
)


@pytest.fixture(params=sorted(ALL_CARDS), ids=str)
def card(request: pytest.FixtureRequest) -> dict[str, Any]:
    return ALL_CARDS[request.param]()


def test_card_is_valid_adaptive_card_1_5(card: dict[str, Any]) -> None:
    assert_valid_card(card)
    assert card["version"] == "1.5"
    assert card["msteams"] == {"width": "Full"}


def test_card_has_fallback_text(card: dict[str, Any]) -> None:
    assert card["fallbackText"].strip()


def test_card_fits_in_a_teams_message(card: dict[str, Any]) -> None:
    assert card_size_bytes(card) < MAX_CARD_BYTES


def test_card_shows_no_python(card: dict[str, Any]) -> None:
    leaks = [value for value in visible_texts(card) if _PYTHON_LEAKS.search(value)]
    leaks += [f"{key}={value}" for key, value in _strings(card) if key not in ("type", "spacing") and _PYTHON_LEAKS.search(value)]
    assert not leaks


def test_buttons_execute_with_a_submit_fallback_carrying_the_verb(card: dict[str, Any]) -> None:
    assert len(card.get("actions", [])) <= 6  # Teams' maxActions
    for button in buttons(card):
        if button["type"] == "Action.OpenUrl":
            assert button["url"].startswith("https://")
            continue
        assert button["type"] == "Action.Execute"
        assert button["fallback"] == {"type": "Action.Submit", "title": button["title"], "data": {**button["data"], "verb": button["verb"]}}
        assert all(key[0].islower() and "_" not in key for key in button["data"])  # camelCase


def test_catalogue_covers_every_card_function() -> None:
    names = {name for name in cards.__all__ if name.endswith("_card") and callable(getattr(cards, name))}
    names.discard("adaptive_card")
    assert names == set(CARD_FUNCTIONS)
    drawn = {key.split("-")[0] for key in ALL_CARDS}
    assert drawn == {
        "choice",
        "plan",
        "confirmation",
        "decision",
        "status",
        "final",
        "still",
        "cancelled",
        "removing",
        "result",
        "error",
        "help",
        "history",
        "partner",
        "case",
        "notification",
        "paused",
        "resumed",
        "token",
        "transfer",
        "window",
    }


@pytest.mark.parametrize("name", CARD_FUNCTIONS)
def test_every_card_function_takes_a_keyword_locale_defaulting_to_en_us(name: str) -> None:
    function: Callable[..., Any] = getattr(cards, name)
    parameter = inspect.signature(function).parameters["locale"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default == "en-US"


@pytest.mark.parametrize("name", ["plan_card", "confirmation_card", "status_card", "still_blocked_card"])
def test_cards_with_relative_dates_take_now(name: str) -> None:
    parameter = inspect.signature(getattr(cards, name)).parameters["now"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty


def test_an_unknown_locale_draws_english() -> None:
    english = ALL_CARDS["plan-every-kind"]()
    other = cards.plan_card(make_case(), now=NOW, locale="xx-YY")
    assert visible_texts(other) == visible_texts(english)
    assert other["lang"] == "xx"


def _strings(node: Any, key: str = "") -> list[tuple[str, str]]:
    """Every string value of the card's JSON with its key (types and spacings are schema words)."""
    if isinstance(node, dict):
        return [found for name, value in node.items() for found in _strings(value, name)]
    if isinstance(node, list):
        return [found for value in node for found in _strings(value, key)]
    if node is None:
        return [(key, "None")]
    return [(key, node if isinstance(node, str) else json.dumps(node))]
