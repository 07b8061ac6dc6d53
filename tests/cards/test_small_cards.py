"""The customer choice, the error card and the help card."""

from __future__ import annotations

from cards import (
    MAX_CHOICES,
    cancelled_card,
    case_card,
    customer_choice_card,
    error_card,
    final_confirmation_card,
    help_card,
    result_card,
    status_card,
)
from removal.case import CaseState, CustomerRef

from .factories import NOW, make_case, make_removed_case, make_worked_case
from .reading import buttons, seen

_CUSTOMERS = [CustomerRef(id=f"id-{n}", name=f"Contoso {n}", domain=f"contoso{n}.onmicrosoft.com") for n in range(12)]


def test_choice_has_one_button_per_customer_with_name_and_domain() -> None:
    card = customer_choice_card("Contoso", _CUSTOMERS[:3])
    assert card["body"][0]["text"] == "Several customers match “Contoso”"
    assert [(b["title"], b["verb"], b["data"]) for b in buttons(card)] == [
        (f"Contoso {n} (contoso{n}.onmicrosoft.com)", "choose_customer", {"customerId": f"id-{n}"}) for n in range(3)
    ]
    assert "more precise" not in seen(card)


def test_choice_shows_at_most_ten_and_asks_for_more_precision() -> None:
    card = customer_choice_card("Contoso", _CUSTOMERS)
    assert len(buttons(card)) == MAX_CHOICES == 10
    assert "Showing 10 of 12 matches. Type a more precise name, a domain or a tenant id to narrow the search." in seen(card)
    assert all(len(element["actions"]) == 1 for element in card["body"] if element["type"] == "ActionSet")


def test_choice_without_domain_and_without_matches() -> None:
    assert buttons(customer_choice_card("Fab", [CustomerRef(id="f1", name="Fabrikam")]))[0]["title"] == "Fabrikam"
    card = customer_choice_card("Nobody", [])
    assert card["body"][0]["text"] == "No customer matches “Nobody”" and not buttons(card)


def test_error_card_with_ids() -> None:
    card = error_card("Could not suspend", "Partner Center said no.", code="2055", correlation_id="corr-1", request_id="req-1")
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts == {"Error code": "2055", "Correlation id": "corr-1", "Request id": "req-1"}
    assert "give these ids to your administrator or to Microsoft support" in seen(card)
    assert card["fallbackText"].startswith("Could not suspend")


def test_error_card_without_ids_is_just_the_message() -> None:
    card = error_card("No customer found", "Nothing matches “Contso”.")
    assert [element["text"] for element in card["body"]] == ["No customer found", "Nothing matches “Contso”."]
    assert "Traceback" not in seen(card)


def test_help_lists_every_command_with_examples() -> None:
    text = seen(help_card())
    for command in ("**remove** _customer_", "**offboard** _customer_", "**plan** _customer_", "**status**", "**cancel**", "**help**"):
        assert command in text
    for example in ("**remove Contoso**", "**plan contoso.onmicrosoft.com**", "**remove 3f2504e0-"):
        assert example in text
    assert "dry run" in text


def test_a_cases_card_follows_its_state() -> None:
    asking = make_worked_case(CaseState.AWAITING_APPROVAL)
    assert "Visio Plan 2" in seen(case_card(asking, now=NOW))  # the next question
    assert case_card(make_case(state=CaseState.READY), now=NOW) == final_confirmation_card(make_case(state=CaseState.READY))
    assert case_card(make_removed_case(), now=NOW) == result_card(make_removed_case())
    cancelled = make_worked_case(CaseState.CANCELLED)
    assert case_card(cancelled, now=NOW) == cancelled_card(cancelled)
    executing = make_worked_case(CaseState.EXECUTING)
    assert case_card(executing, now=NOW) == status_card(executing, now=NOW)
