"""Confirming one item, and the small card that records the answer."""

from __future__ import annotations

from typing import Any

import pytest

from cards import confirmation_card, decision_recorded_card
from removal.case import CaseItem, Decision

from .factories import (
    ANN,
    NOW,
    azure_plan_item,
    azure_plan_suspend_item,
    decided,
    legacy_item,
    make_case,
    nce_inside_item,
    nce_past_item,
    reservation_item,
    software_inside_item,
    software_past_item,
)
from .reading import buttons, seen


def _buttons(card: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(b["title"], b["verb"], b["data"]) for b in buttons(card)]


@pytest.mark.parametrize(
    ("item", "question", "button", "effect"),
    [
        (
            legacy_item(),
            "Suspend Office 365 E3 (25 licenses)?",
            "Suspend",
            "It can be undone: the subscription can be reactivated later.",
        ),
        (
            nce_inside_item(),
            "Cancel Microsoft 365 Business Premium (10 licenses)?",
            "Cancel subscription",
            "Cancelling is irreversible: the subscription ends and cannot be brought back. Any refund follows Microsoft's cancellation policy.",
        ),
        (
            nce_past_item(),
            "Turn off auto-renew for Microsoft 365 E5 (1 license)?",
            "Turn off auto-renew",
            "keeps running, and blocks the removal, until its term ends",
        ),
        (
            azure_plan_item(),
            "Cancel 3 Azure subscriptions, then suspend Azure plan?",
            "Cancel Azure subscriptions and suspend plan",
            "This cancels 3 Azure subscriptions: their resources stop, and this is irreversible. Then the Azure plan is suspended.",
        ),
        (
            azure_plan_item(subscriptions=1),
            "Cancel 1 Azure subscription, then suspend Azure plan?",
            "Cancel Azure subscriptions and suspend plan",
            "This cancels 1 Azure subscription: its resources stop, and this is irreversible.",
        ),
        (
            azure_plan_suspend_item(),
            "Suspend Azure plan (Europe)?",
            "Suspend",
            "can be reactivated later",
        ),
        (
            software_inside_item(),
            "Cancel the software order Windows Server 2022 Standard - 16 Core License Pack (2 units)?",
            "Cancel order",
            "Cancelling the software order is irreversible.",
        ),
    ],
    ids=lambda value: value.key if isinstance(value, CaseItem) else None,
)
def test_the_question_the_effect_and_the_action_button(item: CaseItem, question: str, button: str, effect: str) -> None:
    case = make_case([item])
    card = confirmation_card(case, item, now=NOW)
    assert card["body"][0]["text"] == question
    assert card["fallbackText"] == question
    assert effect in seen(card)
    shown = item.proposal.fingerprint  # what the card showed: a click after the item changed decides nothing
    assert _buttons(card)[0] == (button, "decide", {"caseId": case.id, "itemKey": item.key, "decision": "approve", "proposal": shown})
    assert _buttons(card)[1] == ("Skip", "decide", {"caseId": case.id, "itemKey": item.key, "decision": "skip", "proposal": shown})
    assert _buttons(card)[-1] == ("Stop", "cancel_case", {"caseId": case.id})


def test_dates_that_matter_for_the_decision() -> None:
    assert "It can be cancelled until Nov 24, 2026 (in 3 days)." in seen(confirmation_card(make_case(), nce_inside_item(), now=NOW))
    assert "It can be cancelled until Dec 3, 2026 (in 12 days)." in seen(confirmation_card(make_case(), software_inside_item(), now=NOW))
    assert "Its term ends Nov 24, 2026 (in 3 days)." in seen(confirmation_card(make_case(), nce_past_item(), now=NOW))


def test_progress_and_approve_all_remaining() -> None:
    case = make_case()  # six items to decide, the reservation and the reported software are not
    third = case.to_decide[2]
    card = confirmation_card(case, third, now=NOW)
    assert "Item 3 of 6" in seen(card)
    assert "Removal of the reseller relationship with Contoso Ltd, requested by Ann Lee." in seen(card)
    assert ("Approve all remaining (6)", "approve_all", {"caseId": case.id, "pending": case.pending_fingerprint}) in _buttons(card)
    assert len(_buttons(card)) == 4


def test_approve_all_counts_only_pending_items_and_disappears_for_the_last_one() -> None:
    items = [decided(legacy_item("a"), Decision.APPROVED), decided(legacy_item("b"), Decision.SKIPPED), legacy_item("c"), legacy_item("d")]
    case = make_case(items)
    assert ("Approve all remaining (2)", "approve_all", {"caseId": case.id, "pending": case.pending_fingerprint}) in _buttons(
        confirmation_card(case, case.items[2], now=NOW)
    )
    case.decide(case.items[2].key, Decision.APPROVED, by=ANN, at=NOW)
    last = confirmation_card(case, case.items[3], now=NOW)
    assert "Item 4 of 4" in seen(last)
    assert [verb for _, verb, _ in _buttons(last)] == ["decide", "decide", "cancel_case"]


@pytest.mark.parametrize("item", [reservation_item(), software_past_item()], ids=["reservation", "report-only"])
def test_items_the_bot_cannot_carry_out_have_nothing_to_confirm(item: CaseItem) -> None:
    with pytest.raises(ValueError, match="needs a decision"):
        confirmation_card(make_case(), item, now=NOW)


def test_an_item_of_another_case_is_refused() -> None:
    with pytest.raises(ValueError, match="not an item of case"):
        confirmation_card(make_case([legacy_item("a")]), legacy_item("zzz"), now=NOW)


# ---- The decision, recorded ----


def test_approved() -> None:
    item = decided(legacy_item(), Decision.APPROVED)
    card = decision_recorded_card(make_case([item]), item)
    assert card["body"][0]["text"] == "✓ Approved: suspend Office 365 E3 (25 licenses) — by Bob Martin, 11:04 AM UTC"
    assert card["fallbackText"] == card["body"][0]["text"]
    assert "actions" not in card


def test_skipped() -> None:
    item = decided(nce_inside_item(), Decision.SKIPPED, minutes_ago=0)
    card = decision_recorded_card(make_case([item]), item)
    assert card["body"][0]["text"] == "Skipped: cancel Microsoft 365 Business Premium (10 licenses) — by Bob Martin, 12:00 PM UTC"


def test_not_decided_yet() -> None:
    item = azure_plan_item()
    card = decision_recorded_card(make_case([item]), item)
    assert card["body"][0]["text"] == "Waiting for a decision: cancel the Azure subscriptions of Azure plan and suspend the plan"


def test_a_decision_without_its_person_or_time_says_so() -> None:
    item = legacy_item().model_copy(update={"decision": Decision.APPROVED})
    card = decision_recorded_card(make_case([item]), item)
    assert card["body"][0]["text"] == "✓ Approved: suspend Office 365 E3 (25 licenses) — by an unknown user, not recorded"
