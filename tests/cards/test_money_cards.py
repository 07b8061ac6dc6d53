"""Money on the plan and the confirmations (issue 21): each way out of a blocker with its money and
its date, the plan's totals, savings plans, reservations' refund rules, "Partner Center gives no
price", in English, French and Russian (Babel 2.9.1's currency formats and CLDR plurals)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cards import card_size_bytes, confirmation_card, format_money, plan_card, still_blocked_card
from removal.case import CaseState

from .factories import NOW, make_case
from .money_items import FABRIKAM, make_large_money_case, make_money_case, money_inside_item, savings_plan_item
from .reading import seen, text_elements
from .schema import assert_valid_card

NNBSP, NBSP = "\u202f", "\xa0"


def _columns(card: dict[str, Any]) -> list[list[str]]:
    """Each ColumnSet of the card as the texts of its columns (the options side by side)."""
    found: list[list[str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ColumnSet":
                found.append(["\n".join(block["text"] for block in column["items"]) for column in node["columns"]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {fact["title"]: fact["value"] for element in card["body"] if element["type"] == "FactSet" for fact in element["facts"]}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", "€1,234.56"),
        ("fr-FR", f"1{NNBSP}234,56{NBSP}€"),
        ("ru-RU", f"1{NBSP}234,56{NBSP}€"),
        ("de-DE", "€1,234.56"),  # no catalog: formatted as US English, like the words around it
    ],
)
def test_amounts_are_written_by_babel_in_the_readers_locale(locale: str, expected: str) -> None:
    assert format_money(Decimal("1234.56"), "EUR", locale) == expected


# What the must-show plan says, per locale: the in-window subscription's options (cancel now with
# a full refund for 30 hours; 3 seats; auto-renew off keeps billing 11 months), the past-window
# one (auto-renew off: 3 months left; Fabrikam's transfer), the savings plan, the totals.
MUST_SHOW: dict[str, dict[str, Any]] = {
    "en-US": {
        "price": "Price: €1,234.56 a month (€154.32 each)",
        "cancel": [
            "**Cancel now**",
            "Full refund: €1,234.56 until Nov 22, 2026, 6:00 PM UTC (in 30 hours)",
            "Possible until Nov 24, 2026 (in 3 days)",
        ],
        "seats": ["**Remove 3 seats**", "Full refund: €462.96 until Nov 22, 2026, 6:00 PM UTC (in 30 hours)"],
        "renew": ["**Turn auto-renew off**", "Still billed: €13,580.16, until it ends Nov 18, 2027 (in 362 days)"],
        "past": ["**Turn auto-renew off**", "Still billed: €324.00, until it ends Feb 24, 2027 (in 95 days)"],
        "transfer": [f"**Transfer to {FABRIKAM}**", "Moves to them: €324.00 still to be billed until its term ends"],
        "savings": "a savings plan cannot be cancelled (all savings plan purchases are final). Transfer it to the customer's new"
        " partner, or wait until its term ends on Oct 21, 2028 (in 700 days).",
        "savings_wait": "Still billed: €11,000.00, until it ends Oct 21, 2028 (in 700 days)",
        "totals": {
            "Refundable if cancelled now": "€1,234.56",
            "Still billed until the terms end by items that cannot be cancelled now, if their auto-renew is turned off": "€11,324.00",
        },
        "unpriced": "1 item has no price from Partner Center: not counted.",
        "no_price": "Price: Partner Center gives no price",
        "limit": "$50,000.00",
    },
    "fr-FR": {
        "price": f"Prix : 1{NNBSP}234,56{NBSP}€ par mois (154,32{NBSP}€ l'unité)",
        "cancel": [
            "**Annuler maintenant**",
            f"Remboursement intégral : 1{NNBSP}234,56{NBSP}€ jusqu'au 22 nov. 2026 à 18:00 UTC (dans 30 heures)",
            "Possible jusqu'au 24 nov. 2026 (dans 3 jours)",
        ],
        "seats": ["**Retirer 3 licences**", f"Remboursement intégral : 462,96{NBSP}€ jusqu'au 22 nov. 2026 à 18:00 UTC (dans 30 heures)"],
        "renew": [
            "**Désactiver le renouvellement automatique**",
            f"Encore facturé : 13{NNBSP}580,16{NBSP}€, jusqu'à la fin le 18 nov. 2027 (dans 362 jours)",
        ],
        "past": [
            "**Désactiver le renouvellement automatique**",
            f"Encore facturé : 324,00{NBSP}€, jusqu'à la fin le 24 févr. 2027 (dans 95 jours)",
        ],
        "transfer": [f"**Transfert vers {FABRIKAM}**", f"Passe chez eux : 324,00{NBSP}€ encore à facturer jusqu'à la fin de l'engagement"],
        "savings": "un plan d'économies ne peut pas être annulé",
        "savings_wait": f"Encore facturé : 11{NNBSP}000,00{NBSP}€, jusqu'à la fin le 21 oct. 2028 (dans 700 jours)",
        "totals": {
            "Remboursable en annulant maintenant": f"1{NNBSP}234,56{NBSP}€",
            "Encore facturé jusqu'à la fin des engagements par les articles qui ne peuvent plus être annulés, si leur "
            "renouvellement automatique est désactivé": f"11{NNBSP}324,00{NBSP}€",
        },
        "unpriced": "1 élément sans prix dans Partner Center : non compté.",
        "no_price": "Prix : Partner Center n'indique aucun prix",
        "limit": f"50{NNBSP}000,00{NBSP}$US",
    },
    "ru-RU": {
        "price": f"Цена: 1{NBSP}234,56{NBSP}€ в месяц (154,32{NBSP}€ за единицу)",
        "cancel": [
            "**Отменить сейчас**",
            f"Полный возврат: 1{NBSP}234,56{NBSP}€ до 22 нояб. 2026 г., 18:00 UTC (через 30 часов)",
            "Возможно до 24 нояб. 2026 г. (через 3 дня)",
        ],
        "seats": ["**Убрать 3 места**", f"Полный возврат: 462,96{NBSP}€ до 22 нояб. 2026 г., 18:00 UTC (через 30 часов)"],
        "renew": [
            "**Отключить автопродление**",
            f"Еще будет выставлено: 13{NBSP}580,16{NBSP}€, до окончания 18 нояб. 2027 г. (через 362 дня)",
        ],
        "past": ["**Отключить автопродление**", f"Еще будет выставлено: 324,00{NBSP}€, до окончания 24 февр. 2027 г. (через 95 дней)"],
        "transfer": [f"**Передача партнеру {FABRIKAM}**", f"Переходит к ним: 324,00{NBSP}€, которые еще будут выставлены до конца срока"],
        "savings": "план экономии нельзя отменить",
        "savings_wait": f"Еще будет выставлено: 11{NBSP}000,00{NBSP}€, до окончания 21 окт. 2028 г. (через 700 дней)",
        "totals": {
            "Возвратно при отмене сейчас": f"1{NBSP}234,56{NBSP}€",
            "Будет выставлено до конца сроков за позиции, которые уже нельзя отменить, если у них отключено автопродление": f"11{NBSP}324,00{NBSP}€",
        },
        "unpriced": "1 элемент без цены в Центре партнеров: не учтен.",
        "no_price": "Цена: Центр партнеров не указывает цену",
        "limit": f"50{NBSP}000,00{NBSP}$",
    },
}


@pytest.mark.parametrize("locale", sorted(MUST_SHOW))
def test_the_plan_shows_each_option_with_its_money_and_date_and_the_totals(locale: str) -> None:
    wanted = MUST_SHOW[locale]
    card = plan_card(make_money_case(), now=NOW, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    columns = _columns(card)
    inside, past, reservation, savings = columns  # the blockers in kind order, one ColumnSet each
    assert wanted["price"] in text
    # In its window: cancel now, remove seats, auto-renew off, side by side.
    assert [column.split("\n\n")[0] for column in inside] == [wanted["cancel"][0], wanted["seats"][0], wanted["renew"][0]]
    assert inside[0].split("\n\n") == wanted["cancel"]
    assert inside[1].split("\n\n")[:2] == wanted["seats"]
    assert inside[2].split("\n\n") == wanted["renew"]
    # Past its window: cancelling is gone; auto-renew off keeps billing; Fabrikam's transfer moves it.
    assert past[0].split("\n\n") == wanted["past"]
    assert past[1].split("\n\n")[:2] == wanted["transfer"]
    # The savings plan: never cancellable, transfer or wait.
    assert wanted["savings"] in text
    assert past[1].split("\n\n")[0] == savings[0].split("\n\n")[0]  # the same transfer clears it
    assert savings[1].split("\n\n")[1] == wanted["savings_wait"]
    # The reservation: no price from Partner Center, Microsoft's refund rules with the USD limit.
    assert wanted["no_price"] in text
    assert wanted["limit"] in text
    assert len(reservation) == 1  # only "keep it": it is cancelled in the Azure portal
    facts = _facts(card)
    for title, value in wanted["totals"].items():
        assert facts[title] == value
    assert wanted["unpriced"] in text


def test_the_totals_use_the_locales_plural_forms() -> None:
    case = make_money_case()
    unpriced = [item.model_copy(update={"key": f"{item.key}-{n}", "money": None}) for n, item in enumerate([case.items[0]] * 4)]
    crowded = case.model_copy(update={"items": [*case.items, *unpriced]})
    assert "5 items have no price from Partner Center: not counted." in seen(plan_card(crowded, now=NOW))
    assert "5 éléments sans prix dans Partner Center : non comptés." in seen(plan_card(crowded, now=NOW, locale="fr-FR"))
    assert "5 элементов без цены в Центре партнеров: не учтены." in seen(plan_card(crowded, now=NOW, locale="ru-RU"))
    two = case.model_copy(update={"items": [*case.items, *unpriced[:1]]})
    assert "2 элемента без цены в Центре партнеров: не учтены." in seen(plan_card(two, now=NOW, locale="ru-RU"))


def test_a_plan_without_money_shows_no_totals_and_no_options() -> None:
    card = plan_card(make_case(), now=NOW)
    assert "What the choices cost" not in seen(card)
    assert _columns(card) == []


def test_the_dates_shown_next_to_the_options_are_not_repeated_under_the_item() -> None:
    text = seen(plan_card(make_money_case(), now=NOW))
    assert "Cancellation window ends" not in text  # "Possible until Nov 24, 2026 (in 3 days)" says it
    assert "Cancellation window ended Nov 1, 2026 (20 days ago)" in text  # past: no option carries it


def test_the_confirmation_card_carries_its_blockers_money() -> None:
    case = make_money_case()
    card = confirmation_card(case, case.items[0], now=NOW, locale="fr-FR")
    assert_valid_card(card)
    text = seen(card)
    assert f"Prix : 1{NNBSP}234,56{NBSP}€ par mois (154,32{NBSP}€ l'unité)" in text
    [options] = _columns(card)
    assert options[0].startswith(f"**Annuler maintenant**\n\nRemboursement intégral : 1{NNBSP}234,56{NBSP}€")


def test_a_prorated_refund_is_said_as_prorated_after_the_full_refund_window() -> None:
    later = NOW.replace(day=23)  # 47 hours after the full-refund window, the cancellation still open
    item = money_inside_item()
    card = confirmation_card(make_case([item]), item, now=later)
    [options] = _columns(card)
    assert options[0].split("\n\n")[1].startswith("Prorated refund: €")


def test_a_savings_plan_waits_in_the_still_blocked_card_with_its_date() -> None:
    card = still_blocked_card(make_case([savings_plan_item()], state=CaseState.WAITING), now=NOW)
    assert "Oct 21, 2028 (in 700 days)" in seen(card)


@pytest.mark.parametrize("locale", ["en-US", "fr-FR", "ru-RU"])
def test_a_thousand_priced_items_page_inside_teams_size(locale: str) -> None:
    for case in (make_large_money_case(), make_large_money_case(nce_only=True)):
        for page in (0, 24, 49):
            card = plan_card(case, page=page, now=NOW, locale=locale)
            assert card_size_bytes(card) < 80_000, (locale, page)
    assert not any("None" in value for value in text_elements(card))
