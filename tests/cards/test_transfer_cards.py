"""Transfers from the customer's next partner on the plan, the card that accepts one, and the
announcement of closing windows (issue 21)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards import plan_card, transfer_confirmation_card, window_closing_card
from removal.case import CaseState, TransferOutcome

from .factories import NOW
from .money_items import FABRIKAM, accepted_transfer_case, make_money_case, window_entries
from .reading import buttons, seen
from .schema import assert_valid_card


def _verbs(card: dict) -> list[tuple[str, dict]]:
    return [(b["verb"], b["data"]) for b in buttons(card) if b["type"] == "Action.Execute"]


def test_the_plan_lists_the_transfer_with_what_it_clears_and_its_buttons() -> None:
    card = plan_card(make_money_case(), now=NOW)
    text = seen(card)
    assert "Transfers requested by other partners" in text
    assert f"**To {FABRIKAM}**: 3 subscriptions (blockers of this plan they clear: 2)" in text
    assert "Expires Dec 20, 2026 (in 29 days)" in text
    assert "- Microsoft 365 E5 (×3): clears Microsoft 365 E5 (3 licenses)" in text
    assert "Teams Phone Standard (×5): not a blocker of this plan" in text
    data = {"caseId": "case0001", "transferId": "tr-0001"}
    assert ("show_transfer", data) in _verbs(card)
    # Rejecting is on the confirmation card only, after what it means is said (issue 21 review).
    assert not [verb for verb, _ in _verbs(card) if verb in ("accept_transfer", "reject_transfer")]


def test_a_dry_run_or_a_closed_case_shows_the_transfer_without_buttons() -> None:
    for card in (
        plan_card(make_money_case(), dry_run=True, now=NOW),
        plan_card(make_money_case(state=CaseState.CANCELLED), now=NOW),
    ):
        assert f"**To {FABRIKAM}**" in seen(card)
        assert not {verb for verb, _ in _verbs(card)} & {"show_transfer", "accept_transfer", "reject_transfer"}


@pytest.mark.parametrize(
    ("locale", "irreversible", "billing", "money"),
    [
        ("en-US", "This cannot be undone", "from the transfer date", "€11,324.00"),
        ("fr-FR", "C'est irréversible", "à la date du transfert", "11\u202f324,00\xa0€"),
        ("ru-RU", "Это необратимо", "с даты передачи", "11\xa0324,00\xa0€"),
    ],
)
def test_accepting_says_what_moves_the_money_that_moves_and_that_it_cannot_be_undone(
    locale: str, irreversible: str, billing: str, money: str
) -> None:
    card = transfer_confirmation_card(make_money_case(), "tr-0001", now=NOW, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    assert FABRIKAM in card["fallbackText"]
    assert irreversible in text and billing in text and money in text
    verbs = _verbs(card)
    shown = {"caseId": "case0001", "transferId": "tr-0001", "lines": make_money_case().transfers[0].lines_fingerprint}
    assert verbs[0] == ("accept_transfer", shown)  # all line items, as shown
    assert verbs[1] == ("accept_transfer", {**shown, "lineItems": ["li-1", "li-2"]})
    assert verbs[2] == ("reject_transfer", {"caseId": "case0001", "transferId": "tr-0001"})


def test_the_buttons_name_what_they_accept() -> None:
    card = transfer_confirmation_card(make_money_case(), "tr-0001", now=NOW)
    assert [b["title"] for b in buttons(card)] == ["Accept all (3 subscriptions)", "Accept only the 2 that clear this plan", "Reject"]


def test_an_accepted_transfer_says_who_and_where_it_stands_without_buttons() -> None:
    card = transfer_confirmation_card(accepted_transfer_case(), "tr-0001", now=NOW)
    text = seen(card)
    assert "Accepted by Bob Martin" in text
    assert "Only 2 subscriptions accepted." in text
    assert "Sent to Partner Center: waiting for it to complete." in text
    assert _verbs(card) == []
    done = seen(transfer_confirmation_card(accepted_transfer_case(TransferOutcome.COMPLETED), "tr-0001", now=NOW))
    assert "Partner Center completed it." in done


def test_an_expired_request_says_so_and_offers_nothing() -> None:
    case = make_money_case(transfer={"status": "Expired", "expires_at": NOW - timedelta(days=1)})
    card = transfer_confirmation_card(case, "tr-0001", now=NOW)
    assert "Status in Partner Center: Expired" in seen(card)
    assert "Expired Nov 20, 2026 (yesterday)" in seen(card)
    assert _verbs(card) == []


def test_an_unknown_transfer_is_refused() -> None:
    with pytest.raises(ValueError, match="tr-nope"):
        transfer_confirmation_card(make_money_case(), "tr-nope", now=NOW)


# At stake when the full refund's window closes: what the prorated refund open after it no longer
# gives back. €1,234.56 paid for the month (Nov 18 - Dec 18, 30 days); 27 days are left on Nov 21,
# so €1,111.10 stays refundable: €1,234.56 - €1,111.10 = €123.46.
@pytest.mark.parametrize(
    ("locale", "title", "closes", "stake"),
    [
        (
            "en-US",
            "1 cancellation window closes soon for Contoso Ltd",
            "Window closes Nov 22, 2026, 6:00 PM UTC (in 30 hours)",
            "At stake: €123.46",
        ),
        ("fr-FR", "1 délai d'annulation se termine bientôt pour Contoso Ltd", "(dans 30 heures)", "En jeu : 123,46\xa0€"),
        ("ru-RU", "1 срок отмены скоро истекает для Contoso Ltd", "(через 30 часов)", "На кону: 123,46\xa0€"),
    ],
)
def test_a_window_closing_within_48_hours_is_announced_with_the_amount(locale: str, title: str, closes: str, stake: str) -> None:
    case = make_money_case()
    card = window_closing_card(case, window_entries(case), now=NOW, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    assert card["body"][0]["text"] == title
    assert closes in text and stake in text
    assert _verbs(card) == [("plan_page", {"caseId": "case0001", "page": 0})]
