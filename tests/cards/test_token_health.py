"""The approvers' warning about the Partner Center sign-in: what is wrong, since when, when it
lapses, and what to run, in English, French and Russian."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import cards
from partner_center.token_health import CONSENT_COMMAND, Attempt, AttemptResult, Reason, TokenHealth, TokenStatus, assess

from .reading import seen
from .schema import assert_valid_card

REDEEMED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
LOCALES = ("en-US", "fr-FR", "ru-RU")


def health(days: float, latest: Attempt | None = None, *, credential: bool = True) -> TokenHealth:
    return assess(
        has_user_credential=credential,
        last_redeemed_at=REDEEMED if credential else None,
        now=REDEEMED + timedelta(days=days),
        latest=latest,
    )


def at(days: float) -> datetime:
    return REDEEMED + timedelta(days=days)


EVERY_PROBLEM = {
    Reason.UNUSED: health(80, Attempt(AttemptResult.UNREACHABLE, at(80))),
    Reason.EXPIRED: health(91, Attempt(AttemptResult.REFUSED, at(91), 700082)),
    Reason.REVOKED: health(8, Attempt(AttemptResult.REFUSED, at(8), 50173)),
    Reason.MFA: health(8, Attempt(AttemptResult.REFUSED, at(8), 50076)),
    Reason.CONSENT: health(8, Attempt(AttemptResult.REFUSED, at(8), 65001)),
    Reason.NO_CREDENTIAL: health(0, credential=False),
    Reason.APP_CREDENTIAL: health(8, Attempt(AttemptResult.REFUSED, at(8), 7000215)),
    Reason.WRITE_BACK: assess(
        has_user_credential=True,
        last_redeemed_at=REDEEMED,
        now=at(8),
        latest=Attempt(AttemptResult.OK, at(8)),
        write_back_failed_since=at(8),
    ),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", list(EVERY_PROBLEM))
def test_every_problem_draws_a_valid_card_in_each_language(reason: Reason, locale: str) -> None:
    problem = EVERY_PROBLEM[reason]
    assert problem.reason is reason
    now = problem.since or REDEEMED
    card = cards.token_health_card(problem, now=now, check_days=7, locale=locale)
    assert_valid_card(card)
    said = seen(card)
    assert cards.t(locale, f"token.{reason.value}.title") in said
    assert card["lang"] == locale[:2]
    if reason is Reason.WRITE_BACK:
        assert cards.t(locale, "token.fix.key_vault_role") in said and "golive consent" not in said
    elif reason is Reason.APP_CREDENTIAL:
        assert cards.t(locale, "token.fix.app_credential") in said
    else:
        assert f"`{CONSENT_COMMAND}`" in said


@pytest.mark.parametrize("locale", LOCALES)
def test_an_expiring_token_says_when_it_was_last_used_and_when_it_lapses(locale: str) -> None:
    card = cards.token_health_card(EVERY_PROBLEM[Reason.UNUSED], now=at(80), check_days=7, locale=locale)
    said = seen(card)
    assert cards.t(locale, "token.last_used") in said and cards.format_datetime(REDEEMED, locale) in said
    lapses = cards.t(
        locale, "date.with_relative", date=cards.format_date(at(90), locale), relative=cards.relative_days(at(90), at(80), locale)
    )
    assert cards.t(locale, "token.lapses_on") in said and lapses in said
    assert cards.t(locale, "token.unused.text", days=7) in said and cards.t(locale, "token.fix.check") in said


def test_the_english_warning_reads_as_an_operator_needs_it() -> None:
    said = seen(cards.token_health_card(EVERY_PROBLEM[Reason.UNUSED], now=at(80), check_days=7))
    assert "The Partner Center sign-in lapses soon" in said
    assert "Lapses on" in said and "Apr 1, 2026 (in 10 days)" in said
    assert "every 7 days" in said and "login.microsoftonline.com" in said


def test_an_expired_token_says_it_lapsed_and_since_when() -> None:
    said = seen(cards.token_health_card(EVERY_PROBLEM[Reason.EXPIRED], now=at(91), check_days=7))
    assert "Lapsed on" in said and "AADSTS700082" in said
    assert "Since" in said and cards.format_datetime(at(91)) in said


def test_french_and_russian_speak_their_own_language() -> None:
    problem = EVERY_PROBLEM[Reason.REVOKED]
    english = seen(cards.token_health_card(problem, now=at(8), check_days=7))
    assert "révoquée" in seen(cards.token_health_card(problem, now=at(8), check_days=7, locale="fr-FR"))
    assert "отозван" in seen(cards.token_health_card(problem, now=at(8), check_days=7, locale="ru-RU"))
    assert "revoked" in english


def test_a_healthy_token_has_no_warning() -> None:
    healthy = health(1)
    assert healthy.status is TokenStatus.HEALTHY
    with pytest.raises(ValueError, match="healthy"):
        cards.token_health_card(healthy, now=at(1), check_days=7)
