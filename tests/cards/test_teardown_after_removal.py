"""What the cards say about a case whose reseller relationship was removed while its access teardown
(the "after" timing) runs, pauses or is given up on, and about the teardown timing once an item of
it was decided, in English, French and Russian.

A failed or given-up case whose relationship is gone must not read as "the relationship is still
in place": the status card and the notifications say that it was removed, when, and give the
relationship request link, as the result card would have.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cards import format_datetime, notification_card, paused_card, plan_card, removing_card, result_card, status_card, t
from cards.texts import catalog_messages
from partner_center.teardown import Service
from removal.case import NEEDS_PERSON, CaseItem, CaseState, Decision, ItemError, Outcome, Pause, RemovalCase, TeardownTiming

from .factories import NOW, decided, legacy_item, make_worked_case
from .reading import buttons, seen
from .schema import assert_valid_card
from .teardown_items import access_case, contacts_item, dap_item, gdap_item, guest_item

LOCALES = ("en-US", "fr-FR", "ru-RU")
REMOVED_AT = NOW - timedelta(hours=1, minutes=20)
LINK = (
    "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=p-1&msppId=0#/BillingAccounts/partner-invitation"
)
# The half-offboarded sentence in each language, up to its date.
HALF = {"en-US": "Half-offboarded since", "fr-FR": "Retrait à moitié effectué depuis le", "ru-RU": "Клиент частично отключён с"}


def _link_buttons(card: dict[str, Any]) -> list[str]:
    return [button["url"] for button in buttons(card) if button["type"] == "Action.OpenUrl" and button["url"] == LINK]


def _timing_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for button in buttons(card) if button.get("verb") == "teardown_timing"]


def _given_up_after_the_removal(*, link: str = LINK, state: CaseState = CaseState.FAILED) -> RemovalCase:
    """Removed 1h20 ago; the teardown after it carried out the contacts, then Graph stopped
    answering and the bot gave up: guests, DAP and GDAP remain."""
    items: list[CaseItem] = [
        decided(contacts_item(), Decision.APPROVED, outcome=Outcome.DONE),
        decided(guest_item(), Decision.APPROVED),
        decided(dap_item(), Decision.APPROVED),
        decided(gdap_item(), Decision.APPROVED),
    ]
    return access_case(
        items,
        blockers=[decided(legacy_item(), Decision.APPROVED, outcome=Outcome.DONE)],
        state=state,
        removed_at=REMOVED_AT,
        relationship_request_url=link,
        changes_since=NOW - timedelta(hours=3),
        error=ItemError(description="Microsoft Graph did not answer on 5 attempts in a row", reason=NEEDS_PERSON),
    )


# ---- The timing, once an item of the teardown is decided ----


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("decision", [Decision.APPROVED, Decision.SKIPPED])
@pytest.mark.parametrize("timing", list(TeardownTiming))
def test_once_a_teardown_item_is_decided_the_plan_states_the_timing_without_a_button(
    locale: str, decision: Decision, timing: TeardownTiming
) -> None:
    items = [decided(guest_item(), decision), guest_item("u-max", "Max Mustermann"), dap_item(), gdap_item()]
    card = plan_card(access_case(items, teardown_timing=timing), now=NOW, locale=locale)
    assert_valid_card(card)
    assert _timing_buttons(card) == []
    assert t(locale, f"access.timing.{timing.value}") in seen(card)
    assert t(locale, "access.timing.settled") in seen(card)
    # Before any decision, the same plan offers the switch (and no "settled" note).
    undecided = plan_card(access_case([guest_item(), dap_item()], teardown_timing=timing), now=NOW, locale=locale)
    assert len(_timing_buttons(undecided)) == 1 and t(locale, "access.timing.settled") not in seen(undecided)


def test_a_decided_blocker_alone_leaves_the_timing_open() -> None:
    # Only what was decided under a timing fixes it: a blocker's approval says nothing about when
    # the access is torn down.
    case = access_case([guest_item(), dap_item()], blockers=[decided(legacy_item(), Decision.APPROVED)])
    [switch] = _timing_buttons(plan_card(case, now=NOW))
    assert switch["data"] == {"caseId": case.id, "timing": "before"}


# ---- Half-offboarded is about a relationship still in place ----


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("state", [CaseState.REMOVING, CaseState.PAUSED, CaseState.FAILED])
def test_a_case_whose_relationship_is_removed_is_never_called_half_offboarded(locale: str, state: CaseState) -> None:
    case = make_worked_case(state)
    case.changes_since = NOW - timedelta(days=1)
    case.error = ItemError(description="Microsoft Graph did not answer", reason=NEEDS_PERSON)
    # Still in place: the notification says so (the premise of the check below).
    assert HALF[locale] in seen(notification_card("needs_person", case, now=NOW, locale=locale))

    case.removed_at = REMOVED_AT
    for card in (
        notification_card("needs_person", case, now=NOW, locale=locale),
        notification_card("failed", case, now=NOW, locale=locale),
        status_card(case, now=NOW, locale=locale),
    ):
        assert_valid_card(card)
        assert HALF[locale] not in seen(card)


# ---- Given up on after the removal ----


@pytest.mark.parametrize("locale", LOCALES)
def test_the_status_card_of_a_teardown_given_up_on_says_the_relationship_was_removed_with_the_link(locale: str) -> None:
    case = _given_up_after_the_removal()
    card = status_card(case, now=NOW, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    assert t(locale, "case.removed_on", when=format_datetime(REMOVED_AT, locale)) in text
    assert t(locale, "result.link.explain") in text and LINK in text
    assert _link_buttons(card) == [LINK]
    assert t(locale, "state.failed") in text  # the case did fail: it says both
    assert HALF[locale] not in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["needs_person", "failed"])
def test_the_notification_of_a_teardown_given_up_on_says_the_relationship_was_removed_with_the_link(locale: str, kind: Any) -> None:
    case = _given_up_after_the_removal()
    card = notification_card(kind, case, now=NOW, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    assert t(locale, f"notify.{kind}.removed.title", customer="Contoso Ltd") in text
    assert t(locale, f"notify.{kind}.removed.text", customer="Contoso Ltd") in text
    # Not the words of a removal that failed (the relationship is gone).
    assert t(locale, f"notify.{kind}.title", customer="Contoso Ltd") not in text
    assert t(locale, f"notify.{kind}.text", customer="Contoso Ltd") not in text
    assert t(locale, "case.removed_on", when=format_datetime(REMOVED_AT, locale)) in text
    assert LINK in text and _link_buttons(card) == [LINK]
    assert HALF[locale] not in text
    assert "Microsoft Graph did not answer on 5 attempts in a row" in text  # why, as before


def test_the_link_is_said_the_same_way_as_on_the_result_card() -> None:
    case = _given_up_after_the_removal()
    result = result_card(case.model_copy(update={"state": CaseState.REMOVED}))
    for card in (status_card(case, now=NOW), notification_card("needs_person", case, now=NOW)):
        for line in (t("en-US", "result.link.explain"), LINK):
            assert line in seen(result) and line in seen(card)
    assert [b["title"] for b in buttons(result) if b["type"] == "Action.OpenUrl"] == [t("en-US", "result.link.button")]
    assert t("en-US", "result.link.button") in [b["title"] for b in buttons(status_card(case, now=NOW))]


@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_link_the_cards_say_where_to_get_it(locale: str) -> None:
    case = _given_up_after_the_removal(link="")
    for card in (status_card(case, now=NOW, locale=locale), notification_card("needs_person", case, now=NOW, locale=locale)):
        assert t(locale, "case.removed_on", when=format_datetime(REMOVED_AT, locale)) in seen(card)
        assert t(locale, "result.link.missing") in seen(card)
        assert not [button for button in buttons(card) if button["type"] == "Action.OpenUrl" and "partner-invitation" in button["url"]]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_case_given_up_on_before_the_removal_says_nothing_of_a_removal(locale: str) -> None:
    case = _given_up_after_the_removal().model_copy(update={"removed_at": None, "relationship_request_url": ""})
    for card in (status_card(case, now=NOW, locale=locale), notification_card("needs_person", case, now=NOW, locale=locale)):
        assert t(locale, "case.removed_on", when=format_datetime(REMOVED_AT, locale)) not in seen(card)
        assert t(locale, "result.link.explain") not in seen(card) and t(locale, "result.link.missing") not in seen(card)
    notice = seen(notification_card("needs_person", case, now=NOW, locale=locale))
    assert t(locale, "notify.needs_person.title", customer="Contoso Ltd") in notice
    assert HALF[locale] in notice  # the relationship is still there, and Partner Center was changed


# ---- While the teardown runs, or is paused ----


@pytest.mark.parametrize("locale", LOCALES)
def test_the_removing_card_after_the_removal_says_it_was_removed_and_the_access_is_being_torn_down(locale: str) -> None:
    case = _given_up_after_the_removal(state=CaseState.REMOVING).model_copy(update={"error": None})
    card = removing_card(case, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    assert t(locale, "removing.teardown.title", customer="Contoso Ltd") in text
    assert t(locale, "case.removed_on", when=format_datetime(REMOVED_AT, locale)) in text
    assert t(locale, "removing.teardown") in text
    # Partner Center is not processing anything any more, nor is the relationship being removed.
    assert t(locale, "removing.body") not in text
    assert t(locale, "removing.title", customer="Contoso Ltd") not in text

    before = seen(removing_card(case.model_copy(update={"removed_at": None}), locale=locale))
    assert t(locale, "removing.title", customer="Contoso Ltd") in before and t(locale, "removing.body") in before
    assert t(locale, "removing.teardown") not in before and t(locale, "removing.teardown.title", customer="Contoso Ltd") not in before


def test_the_removing_card_in_english_reads_as_a_person_reads_it() -> None:
    case = _given_up_after_the_removal(state=CaseState.REMOVING).model_copy(update={"error": None})
    text = seen(removing_card(case))
    assert "Removing the partner's access to Contoso Ltd…" in text
    assert f"The reseller relationship was removed on {format_datetime(REMOVED_AT)}." in text
    assert "processing" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_teardown_paused_after_the_removal_says_the_relationship_is_removed(locale: str) -> None:
    error = ItemError(description="Microsoft Graph is not answering", status=503)
    case = _given_up_after_the_removal(state=CaseState.PAUSED).model_copy(
        update={"error": None, "pause": Pause(since=NOW, resume_to=CaseState.REMOVING, error=error)}
    )
    card = paused_card(case, now=NOW, locale=locale)
    assert_valid_card(card)
    assert t(locale, "case.removed_on", when=format_datetime(REMOVED_AT, locale)) in seen(card)


# ---- Russian: "the customer's tenant" ----


def test_russian_says_the_customer_s_tenant_naturally() -> None:
    assert "в среде клиента" in t("ru-RU", "result.access.none")
    assert "в среде клиента" in t("ru-RU", "confirm.effect.remove_dap")
    # "клиент" is both "tenant" and "customer": "the customer's tenant" as "клиент клиента" reads
    # as "the customer's customer", and "your tenant" as "your customer".
    awkward = ("клиенте клиента", "клиента клиента", "вашего клиента")
    found = [(key, form) for key, forms in catalog_messages("ru").items() for form in forms if any(a in form for a in awkward)]
    assert found == []


# ---- Microsoft Graph's silence and refusals are said as Graph's ----


@pytest.mark.parametrize("locale", LOCALES)
def test_a_teardown_paused_by_microsoft_graph_says_graph_is_not_answering(locale: str) -> None:
    error = ItemError(description="Microsoft Graph did not answer: ServerDisconnectedError", correlation_id="g-1")
    case = _given_up_after_the_removal(state=CaseState.PAUSED).model_copy(
        update={"error": None, "pause": Pause(since=NOW, resume_to=CaseState.REMOVING, error=error, service=Service.GRAPH)}
    )
    card = paused_card(case, now=NOW, locale=locale)
    assert_valid_card(card)
    text = seen(card)
    assert t(locale, "paused.body.graph") in text
    assert t(locale, "paused.body") not in text  # not "Partner Center is not answering"
    assert t(locale, "error.graph.no_code", description=error.description) in text


def test_a_case_paused_by_partner_center_still_says_partner_center() -> None:
    error = ItemError(description="Partner Center did not answer")
    case = _given_up_after_the_removal(state=CaseState.PAUSED).model_copy(
        update={"error": None, "pause": Pause(since=NOW, resume_to=CaseState.REMOVING, error=error)}
    )
    text = seen(paused_card(case, now=NOW))
    assert "Partner Center is not answering" in text
    assert "Microsoft Graph" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_teardown_item_graph_refused_names_the_permission_to_grant(locale: str) -> None:
    needs = "DelegatedAdminRelationship.ReadWrite.All (delegated)"
    error = ItemError(
        description="Insufficient privileges to complete the operation.", code="Authorization_RequestDenied", status=403, needs=needs
    )
    item = decided(gdap_item(), Decision.APPROVED, outcome=Outcome.FAILED).model_copy(update={"error": error})
    case = make_worked_case(CaseState.WAITING)
    case.items.append(item)
    text = seen(status_card(case, now=NOW, locale=locale))
    assert t(locale, "error.needs", needs=needs) in text
    assert "Microsoft Graph" in text
