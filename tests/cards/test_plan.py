"""The removal plan: the customer, counts, items grouped by kind, what removal does, paging."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cards import AZURE_RESERVATIONS_URL, MAX_CARD_BYTES, MAX_PAGE_SIZE, card_size_bytes, plan_card
from removal.case import CaseState

from .factories import CONSEQUENCES, NOW, every_row, legacy_item, make_case, make_large_case, reservation_item
from .reading import buttons, seen, visible_texts
from .schema import assert_valid_card


def _verbs(card: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(b["verb"], b["data"].get("page")) for b in buttons(card) if b["type"] == "Action.Execute"]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {fact["title"]: fact["value"] for element in card["body"] if element["type"] == "FactSet" for fact in element["facts"]}


def test_the_customer_and_the_title() -> None:
    card = plan_card(make_case(), now=NOW)
    assert card["body"][0]["text"] == "Removal plan for Contoso Ltd"
    assert card["fallbackText"] == "Removal plan for Contoso Ltd"
    facts = _facts(card)
    assert facts["Customer"] == "Contoso Ltd"
    assert facts["Domain"] == "contoso.onmicrosoft.com"
    assert facts["Tenant id"] == "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def test_counts_per_kind() -> None:
    facts = _facts(plan_card(make_case(), now=NOW))
    assert facts["Active legacy subscriptions"] == "1"
    assert facts["New-commerce subscriptions past their cancellation window"] == "2"
    assert facts["Azure plans"] == "2"
    assert facts["Azure reservations"] == "1"
    assert facts["Software purchases past their cancellation window"] == "1"


def test_items_are_grouped_under_their_kind_in_table_order() -> None:
    shuffled = list(reversed(every_row()))
    texts = visible_texts(plan_card(make_case(shuffled), now=NOW))
    headings = [
        "Active legacy subscriptions",
        "New-commerce subscriptions inside their cancellation window",
        "Azure plans",
        "Azure reservations",
    ]
    last_heading_positions = [max(i for i, value in enumerate(texts) if value == heading) for heading in headings]
    assert last_heading_positions == sorted(last_heading_positions)
    assert texts.index("**Office 365 E3 (25 licenses)**") == last_heading_positions[0] + 1


def test_each_line_has_name_quantity_status_proposal_and_dates() -> None:
    text = seen(plan_card(make_case(), now=NOW))
    assert "**Office 365 E3 (25 licenses)**" in text
    assert "Status in Partner Center: active" in text
    assert "Proposed: suspend it. It can be reactivated later." in text
    assert "**Microsoft 365 Business Premium (10 licenses)**" in text
    assert "Cancellation window ends Nov 24, 2026 (in 3 days)" in text
    assert "Proposed: cancel it. This is irreversible." in text
    assert "Cancellation window ended Nov 1, 2026 (20 days ago)" in text
    assert "Proposed: cancel its 3 active Azure subscriptions (their resources stop; irreversible), then suspend the plan." in text
    assert "Proposed: cancel the order. This is irreversible." in text


def test_items_the_bot_cannot_clear_say_what_a_person_must_do_and_until_when() -> None:
    card = plan_card(make_case(), now=NOW)
    text = seen(card)
    assert "A person must wait until its term ends on Mar 21, 2027 (in 120 days)." in text  # auto-renew already off
    assert "a person must wait until its term ends on Nov 24, 2026 (in 3 days)" in text  # turn off auto-renew first
    assert f"a person must cancel the reservation in the [Azure portal]({AZURE_RESERVATIONS_URL})" in text
    assert "Expires Dec 26, 2027 (in 400 days)" in text
    assert "It does not block the removal." in text  # software past its window: reported
    [portal] = [b for b in buttons(card) if b["type"] == "Action.OpenUrl"]
    assert portal == {"type": "Action.OpenUrl", "title": "Open Azure reservations", "url": AZURE_RESERVATIONS_URL}


def test_no_portal_button_without_reservations() -> None:
    card = plan_card(make_case([legacy_item()]), now=NOW)
    assert not [b for b in buttons(card) if b["type"] == "Action.OpenUrl"]


def test_what_removing_the_relationship_does() -> None:
    text = seen(plan_card(make_case(), now=NOW))
    assert "What removing the relationship does" in text
    for consequence in CONSEQUENCES:
        assert consequence in text


def test_dry_run_says_nothing_changed_and_how_to_remove() -> None:
    card = plan_card(make_case(), dry_run=True, now=NOW)
    text = seen(card)
    assert "This is a dry run: nothing was changed." in text
    assert "To remove the relationship, type **remove contoso.onmicrosoft.com**." in text
    assert "cancel_case" not in [verb for verb, _ in _verbs(card)]


def test_a_real_plan_can_be_cancelled_while_open() -> None:
    assert ("cancel_case", None) in _verbs(plan_card(make_case(), now=NOW))
    assert "Next, Offboard asks an approver to confirm each action" in seen(plan_card(make_case(), now=NOW))
    assert ("cancel_case", None) not in _verbs(plan_card(make_case(state=CaseState.CANCELLED), now=NOW))


@pytest.mark.parametrize("dry_run", [False, True])
def test_nothing_blocks(dry_run: bool) -> None:
    card = plan_card(make_case([]), dry_run=dry_run, now=NOW)
    text = seen(card)
    assert "Nothing blocks the removal." in text
    assert "What blocks the removal" not in text and "Items " not in text
    assert not [verb for verb, _ in _verbs(card) if verb == "plan_page"]


# ---- Paging ----


def test_1000_items_make_50_pages_first_page() -> None:
    card = plan_card(make_large_case(), now=NOW)
    assert "Items 1–20 of 1,000 (page 1 of 50)" in seen(card)
    assert [v for v in _verbs(card) if v[0] == "plan_page"] == [("plan_page", 1)]
    assert [b["title"] for b in buttons(card) if b.get("verb") == "plan_page"] == ["Next page"]


def test_middle_page_has_previous_and_next() -> None:
    card = plan_card(make_large_case(), page=24, now=NOW)
    assert "Items 481–500 of 1,000 (page 25 of 50)" in seen(card)
    assert [v for v in _verbs(card) if v[0] == "plan_page"] == [("plan_page", 23), ("plan_page", 25)]
    assert [b["title"] for b in buttons(card) if b.get("verb") == "plan_page"] == ["Previous page", "Next page"]


def test_last_page_has_no_next() -> None:
    card = plan_card(make_large_case(), page=49, now=NOW)
    assert "Items 981–1,000 of 1,000 (page 50 of 50)" in seen(card)
    assert [v for v in _verbs(card) if v[0] == "plan_page"] == [("plan_page", 48)]


def test_pages_out_of_range_show_the_nearest_page() -> None:
    assert "(page 50 of 50)" in seen(plan_card(make_large_case(), page=999, now=NOW))
    assert "(page 1 of 50)" in seen(plan_card(make_large_case(), page=-3, now=NOW))


def test_a_short_list_has_no_paging() -> None:
    card = plan_card(make_case(), now=NOW)
    assert "Items " not in seen(card)
    assert not [v for v in _verbs(card) if v[0] == "plan_page"]


def test_a_list_one_more_than_a_page_has_two_pages() -> None:
    case = make_case([legacy_item(f"sub-{n}", f"Product {n}") for n in range(21)])
    first, second = plan_card(case, now=NOW), plan_card(case, page=1, now=NOW)
    assert "Items 1–20 of 21 (page 1 of 2)" in seen(first)
    assert "Items 21–21 of 21 (page 2 of 2)" in seen(second)
    assert [v for v in _verbs(second) if v[0] == "plan_page"] == [("plan_page", 0)]


def test_every_item_appears_on_exactly_one_page() -> None:
    case = make_large_case()
    labels = []
    for page in range(50):
        labels += [value for value in visible_texts(plan_card(case, page=page, now=NOW)) if value.startswith("**")]
    assert len(labels) == 1000 == len(set(labels))


def test_each_page_of_1000_items_is_valid_and_under_80_kb() -> None:
    case = make_large_case()
    for page in range(50):
        card = plan_card(case, page=page, now=NOW)
        assert card_size_bytes(card) < MAX_CARD_BYTES
    assert_valid_card(card)


def test_the_page_size_is_capped_so_a_page_always_fits() -> None:
    long_names = [item.model_copy(update={"name": "Microsoft 365 E5 (no Teams) " * 30}) for item in make_large_case(300).items]
    card = plan_card(make_case(long_names), page_size=1000, now=NOW)
    assert f"Items 1–{MAX_PAGE_SIZE} of 300" in seen(card)
    assert card_size_bytes(card) < MAX_CARD_BYTES
    assert max(len(value) for value in visible_texts(card) if value.startswith("**")) < 160
    assert re.search(r"… \(\d+ licenses?\)\*\*", seen(card))


def test_the_portal_button_is_on_every_page_when_the_case_has_reservations() -> None:
    case = make_case([legacy_item(f"sub-{n}") for n in range(30)] + [reservation_item()])
    first = plan_card(case, now=NOW)
    assert "Azure reservation (VirtualMachines)" not in seen(first)  # the reservation is on page 2
    assert [b for b in buttons(first) if b["type"] == "Action.OpenUrl"]
