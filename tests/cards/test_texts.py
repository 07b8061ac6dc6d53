"""The text catalog and the date helpers: English fallback, clear errors, plural forms."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone

import pytest

from cards import format_date, format_datetime, format_time, relative_days, t
from cards.format import format_date_relative, format_number
from cards.texts import _ENGLISH, Plural, message_ids
from partner_center.blockers import Action, BlockerKind
from removal.case import CaseState, Decision

from .factories import NOW


def test_t_fills_named_placeholders() -> None:
    assert t("en-US", "plan.title", customer="Contoso Ltd") == "Removal plan for Contoso Ltd"


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "en", "fr-FR", "ru-RU", "ru_RU", "xx-YY", "", "EN-us"])
def test_t_falls_back_to_english(locale: str) -> None:
    assert t(locale, "final.remove") == "Remove relationship"


def test_t_raises_a_clear_key_error_for_an_unknown_key() -> None:
    with pytest.raises(KeyError, match=r"no card message 'plan.nope' in the text catalog"):
        t("en-US", "plan.nope")


def test_t_raises_a_clear_key_error_for_a_missing_value() -> None:
    with pytest.raises(KeyError, match=r"'plan.title' needs a value for 'customer'"):
        t("en-US", "plan.title")


def test_t_picks_the_plural_form_from_count_and_groups_digits() -> None:
    assert t("en-US", "relative.future", count=1) == "in 1 day"
    assert t("en-US", "relative.future", count=3) == "in 3 days"
    assert t("en-US", "item.licences", name="Office 365 E3", count=1) == "Office 365 E3 (1 licence)"
    assert t("en-US", "item.licences", name="Office 365 E3", count=1500) == "Office 365 E3 (1,500 licences)"
    with pytest.raises(KeyError, match="needs a 'count' value"):
        t("en-US", "relative.future")


def test_every_message_has_only_named_placeholders_and_fills_in() -> None:
    formatter = string.Formatter()
    for key in message_ids():
        message = _ENGLISH[key]
        forms = (message.one, message.other) if isinstance(message, Plural) else (message,)
        names = {name for form in forms for _, name, _, _ in formatter.parse(form) if name is not None}
        assert all(name.isidentifier() for name in names), (key, "positional placeholder")
        filled = t("en-US", key, **{name: "x" for name in names} | {"count": 2})
        assert "{" not in filled and "}" not in filled, key


def test_the_catalog_has_a_message_for_every_enum_value_the_cards_look_up() -> None:
    ids = set(message_ids())
    wanted = {f"kind.{kind.value}" for kind in BlockerKind}
    wanted |= {f"state.{state.value}" for state in CaseState}
    wanted |= {f"action.{action.value}" for action in Action} | {f"proposal.{action.value}" for action in Action}
    wanted |= {f"{part}.{action.value}" for action in Action if action.is_automatic for part in ("confirm.question", "confirm.effect", "button")}
    wanted |= {f"decided.{decision.value}" for decision in Decision}
    assert wanted <= ids, wanted - ids


def test_format_date() -> None:
    assert format_date(datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc), "en-US") == "24 Nov 2026"
    assert format_date(datetime(2026, 1, 5), "fr-FR") == "5 Jan 2026"  # naive is UTC; no French yet


def test_dates_and_times_are_shown_in_utc() -> None:
    evening_in_new_york = datetime(2026, 11, 24, 21, 4, tzinfo=timezone(timedelta(hours=-5)))
    assert format_date(evening_in_new_york) == "25 Nov 2026"
    assert format_time(evening_in_new_york) == "02:04 UTC"
    assert format_datetime(evening_in_new_york) == "25 Nov 2026, 02:04 UTC"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=3), "in 3 days"),
        (timedelta(days=-20), "20 days ago"),
        (timedelta(days=1), "tomorrow"),
        (timedelta(days=-1), "yesterday"),
        (timedelta(hours=5), "today"),
        (timedelta(days=365), "in 365 days"),
        (timedelta(days=-1000), "1,000 days ago"),
    ],
)
def test_relative_days(delta: timedelta, expected: str) -> None:
    assert relative_days(NOW + delta, NOW) == expected


def test_relative_days_counts_calendar_days() -> None:
    late = datetime(2026, 11, 21, 23, 59, tzinfo=timezone.utc)
    assert relative_days(datetime(2026, 11, 22, 0, 1, tzinfo=timezone.utc), late) == "tomorrow"


def test_date_with_relative_days() -> None:
    assert format_date_relative(NOW + timedelta(days=3), NOW) == "24 Nov 2026 (in 3 days)"
    assert format_date_relative(NOW + timedelta(days=3), None) == "24 Nov 2026"


def test_format_number() -> None:
    assert format_number(1000) == "1,000"
    assert format_number(7) == "7"
