"""The validation helper itself: it must reject what the schema rejects."""

from __future__ import annotations

import copy

import pytest

from cards import help_card

from .schema import SCHEMA_PATH, assert_valid_card


def test_the_schema_is_the_shared_one() -> None:
    assert SCHEMA_PATH.is_file() and SCHEMA_PATH.parent.name == "schemas"


def test_only_the_root_msteams_key_is_set_aside() -> None:
    card = help_card()
    before = copy.deepcopy(card)
    assert_valid_card(card)
    assert card == before
    with pytest.raises(AssertionError, match="'teams' was unexpected"):
        assert_valid_card({**card, "teams": {"width": "Full"}})
    with pytest.raises(AssertionError):
        assert_valid_card({**card, "body": [{**card["body"][0], "msteams": {}}]})


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"body": [{"type": "TextBlock"}]}, "'text' is a required property"),
        ({"body": [{"type": "TextBlock", "text": "x", "size": "Huge"}]}, "'Huge' is not one of"),
        ({"actions": [{"type": "Action.Execute", "title": "x", "colour": "red"}]}, "'colour' was unexpected"),
        ({"type": "Card"}, "'Card' is not one of"),
    ],
)
def test_invalid_cards_fail_with_the_reason(broken: dict[str, object], reason: str) -> None:
    with pytest.raises(AssertionError, match=reason):
        assert_valid_card({"type": "AdaptiveCard", "version": "1.5", "body": [], **broken})
