"""The text catalog and the date helpers: English fallback, clear errors, plural forms."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cards import format_date, format_datetime, format_time, relative_days, t
from cards.format import format_date_relative, format_number
from cards.texts import LANGUAGES, catalog_messages, language_of, message_ids, plural_ids
from partner_center.blockers import Action, BlockerKind
from removal.case import CaseState, Decision

from .factories import NOW


def test_t_fills_named_placeholders() -> None:
    assert t("en-US", "plan.title", customer="Contoso Ltd") == "Removal plan for Contoso Ltd"


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "en", "de-DE", "xx-YY", "", "EN-us", "zh-Hans-CN"])
def test_t_falls_back_to_english_for_a_language_without_a_catalog(locale: str) -> None:
    assert t(locale, "final.remove") == "Remove relationship"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("fr-FR", "fr"), ("fr-CA", "fr"), ("FR", "fr"), ("ru-RU", "ru"), ("ru_RU", "ru"), ("en-GB", "en"), ("de-DE", "en")],
)
def test_the_language_comes_from_the_teams_locale(locale: str, expected: str) -> None:
    assert language_of(locale) == expected


def test_french_and_russian_speak_their_own_language() -> None:
    assert t("fr-FR", "plan.title", customer="Contoso") != t("en-US", "plan.title", customer="Contoso")
    assert "Contoso" in t("fr-FR", "plan.title", customer="Contoso")
    assert t("ru-RU", "plan.title", customer="Contoso") != t("en-US", "plan.title", customer="Contoso")
    assert any("\u0400" <= char <= "\u04ff" for char in t("ru-RU", "final.remove"))


def test_t_raises_a_clear_key_error_for_an_unknown_key() -> None:
    with pytest.raises(KeyError, match=r"no card message 'plan.nope' in the text catalog"):
        t("en-US", "plan.nope")
    with pytest.raises(KeyError, match=r"no card message 'plan.nope'"):
        t("ru-RU", "plan.nope")


def test_t_raises_a_clear_key_error_for_a_missing_value() -> None:
    with pytest.raises(KeyError, match=r"'plan.title' needs a value for 'customer'"):
        t("en-US", "plan.title")


def test_t_picks_the_plural_form_from_count_and_groups_digits() -> None:
    assert t("en-US", "relative.future", count=1) == "in 1 day"
    assert t("en-US", "relative.future", count=3) == "in 3 days"
    assert t("en-US", "item.licences", name="Office 365 E3", count=1) == "Office 365 E3 (1 license)"
    assert t("en-US", "item.licences", name="Office 365 E3", count=1500) == "Office 365 E3 (1,500 licenses)"
    with pytest.raises(KeyError, match="needs a 'count' value"):
        t("en-US", "relative.future")


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "через 1 день"),
        (2, "через 2 дня"),
        (4, "через 4 дня"),
        (5, "через 5 дней"),
        (11, "через 11 дней"),
        (12, "через 12 дней"),
        (21, "через 21 день"),
        (22, "через 22 дня"),
        (25, "через 25 дней"),
        (111, "через 111 дней"),
        (1001, "через 1\xa0001 день"),
    ],
)
def test_russian_has_three_plural_forms_chosen_by_cldr_rules(count: int, expected: str) -> None:
    assert t("ru-RU", "relative.future", count=count) == expected


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "dans 0 jour"), (1, "dans 1 jour"), (2, "dans 2 jours"), (1500, "dans 1\u202f500 jours")]
)
def test_french_singular_covers_zero_and_one(count: int, expected: str) -> None:
    assert t("fr-FR", "relative.future", count=count) == expected


def test_every_message_has_only_named_placeholders_and_fills_in() -> None:
    formatter = string.Formatter()
    for language in LANGUAGES:
        for key, forms in catalog_messages(language).items():
            names = {name for form in forms for _, name, _, _ in formatter.parse(form) if name is not None}
            assert all(name.isidentifier() for name in names), (language, key, "positional placeholder")
            for count in (1, 2, 5):
                filled = t(f"{language}-XX", key, **{name: "x" for name in names} | {"count": count})
                assert "{" not in filled and "}" not in filled, (language, key)


def test_the_catalog_has_a_message_for_every_enum_value_the_cards_look_up() -> None:
    ids = set(message_ids())
    wanted = {f"kind.{kind.value}" for kind in BlockerKind}
    wanted |= {f"state.{state.value}" for state in CaseState}
    wanted |= {f"action.{action.value}" for action in Action} | {f"proposal.{action.value}" for action in Action}
    wanted |= {
        f"{part}.{action.value}" for action in Action if action.is_automatic for part in ("confirm.question", "confirm.effect", "button")
    }
    wanted |= {f"decided.{decision.value}" for decision in Decision}
    assert wanted <= ids, wanted - ids


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", "Nov 24, 2026"),
        ("en-GB", "24 Nov 2026"),
        ("fr-FR", "24 nov. 2026"),
        ("ru-RU", "24 нояб. 2026 г."),
        ("de-DE", "Nov 24, 2026"),
    ],
)
def test_format_date_follows_the_locale(locale: str, expected: str) -> None:
    assert format_date(datetime(2026, 11, 24, 9, 30, tzinfo=UTC), locale) == expected


def test_dates_and_times_are_shown_in_utc() -> None:
    evening_in_new_york = datetime(2026, 11, 24, 21, 4, tzinfo=timezone(timedelta(hours=-5)))
    assert format_date(evening_in_new_york) == "Nov 25, 2026"
    assert format_time(evening_in_new_york) == "2:04\u202fAM UTC" or format_time(evening_in_new_york) == "2:04 AM UTC"
    assert format_time(evening_in_new_york, "fr-FR") == "02:04 UTC"
    assert format_time(evening_in_new_york, "ru-RU") == "02:04 UTC"
    assert format_datetime(evening_in_new_york).startswith("Nov 25, 2026, 2:04")
    assert format_datetime(datetime(2026, 1, 5), "fr-FR").startswith("5 janv. 2026")  # naive is UTC


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
    late = datetime(2026, 11, 21, 23, 59, tzinfo=UTC)
    assert relative_days(datetime(2026, 11, 22, 0, 1, tzinfo=UTC), late) == "tomorrow"


def test_date_with_relative_days() -> None:
    assert format_date_relative(NOW + timedelta(days=3), NOW) == "Nov 24, 2026 (in 3 days)"
    assert format_date_relative(NOW + timedelta(days=3), None) == "Nov 24, 2026"
    assert format_date_relative(NOW + timedelta(days=3), NOW, "ru-RU") == "24 нояб. 2026 г. (через 3 дня)"


def test_format_number() -> None:
    assert format_number(1000) == "1,000"
    assert format_number(7) == "7"
    assert format_number(1000, "fr-FR") == "1\u202f000"
    assert format_number(1000, "ru-RU") == "1\xa0000"


def _placeholder_names(form: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(form) if name}


def catalog_problems(reference: dict[str, tuple[str, ...]], other: dict[str, tuple[str, ...]], plural: frozenset[str]) -> list[str]:
    """What makes ``other`` disagree with ``reference``: a missing or extra key, a placeholder that differs."""
    problems = [f"missing {key}" for key in sorted(reference.keys() - other.keys())]
    problems += [f"extra {key}" for key in sorted(other.keys() - reference.keys())]
    for key in sorted(reference.keys() & other.keys()):
        wanted = set().union(*map(_placeholder_names, reference[key]))
        for form in other[key]:
            if _placeholder_names(form) != wanted:
                problems.append(f"{key}: placeholders {sorted(_placeholder_names(form))} instead of {sorted(wanted)}")
        if key in plural and len(other[key]) < 2:
            problems.append(f"{key}: no plural forms")
    return problems


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_every_catalog_has_every_message_with_the_same_placeholders(language: str) -> None:
    english = catalog_messages("en")
    assert catalog_problems(english, catalog_messages(language), plural_ids()) == []
    assert catalog_problems(catalog_messages(language), english, plural_ids()) == []


def test_the_catalog_check_catches_a_missing_key_and_a_renamed_placeholder() -> None:
    english = catalog_messages("en")
    broken = dict(catalog_messages("fr"))
    del broken["final.remove"]
    broken["plan.title"] = ("Plan de suppression pour {client}",)
    broken["relative.future"] = ("dans {count} jour",)
    assert catalog_problems(english, broken, plural_ids()) == [
        "missing final.remove",
        "plan.title: placeholders ['client'] instead of ['customer']",
        "relative.future: no plural forms",
    ]
    assert catalog_problems(broken, english, plural_ids()) == [
        "extra final.remove",
        "plan.title: placeholders ['customer'] instead of ['client']",
    ]


def test_each_language_has_the_plural_forms_its_grammar_needs() -> None:
    for language, forms in (("en", 2), ("fr", 2), ("ru", 3)):
        messages = catalog_messages(language)
        assert {len(messages[key]) for key in plural_ids()} == {forms}, language


@pytest.mark.parametrize(("locale", "expected"), [("en-US", "suspended"), ("fr-FR", "suspendu"), ("ru-RU", "приостановлена")])
def test_partner_center_statuses_are_said_in_the_readers_language(locale: str, expected: str) -> None:
    from cards.words import status_word

    assert status_word("suspended", locale) == expected
    assert status_word("Suspended", locale) == expected
    assert status_word("somethingNew", locale) == "somethingNew"  # an unknown status is shown as it came
