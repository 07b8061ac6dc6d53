"""Still blocked: what stands in the way, why, until when, and what to do next."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards import AZURE_RESERVATIONS_URL, blocking_reason, still_blocked_card
from cards.waiting import MAX_BLOCKED_LINES
from removal.case import CaseItem, CaseState, Decision, Outcome

from .factories import (
    NOW,
    azure_plan_item,
    decided,
    failed,
    legacy_item,
    make_case,
    make_large_case,
    make_worked_case,
    nce_inside_item,
    nce_past_item,
    nce_waiting_item,
    reservation_item,
    software_past_item,
)
from .reading import buttons, seen


def test_title_and_every_reason() -> None:
    card = still_blocked_card(make_worked_case(CaseState.WAITING), now=NOW)
    text = seen(card)
    assert card["body"][0]["text"] == "The reseller relationship with Contoso Ltd cannot be removed yet"
    assert "Exchange Online (Plan 1) (25 licenses): the action failed." in text
    assert "Partner Center error 2055: The subscription was changed by someone else." in text
    assert "Correlation id: b7e1c9a2-5d3f-4c1e-8a6b-0f2d4e6a8c10" in text
    assert "Azure plan: skipped by Carol Diaz on Nov 21, 2026; it is still active." in text
    assert "Visio Plan 2 (1 license): nobody has approved or skipped it yet." in text
    assert "Windows Server 2022 Standard - 16 Core License Pack (2 units): approved, not carried out yet." in text
    assert "Microsoft 365 Business Premium (10 licenses): being carried out now." in text
    assert f"a person must cancel it in the [Azure portal]({AZURE_RESERVATIONS_URL})" in text
    assert "SQL Server" not in text  # reported only, does not block
    assert "Office 365 E1" not in text  # done


def test_waiting_items_give_their_dates_and_the_next_step_gives_the_last_one() -> None:
    case = make_case([nce_waiting_item("a", term_days=120), nce_waiting_item("b", term_days=30)], state=CaseState.WAITING)
    text = seen(still_blocked_card(case, now=NOW))
    assert (
        "Teams Premium (40 licenses): a new-commerce subscription past its cancellation window; it must run until its term ends on Mar 21, 2027 (in 120 days)."
        in text
    )
    assert "it must run until its term ends on Dec 21, 2026 (in 30 days)." in text
    assert "Type **remove contoso.onmicrosoft.com** again after Mar 21, 2027 (in 120 days)." in text
    assert "Offboard also checks again on its own" in text
    assert "Look at the failed" not in text and "Azure portal" not in text


def test_auto_renew_turned_off_still_waits_for_the_term_end() -> None:
    item = decided(nce_past_item(), Decision.APPROVED, outcome=Outcome.DONE)
    assert blocking_reason(item) == "wait"
    text = seen(still_blocked_card(make_case([item]), now=NOW))
    assert (
        "Microsoft 365 E5 (1 license): a new-commerce subscription past its cancellation window; it must run until its term ends on Nov 24, 2026 (in 3 days)."
        in text
    )
    assert "again after Nov 24, 2026 (in 3 days)" in text


def test_a_waiting_item_without_a_date_says_so() -> None:
    item = nce_waiting_item().model_copy(update={"term_ends": None})
    text = seen(still_blocked_card(make_case([item]), now=NOW))
    assert "(Partner Center gave no date)" in text
    assert "again once their terms have ended" in text


def test_reservations_point_to_the_azure_portal() -> None:
    card = still_blocked_card(make_case([reservation_item()]), now=NOW)
    assert "Cancel the reservations in the Azure portal, then type **remove contoso.onmicrosoft.com** again." in seen(card)
    assert buttons(card) == [{"type": "Action.OpenUrl", "title": "Open Azure reservations", "url": AZURE_RESERVATIONS_URL}]


def test_failed_and_skipped_items_ask_to_look_and_try_again() -> None:
    case = make_case([failed(legacy_item()), decided(nce_inside_item(), Decision.SKIPPED)])
    card = still_blocked_card(case, now=NOW)
    assert "Look at the failed, skipped and undecided items above, then type **remove contoso.onmicrosoft.com** again." in seen(card)
    assert not buttons(card)


def test_a_long_list_is_cut_and_counted() -> None:
    card = still_blocked_card(make_large_case(worked=True), now=NOW)
    blocked = [item for item in make_large_case(worked=True).items if blocking_reason(item)]
    assert f"…and {len(blocked) - MAX_BLOCKED_LINES:,} more items." in seen(card)
    assert len([element for element in card["body"] if element["type"] == "Container"]) == MAX_BLOCKED_LINES


def test_customer_without_domain_is_named_by_tenant_id() -> None:
    case = make_case([reservation_item()], customer=make_case().customer.model_copy(update={"domain": ""}))
    assert "type **remove 3f2504e0-4f89-11d3-9a0c-0305e82c3301** again" in seen(still_blocked_card(case, now=NOW))


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (legacy_item(), "pending"),
        (decided(legacy_item(), Decision.APPROVED), "queued"),
        (decided(legacy_item(), Decision.APPROVED, outcome=Outcome.RUNNING), "running"),
        (decided(legacy_item(), Decision.APPROVED, outcome=Outcome.DONE), None),
        (failed(azure_plan_item()), "failed"),
        (decided(azure_plan_item(), Decision.SKIPPED), "skipped"),
        (nce_waiting_item(), "wait"),
        (decided(nce_past_item(), Decision.APPROVED, outcome=Outcome.DONE), "wait"),
        (reservation_item(), "reservation"),
        (software_past_item(), None),
    ],
    ids=lambda value: value.key if isinstance(value, CaseItem) else str(value),
)
def test_blocking_reason(item: CaseItem, reason: str | None) -> None:
    assert blocking_reason(item) == reason


def test_past_dates_read_as_past() -> None:
    item = nce_waiting_item().model_copy(update={"term_ends": NOW - timedelta(days=2)})
    assert "(2 days ago)" in seen(still_blocked_card(make_case([item]), now=NOW))
