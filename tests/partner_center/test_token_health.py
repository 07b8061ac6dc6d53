"""The token-health verdict (partner_center/token_health.py): Entra ID lets a refresh token lapse
after 90 days without use (https://learn.microsoft.com/entra/identity-platform/refresh-tokens); its
refusals name why (https://learn.microsoft.com/entra/identity-platform/reference-error-codes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partner_center.errors import AuthError, MfaRequiredError, UnavailableError
from partner_center.token_health import (
    CONSENT_COMMAND,
    Attempt,
    AttemptResult,
    Reason,
    TokenHealth,
    TokenStatus,
    assess,
    attempt_from_error,
    due_for_exercise,
)

REDEEMED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def judge(days: float, latest: Attempt | None = None, *, redeemed: datetime | None = REDEEMED, credential: bool = True) -> TokenHealth:
    return assess(
        has_user_credential=credential,
        last_redeemed_at=redeemed,
        now=REDEEMED + timedelta(days=days),
        latest=latest,
        check_days=7,
        warn_days=75,
    )


def refused(code: int, *, days: float) -> Attempt:
    return Attempt(AttemptResult.REFUSED, REDEEMED + timedelta(days=days), code)


@pytest.mark.parametrize("days", [0, 6.9, 74.9])
def test_a_token_used_recently_is_healthy(days: float) -> None:
    health = judge(days)
    assert health.status is TokenStatus.HEALTHY and health.problem == ""
    assert health.lapses_at == REDEEMED + timedelta(days=90)


@pytest.mark.parametrize("days", [75, 80, 89.9])
def test_unused_for_the_warning_days_is_expiring_with_its_lapse_date(days: float) -> None:
    health = judge(days, Attempt(AttemptResult.UNREACHABLE, REDEEMED + timedelta(days=days)))
    assert health.status is TokenStatus.EXPIRING and health.reason is Reason.UNUSED
    assert health.lapses_at == datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    assert health.since == REDEEMED and CONSENT_COMMAND in health.fix


def test_90_days_unused_is_expired_even_when_entra_cannot_be_asked() -> None:
    health = judge(91, Attempt(AttemptResult.UNREACHABLE, REDEEMED + timedelta(days=91)))
    assert health.status is TokenStatus.CONSENT_AGAIN and health.reason is Reason.EXPIRED
    assert f"`{CONSENT_COMMAND}`" in health.fix


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (700082, Reason.EXPIRED),
        (50173, Reason.REVOKED),
        (50076, Reason.MFA),
        (50079, Reason.MFA),
        # AADSTS50078: the presented MFA expired; AADSTS70043: expired under a sign-in frequency policy.
        (50078, Reason.MFA),
        (70043, Reason.MFA),
        (900421, Reason.MFA),
        (65001, Reason.CONSENT),
        (0, Reason.CONSENT),
    ],
)
def test_a_refusal_after_the_last_redemption_means_consent_again(code: int, reason: Reason) -> None:
    health = judge(8, refused(code, days=8))
    assert health.status is TokenStatus.CONSENT_AGAIN and health.reason is reason
    assert health.since == REDEEMED + timedelta(days=8) and CONSENT_COMMAND in health.fix


def test_a_refusal_older_than_a_later_redemption_no_longer_counts() -> None:
    later = REDEEMED + timedelta(days=1)
    health = judge(2, Attempt(AttemptResult.REFUSED, REDEEMED, 50173), redeemed=later)
    assert health.status is TokenStatus.HEALTHY


def test_a_refused_app_credential_is_not_a_consent_problem() -> None:
    health = judge(8, refused(7000215, days=8))
    assert health.status is TokenStatus.UNKNOWN and health.reason is Reason.APP_CREDENTIAL
    assert "client secret" in health.fix and CONSENT_COMMAND not in health.fix


def test_no_app_user_credential_is_unknown_with_the_consent_command() -> None:
    health = judge(0, credential=False, redeemed=None)
    assert health.status is TokenStatus.UNKNOWN and health.reason is Reason.NO_CREDENTIAL
    assert CONSENT_COMMAND in health.fix


def test_never_redeemed_and_unreachable_is_unknown() -> None:
    health = judge(0, Attempt(AttemptResult.UNREACHABLE, REDEEMED), redeemed=None)
    assert health.status is TokenStatus.UNKNOWN and health.reason is Reason.UNREACHABLE


@pytest.mark.parametrize("code", [50078, 70043])
def test_an_expired_mfa_or_sign_in_frequency_refusal_asks_for_a_sign_in_with_mfa(code: int) -> None:
    error = AuthError(f"Could not redeem: AADSTS{code}: sign in again with multi-factor authentication.", status=400, code="invalid_grant")
    health = judge(8, attempt_from_error(error, REDEEMED + timedelta(days=8)))
    assert health.status is TokenStatus.CONSENT_AGAIN and health.reason is Reason.MFA and health.problem == "must-consent-again:mfa"


def test_a_rotation_not_written_back_is_its_own_problem_judged_on_the_stored_redemption() -> None:
    failing = REDEEMED + timedelta(days=8)
    health = assess(
        has_user_credential=True,
        last_redeemed_at=REDEEMED,  # what the store holds: the rotation of day 8 is in memory only
        now=failing,
        latest=Attempt(AttemptResult.OK, failing),
        write_back_failed_since=failing,
    )
    assert health.reason is Reason.WRITE_BACK and health.problem == "unknown:write-back"
    assert health.lapses_at == REDEEMED + timedelta(days=90) and health.since == failing
    assert "Key Vault Secrets Officer" in health.fix and CONSENT_COMMAND not in health.fix
    # A refusal, or the stored token lapsed, is the more urgent word.
    refusal = assess(
        has_user_credential=True, last_redeemed_at=REDEEMED, now=failing, latest=refused(50173, days=8), write_back_failed_since=failing
    )
    assert refusal.reason is Reason.REVOKED
    lapsed = assess(
        has_user_credential=True, last_redeemed_at=REDEEMED, now=REDEEMED + timedelta(days=91), latest=None, write_back_failed_since=failing
    )
    assert lapsed.reason is Reason.EXPIRED


def test_each_problem_has_its_own_key_so_a_new_one_is_announced() -> None:
    problems = {judge(80).problem, judge(91).problem, judge(8, refused(50173, days=8)).problem}
    assert problems == {"expiring:unused", "must-consent-again:expired", "must-consent-again:revoked"}


@pytest.mark.parametrize(
    ("last", "days", "due"),
    [(None, 0, True), (REDEEMED, 6.99, False), (REDEEMED, 7, True), (REDEEMED, 30, True)],
)
def test_the_token_is_exercised_once_unused_for_the_check_days(last: datetime | None, days: float, due: bool) -> None:
    assert due_for_exercise(last, REDEEMED + timedelta(days=days), check_days=7) is due


def test_an_exercise_outcome_reads_entras_code_from_its_words() -> None:
    at = REDEEMED
    assert attempt_from_error(None, at) == Attempt(AttemptResult.OK, at)
    lapsed = AuthError("Could not redeem: AADSTS700082: The refresh token has expired due to inactivity.", status=401, code="invalid_grant")
    assert attempt_from_error(lapsed, at) == Attempt(AttemptResult.REFUSED, at, 700082)
    assert attempt_from_error(UnavailableError("no answer", code="unreachable"), at).result is AttemptResult.UNREACHABLE
    assert attempt_from_error(MfaRequiredError("no MFA", status=401, code="900421"), at).code == 900421
    assert attempt_from_error(TimeoutError(), at).result is AttemptResult.UNREACHABLE
