"""The final confirmation, the removal in progress, and the result."""

from __future__ import annotations

from cards import cancelled_card, final_confirmation_card, removing_card, result_card
from removal.case import CaseState

from .factories import ANN, BOB, CONSEQUENCES, make_case, make_large_case, make_removed_case, make_worked_case
from .reading import buttons, seen


def test_final_confirmation() -> None:
    case = make_case([], state=CaseState.READY)
    card = final_confirmation_card(case)
    text = seen(card)
    assert card["body"][0]["text"] == "Nothing blocks any more. Remove the reseller relationship with Contoso Ltd?"
    assert (
        "This cannot be undone from our side: only the customer can re-establish the relationship, by accepting a new relationship request from you."
        in text
    )
    for consequence in CONSEQUENCES:
        assert consequence in text
    assert "Requested by Ann Lee on Nov 21, 2026." in text
    assert [(b["title"], b["verb"], b["data"]) for b in buttons(card)] == [
        ("Remove relationship", "confirm_removal", {"caseId": case.id}),
        ("Not now", "cancel_case", {"caseId": case.id}),
    ]


def test_removing() -> None:
    card = removing_card(make_case(state=CaseState.REMOVING, approved_by=BOB))
    assert card["body"][0]["text"] == "Removing the reseller relationship with Contoso Ltd…"
    assert "Approved by Bob Martin." in seen(card)
    assert not buttons(card)


def test_result_says_who_when_and_gives_the_relationship_request_link() -> None:
    case = make_removed_case()
    card = result_card(case)
    text = seen(card)
    assert card["body"][0]["text"] == "The reseller relationship with Contoso Ltd is removed"
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts == {
        "Customer": "Contoso Ltd",
        "Tenant id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "Requested by": ANN.name,
        "Approved by": BOB.name,
        "Removed on": "Nov 21, 2026, 11:56 AM UTC",
        "Correlation id": "e3f1a2b4-6c7d-4e8f-9a0b-1c2d3e4f5a6b",
    }
    assert "Their global admin must accept it" in text
    assert case.relationship_request_url in [element.get("text") for element in card["body"]]
    assert buttons(card) == [{"type": "Action.OpenUrl", "title": "Relationship request link", "url": case.relationship_request_url}]


def test_result_without_a_link_says_where_to_find_it() -> None:
    card = result_card(make_removed_case(url=""))
    assert not buttons(card)
    assert "The relationship request link could not be read." in seen(card)


def test_result_with_missing_facts_says_not_recorded() -> None:
    case = make_removed_case().model_copy(update={"approved_by": None, "removed_at": None, "removal_correlation_id": ""})
    facts = {fact["title"]: fact["value"] for fact in result_card(case)["body"][1]["facts"]}
    assert facts["Approved by"] == facts["Removed on"] == "not recorded"
    assert "Correlation id" not in facts


def test_cancelled_before_anything_ran() -> None:
    card = cancelled_card(make_case(state=CaseState.CANCELLED))
    assert card["body"][0]["text"] == "The removal of the reseller relationship with Contoso Ltd is cancelled"
    assert "Nothing was changed in Partner Center." in seen(card)
    assert not buttons(card)


def test_cancelled_after_work_lists_what_stays_done() -> None:
    text = seen(cancelled_card(make_worked_case(CaseState.CANCELLED)))
    assert "- suspend Office 365 E1 (25 licenses)" in text
    assert "turn off auto-renew for Microsoft 365 E5 (1 license)" in text
    assert "Exchange Online" not in text  # failed, so not done
    assert "Suspended subscriptions can be reactivated in Partner Center if needed." in text


def test_cancelled_with_many_done_items_counts_the_rest() -> None:
    case = make_large_case(worked=True)
    assert f"…and {len(case.done) - 15:,} more items." in seen(cancelled_card(case))
