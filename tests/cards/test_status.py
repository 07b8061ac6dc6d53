"""The status of execution: state in words, counts, failed items first, paging."""

from __future__ import annotations

from typing import Any

import pytest

from cards import MAX_CARD_BYTES, card_size_bytes, item_progress, status_card
from removal.case import CaseState, ItemError

from .factories import NOW, make_case, make_large_case, make_worked_case
from .reading import buttons, seen, visible_texts


def _counts(card: dict[str, Any]) -> dict[str, str]:
    [facts] = [element for element in card["body"] if element["type"] == "FactSet"]
    return {fact["title"]: fact["value"] for fact in facts["facts"]}


def _lines(card: dict[str, Any]) -> list[str]:
    return [element["items"][0]["text"] for element in card["body"] if element["type"] == "Container"]


def test_state_and_counts() -> None:
    card = status_card(make_worked_case(), now=NOW)
    assert card["body"][0]["text"] == "Removal of the reseller relationship with Contoso Ltd"
    assert "Updated 12:00 PM UTC" in seen(card)
    counts = _counts(card)
    assert counts == {
        "State": "Carrying out the approved actions",
        "Done": "2",
        "Failed": "1",
        "Running": "1",
        "Waiting to run": "1",
        "Skipped": "1",
        "Waiting for a decision": "1",
        "For a person to clear": "2",
        "For information only": "1",
    }
    assert list(counts)[1:6] == ["Done", "Failed", "Running", "Waiting to run", "Skipped"]


def test_the_five_counts_are_always_there_the_others_only_when_needed() -> None:
    counts = _counts(status_card(make_case([]), now=NOW))
    assert counts == {"State": "Waiting for approvals", "Done": "0", "Failed": "0", "Running": "0", "Waiting to run": "0", "Skipped": "0"}
    assert "There is nothing for Offboard to carry out." in seen(status_card(make_case([]), now=NOW))


def test_lines_failed_first_with_partner_center_details() -> None:
    card = status_card(make_worked_case(), now=NOW)
    lines = _lines(card)
    assert lines[0] == "✗ Failed: suspend Exchange Online (Plan 1) (25 licenses)"
    assert lines[1] == "… Running: cancel Microsoft 365 Business Premium (10 licenses)"
    assert "— Skipped: cancel the Azure subscriptions of Azure plan and suspend the plan (by Carol Diaz)" in lines
    assert lines[-3:-1] == ["✓ Done: suspend Office 365 E1 (25 licenses)", "✓ Done: turn off auto-renew for Microsoft 365 E5 (1 license)"]
    assert lines[-1] == "Not blocking: SQL Server 2022 Standard (4 units)"
    failed_block = next(element for element in card["body"] if element["type"] == "Container")
    assert [block["text"] for block in failed_block["items"][1:]] == [
        "Partner Center error 2055: The subscription was changed by someone else.",
        "Correlation id: b7e1c9a2-5d3f-4c1e-8a6b-0f2d4e6a8c10",
        "Request id: 9d8c7b6a-0000-4000-8000-123456789abc",
    ]


def test_items_for_a_person_say_what_to_do() -> None:
    text = seen(status_card(make_worked_case(), now=NOW))
    assert "For a person: Teams Premium (40 licenses)" in text
    assert "A person must wait until its term ends on Mar 21, 2027 (in 120 days)." in text


def test_a_failure_without_a_code_or_ids() -> None:
    case = make_worked_case()
    case.items[1].error = ItemError(description="The connection was reset.")
    text = seen(status_card(case, now=NOW))
    assert "Partner Center error: The connection was reset." in text


def test_the_case_error_is_shown() -> None:
    case = make_case(state=CaseState.FAILED, error=ItemError(description="Removal refused", code="800002", correlation_id="c-9"))
    text = seen(status_card(case, now=NOW))
    assert "Partner Center error 800002: Removal refused" in text and "Correlation id: c-9" in text


@pytest.mark.parametrize("state", list(CaseState))
def test_every_state_has_its_own_words(state: CaseState) -> None:
    words = _counts(status_card(make_worked_case(state), now=NOW))["State"]
    others = {_counts(status_card(make_worked_case(other), now=NOW))["State"] for other in CaseState if other is not state}
    assert words and words not in others and "_" not in words


def test_1000_items_page_by_page_failed_first_and_small() -> None:
    case = make_large_case(worked=True)
    first = status_card(case, now=NOW)
    assert "Items 1–20 of 1,000 (page 1 of 50)" in seen(first)
    assert all(line.startswith("✗ Failed") for line in _lines(first))
    assert [(b["verb"], b["data"]) for b in buttons(first)] == [("status_page", {"caseId": "case1000", "page": 1})]
    middle = status_card(case, page=10, now=NOW)
    assert [b["data"]["page"] for b in buttons(middle)] == [9, 11]
    last = status_card(case, page=49, now=NOW)
    assert "Items 981–1,000 of 1,000 (page 50 of 50)" in seen(last)
    assert [(b["title"], b["data"]["page"]) for b in buttons(last)] == [("Previous page", 48)]
    for page in range(50):
        assert card_size_bytes(status_card(case, page=page, now=NOW)) < MAX_CARD_BYTES


def test_item_progress_of_each_item() -> None:
    progress = [item_progress(item) for item in make_worked_case().items]
    assert progress == ["done", "failed", "running", "queued", "skipped", "done", "pending", "manual", "manual", "info"]


def test_no_paging_for_a_short_list() -> None:
    card = status_card(make_worked_case(), now=NOW)
    assert not buttons(card)
    assert not [value for value in visible_texts(card) if value.startswith("Items ")]


def test_a_page_of_long_failures_still_fits() -> None:
    case = make_large_case(worked=True)
    for item in case.items:
        if item.error is not None:
            item.error = item.error.model_copy(update={"description": "Partner Center said no. " * 400})
    card = status_card(case, page_size=1000, now=NOW)
    assert card_size_bytes(card) < MAX_CARD_BYTES
    assert "Partner Center said no. Partner" in seen(card) and "…" in seen(card)
