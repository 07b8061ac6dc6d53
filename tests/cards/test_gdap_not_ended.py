"""Removing the reseller relationship does not end GDAP relationships (../shared/reference/anchors.md
§3.2: no Microsoft page says it does, and they auto-extend until terminated): only the teardown
items a person approves end them (issue 19). Every card that tells a person what the removal does
says so, in every language: the plan (dry run included) and the final confirmation; after the
removal, the result card says which GDAP relationship remains, under "Partner access now".

The expected words come from each language's catalog, so a translation that drops the line fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cards import final_confirmation_card, plan_card, result_card, t
from removal.case import CaseState, Decision, RemovalCase

from .factories import NOW, decided, make_case
from .reading import seen, text_elements
from .teardown_items import access_case, gdap_item

LOCALES = ("en-US", "fr-FR", "ru-RU")

Draw = Callable[[str], dict[str, Any]]


def _gdap_skipped() -> RemovalCase:
    """Removed, the GDAP relationship skipped: it remains."""
    return access_case([decided(gdap_item(), Decision.SKIPPED)], blockers=[], state=CaseState.REMOVED)


def _gdap_remains(locale: str) -> str:
    relationship = t(locale, "item.described.gdap", item=t(locale, "item.gdap_roles", name="Fabrikam - Offboard support", count=3))
    return t(locale, "result.access.skipped", item=relationship, person="Bob Martin")


# The cards that say what the removal does, and what each must show.
CARDS: dict[str, tuple[Draw, Callable[[str], str]]] = {
    "plan": (lambda locale: plan_card(make_case(), now=NOW, locale=locale), lambda locale: t(locale, "consequence.gdap")),
    "plan-dry-run": (
        lambda locale: plan_card(make_case(), dry_run=True, now=NOW, locale=locale),
        lambda locale: t(locale, "consequence.gdap"),
    ),
    "final-confirmation": (
        lambda locale: final_confirmation_card(make_case([], state=CaseState.READY), locale=locale),
        lambda locale: t(locale, "consequence.gdap"),
    ),
    "result": (lambda locale: result_card(_gdap_skipped(), locale=locale), _gdap_remains),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CARDS))
def test_the_card_says_gdap_relationships_are_not_ended(name: str, locale: str) -> None:
    draw, words = CARDS[name]
    assert words(locale) in seen(draw(locale))


def test_the_consequence_says_the_approved_access_items_end_gdap() -> None:
    words = t("en-US", "consequence.gdap")
    assert "GDAP relationships" in words and "are not ended" in words
    assert "only the access items you approve end them" in words


@pytest.mark.parametrize("locale", LOCALES)
def test_the_result_card_lists_the_remaining_gdap_relationship_under_the_partners_access(locale: str) -> None:
    texts = text_elements(result_card(_gdap_skipped(), locale=locale))
    heading = texts.index(t(locale, "result.access.heading"))
    assert texts[heading + 1] == _gdap_remains(locale)
    assert t(locale, "result.access.none") not in texts


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", ["consequence.gdap", "result.access.not_read"])
def test_each_language_names_gdap_and_where_to_look(key: str, locale: str) -> None:
    # The acronym and the product names are the same in every language: what a person searches for.
    words = t(locale, key)
    assert "GDAP" in words
    assert "Microsoft 365" in words or "Microsoft Entra" in words


@pytest.mark.parametrize("locale", ["fr-FR", "ru-RU"])
@pytest.mark.parametrize(
    "key", ["consequence.dap", "consequence.gdap", "result.access.heading", "result.access.none", "result.access.not_read"]
)
def test_the_new_words_are_translated(key: str, locale: str) -> None:
    assert t(locale, key) != t("en-US", key)
