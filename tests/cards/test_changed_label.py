"""An item asked about again because what the bot would do changed after someone decided on it:
the confirmation and status cards say so, in the reader's language."""

from __future__ import annotations

import pytest

from cards import confirmation_card, status_card
from removal.case import CaseState, Decision

from .factories import NOW, azure_plan_item, decided, legacy_item, make_case
from .reading import seen
from .schema import assert_valid_card

_LABELS = {
    "en-US": "Changed in Partner Center since it was approved or skipped",
    "fr-FR": "Modifié dans l'Espace partenaires depuis qu'il a été approuvé ou ignoré",
    "ru-RU": "С момента утверждения или пропуска этого элемента в Центре партнеров произошли изменения",
}


@pytest.mark.parametrize("locale", sorted(_LABELS))
def test_the_confirmation_of_a_changed_item_says_why_it_is_asked_again(locale: str) -> None:
    changed = azure_plan_item(subscriptions=1, since_plan="changed")
    case = make_case([changed, legacy_item()])
    card = confirmation_card(case, changed, now=NOW, locale=locale)
    assert_valid_card(card)
    assert _LABELS[locale] in seen(card)
    assert not any(label in seen(confirmation_card(case, case.items[1], now=NOW, locale=locale)) for label in _LABELS.values())


@pytest.mark.parametrize("locale", sorted(_LABELS))
def test_the_status_card_marks_a_changed_item_waiting_for_a_decision(locale: str) -> None:
    case = make_case(
        [azure_plan_item(subscriptions=1, since_plan="changed"), decided(legacy_item(), Decision.APPROVED)],
        state=CaseState.AWAITING_APPROVAL,
    )
    card = status_card(case, now=NOW, locale=locale)
    assert_valid_card(card)
    assert seen(card).count(_LABELS[locale]) == 1


def test_items_new_or_back_are_not_labelled_changed() -> None:
    case = make_case([azure_plan_item(since_plan="new"), legacy_item(since_plan="back")])
    for item in case.items:
        assert _LABELS["en-US"] not in seen(confirmation_card(case, item, now=NOW))
    assert _LABELS["en-US"] not in seen(status_card(case, now=NOW))
