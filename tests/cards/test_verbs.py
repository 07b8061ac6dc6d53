"""The buttons' verbs and data: the exact contract the bot routes by."""

from __future__ import annotations

import pytest

from cards import CardDecision, Verb

from .catalogue import ALL_CARDS
from .reading import buttons

DATA_KEYS = {
    "choose_customer": {"customerId"},
    "plan_page": {"caseId", "page"},
    "decide": {"caseId", "itemKey", "decision", "proposal"},
    "approve_all": {"caseId", "pending"},
    "confirm_removal": {"caseId"},
    "cancel_case": {"caseId"},
    "status_page": {"caseId", "page"},
    "teardown_timing": {"caseId", "timing"},
    "show_transfer": {"caseId", "transferId"},
    "accept_transfer": {"caseId", "transferId", "lines"},  # lines: the fingerprint of the line items shown
    "reject_transfer": {"caseId", "transferId"},
}
# Keys a verb's data may carry besides its own: accept_transfer's lineItems (absent = all).
OPTIONAL_KEYS = {"accept_transfer": {"lineItems"}}


def test_the_verbs_are_exactly_these() -> None:
    assert {verb.value for verb in Verb} == set(DATA_KEYS)
    assert {decision.value for decision in CardDecision} == {"approve", "skip"}


@pytest.mark.parametrize("name", sorted(ALL_CARDS))
def test_every_button_has_a_known_verb_and_exactly_its_data(name: str) -> None:
    for button in buttons(ALL_CARDS[name]()):
        if button["type"] == "Action.OpenUrl":
            continue
        verb = button["verb"]
        assert type(verb) is str and verb in DATA_KEYS
        assert DATA_KEYS[verb] <= set(button["data"]) <= DATA_KEYS[verb] | OPTIONAL_KEYS.get(verb, set()), (verb, button["data"])
        if "page" in button["data"]:
            assert type(button["data"]["page"]) is int and button["data"]["page"] >= 0
        if verb == "decide":
            assert type(button["data"]["decision"]) is str and button["data"]["decision"] in ("approve", "skip")
        if verb == "teardown_timing":
            assert type(button["data"]["timing"]) is str and button["data"]["timing"] in ("before", "after")
        data = dict(button["data"])
        if "lineItems" in data:
            line_items = data.pop("lineItems")
            assert type(line_items) is list and line_items and all(type(i) is str and i for i in line_items)
        for value in data.values():
            assert type(value) in (str, int) and value != ""


def test_every_verb_is_used_by_some_card() -> None:
    used = {button.get("verb") for build in ALL_CARDS.values() for button in buttons(build())}
    assert set(DATA_KEYS) <= used
