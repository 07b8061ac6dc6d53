"""Every button of every card is read by the edge as its verb's payload: a verb added to
cards.Verb and to a card, but not to bot.card_actions' union, fails here rather than on a click."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes

from bot.card_actions import card_action_of
from tests.cards.catalogue import ALL_CARDS
from tests.cards.reading import buttons


def _clicks(card: dict[str, Any]) -> list[tuple[dict[str, Any], Activity, Activity]]:
    """Each Action.Execute button, as Teams sends it: the invoke, and its Action.Submit fallback."""
    found = []
    for button in buttons(card):
        if button["type"] != "Action.Execute":
            continue
        invoke = Activity(
            type=ActivityTypes.invoke,
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": button["verb"], "data": button["data"]}},
        )
        found.append((button, invoke, Activity(type=ActivityTypes.message, value=button["fallback"]["data"])))
    return found


@pytest.mark.parametrize("name", sorted(ALL_CARDS))
def test_every_button_is_read_as_its_verbs_payload(name: str) -> None:
    for button, invoke, submit in _clicks(ALL_CARDS[name]()):
        for activity in (invoke, submit):
            click = card_action_of(activity)
            assert click is not None and click.verb == button["verb"], (name, button["verb"])
