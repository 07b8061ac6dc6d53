"""The status card says since when a customer is half-offboarded; the notifications that keep a
half-done case from going unnoticed (cancelled, failed items, needs a person, reminder,
escalation) in every language."""

from __future__ import annotations

from datetime import timedelta

import pytest

import cards
from removal.case import CaseState, ItemError, Outcome

from .factories import NOW, make_case, make_large_case, make_worked_case
from .markdown import EVIL_NAME, live_link, markdown_texts
from .reading import visible_texts
from .schema import assert_valid_card

LOCALES = ("en-US", "fr-FR", "ru-RU")
SINCE = NOW - timedelta(days=3, hours=2)
# "Half-offboarded since …" in each language, with the date and time as the cards write them.
HALF = {"en-US": "Half-offboarded since", "fr-FR": "Retrait à moitié effectué depuis le", "ru-RU": "Клиент частично отключён с"}


def _text(card: dict) -> str:
    return "\n".join(visible_texts(card))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "state", [CaseState.EXECUTING, CaseState.WAITING, CaseState.READY, CaseState.PAUSED, CaseState.CANCELLED, CaseState.FAILED]
)
def test_the_status_card_of_a_case_that_changed_partner_center_says_since_when(locale: str, state: CaseState) -> None:
    case = make_worked_case(state)
    case.changes_since = SINCE
    card = cards.status_card(case, now=NOW, locale=locale)
    assert_valid_card(card)
    assert f"{HALF[locale]} {cards.format_datetime(SINCE, locale)}" in _text(card)


@pytest.mark.parametrize("locale", LOCALES)
def test_nothing_done_or_removed_is_not_half_offboarded(locale: str) -> None:
    untouched = make_case(state=CaseState.AWAITING_APPROVAL)
    untouched.changes_since = SINCE
    removed = make_worked_case(CaseState.READY)
    removed.changes_since = SINCE
    removed.move_to(CaseState.REMOVING)
    removed.move_to(CaseState.REMOVED)
    for case in (untouched, removed):
        assert HALF[locale] not in _text(cards.status_card(case, now=NOW, locale=locale))


def test_a_case_stored_before_the_time_was_kept_counts_from_the_decision_that_let_it_run() -> None:
    case = make_worked_case(CaseState.WAITING)
    assert case.changes_since is None
    latest = max(item.decided_at for item in case.done if item.decided_at)
    assert cards.half_offboarded_since(case) == latest
    assert cards.format_datetime(latest) in _text(cards.status_card(case, now=NOW))


@pytest.mark.parametrize("locale", LOCALES)
def test_a_cancelled_case_is_announced_with_what_stays_done(locale: str) -> None:
    case = make_worked_case(CaseState.CANCELLED)
    card = cards.notification_card("cancelled", case, now=NOW, items=case.done, locale=locale)
    assert_valid_card(card)
    text = _text(card)
    assert cards.t(locale, "cancelled.done.heading") in text
    assert all(item.name in text for item in case.done)
    assert HALF[locale] in text
    nothing = cards.notification_card("cancelled", make_case(state=CaseState.CANCELLED), now=NOW, items=[], locale=locale)
    assert cards.t(locale, "cancelled.nothing_done") in _text(nothing) and HALF[locale] not in _text(nothing)


def test_a_long_list_is_cut_and_counted() -> None:
    case = make_large_case(worked=True)
    done = [item.model_copy(update={"outcome": Outcome.DONE}) for item in case.items[:40]]
    card = cards.notification_card("cancelled", case, now=NOW, items=done)
    assert_valid_card(card)
    assert cards.t("en-US", "blocked.more", count=40 - cards.notification.MAX_ITEM_LINES) in _text(card)
    failed = cards.notification_card("items_failed", case, now=NOW, items=done)
    assert_valid_card(failed)
    assert cards.card_size_bytes(failed) < cards.MAX_CARD_BYTES


@pytest.mark.parametrize("locale", LOCALES)
def test_failed_items_are_announced_with_partner_center_s_words(locale: str) -> None:
    case = make_worked_case(CaseState.WAITING)
    card = cards.notification_card("items_failed", case, now=NOW, items=case.failed, locale=locale)
    assert_valid_card(card)
    [failed] = case.failed
    assert failed.error is not None
    assert failed.error.correlation_id in _text(card) and "Exchange Online" in _text(card)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_case_that_needs_a_person_says_why(locale: str) -> None:
    case = make_worked_case(CaseState.FAILED)
    case.error = ItemError(description="Partner Center did not answer on 5 attempts in a row", reason="unavailable_repeatedly")
    card = cards.notification_card("needs_person", case, now=NOW, locale=locale)
    assert_valid_card(card)
    assert cards.t(locale, "error.reason.unavailable_repeatedly") in _text(card)
    # A reason the catalog does not have (yet) is not shown, and does not stop the notification.
    case.error = ItemError(description="Something new", reason="not_in_the_catalog")
    assert "Something new" in _text(cards.notification_card("needs_person", case, now=NOW, locale=locale))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("state", [CaseState.AWAITING_APPROVAL, CaseState.READY])
def test_a_reminder_and_an_escalation_say_since_when_and_who_is_asked(locale: str, state: CaseState) -> None:
    case = make_case(state=state)
    case.state_since = SINCE
    reminder = cards.notification_card("waiting_reminder", case, now=NOW, locale=locale)
    escalation = cards.notification_card("escalation", case, now=NOW, approvers=["Bob Approver", EVIL_NAME], locale=locale)
    for card in (reminder, escalation):
        assert_valid_card(card)
        assert cards.format_datetime(SINCE, locale) in _text(card)
    assert "Bob Approver" in _text(escalation)
    assert not [text for text in markdown_texts(escalation) if live_link(text)], "a display name is shown as written"
