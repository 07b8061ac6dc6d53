"""Removing the reseller relationship does not end GDAP relationships (../shared/reference/anchors.md
§3.2: no Microsoft page says it does, and they auto-extend until terminated), so every card that
tells a person what the removal does says so, in every language: the plan (dry run included),
the final confirmation and, after the removal, the result card as what remains to check.

The expected words come from each language's catalog, so a translation that drops the line fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cards import final_confirmation_card, plan_card, result_card, t
from removal.case import CaseState

from .factories import NOW, make_case, make_removed_case
from .reading import seen

LOCALES = ("en-US", "fr-FR", "ru-RU")

Draw = Callable[[str], dict[str, Any]]

# The cards that say what the removal does, and the catalog message each must show.
CARDS: dict[str, tuple[Draw, str]] = {
    "plan": (lambda locale: plan_card(make_case(), now=NOW, locale=locale), "consequence.gdap"),
    "plan-dry-run": (lambda locale: plan_card(make_case(), dry_run=True, now=NOW, locale=locale), "consequence.gdap"),
    "final-confirmation": (lambda locale: final_confirmation_card(make_case([], state=CaseState.READY), locale=locale), "consequence.gdap"),
    "result": (lambda locale: result_card(make_removed_case(), locale=locale), "result.remains.gdap"),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CARDS))
def test_the_card_says_gdap_relationships_are_not_ended(name: str, locale: str) -> None:
    draw, key = CARDS[name]
    assert t(locale, key) in seen(draw(locale))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_result_card_lists_gdap_under_what_remains_to_check(locale: str) -> None:
    texts = [element.get("text", "") for element in result_card(make_removed_case(), locale=locale)["body"]]
    heading = texts.index(t(locale, "result.remains.heading"))
    assert t(locale, "result.remains.gdap") in texts[heading + 1]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", ["consequence.gdap", "result.remains.gdap"])
def test_each_language_names_gdap_and_both_places_to_terminate_it(key: str, locale: str) -> None:
    # The acronym and the product names are the same in every language: what a person searches for.
    words = t(locale, key)
    assert "GDAP" in words
    assert "Microsoft 365" in words


@pytest.mark.parametrize("locale", ["fr-FR", "ru-RU"])
@pytest.mark.parametrize("key", ["consequence.dap", "consequence.gdap", "result.remains.heading", "result.remains.gdap"])
def test_the_new_words_are_translated(key: str, locale: str) -> None:
    assert t(locale, key) != t("en-US", key)
