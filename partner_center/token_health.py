"""The app+user refresh token's health: a pure function of when it was last redeemed, now, and
what the latest attempt to redeem it said.

Facts:

- Entra ID refresh tokens lapse after 90 days without use ("The default lifetime for the tokens is
  90 days ... every time the refresh token is used, the token is renewed",
  https://learn.microsoft.com/entra/identity-platform/refresh-tokens), so a token redeemed at least
  every ``check_days`` never lapses; one not redeemed for ``warn_days`` is about to.
- What a refused redemption means (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
  ``AADSTS700082`` the refresh token expired due to inactivity; ``AADSTS50173`` the grant was
  revoked (the user's sessions were revoked, a password changed); ``AADSTS50076`` / ``AADSTS50079``
  MFA is required (a Conditional Access change), ``AADSTS50078`` the presented MFA expired and
  ``AADSTS70043`` the refresh token expired under a Conditional Access sign-in frequency: each a
  new sign-in with MFA; ``AADSTS65001`` the user or an administrator has
  not consented to the app. Each of these takes a new interactive sign-in: an admin agent runs
  ``python -m golive consent``. ``invalid_client`` (``AADSTS7000215`` wrong secret, ``AADSTS7000222``
  expired secret, ``AADSTS700027`` certificate, ``AADSTS700016`` unknown app) is the app's own
  credential, which no consent fixes.
- Partner Center answers 401 with code 900421 when the app+user token was not obtained with MFA
  (``partner_center.errors.MfaRequiredError``): a sign-in with MFA again.
- A rotated refresh token that cannot be written back to the shared store (Key Vault refuses the
  write: the identity lacks Key Vault Secrets Officer on the secret) leaves the stored one ageing:
  judged on the stored redemption, and a problem of its own (``Reason.WRITE_BACK``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import AuthError, MfaRequiredError, PartnerCenterError, UnavailableError

__all__ = (
    "CONSENT_COMMAND",
    "REFRESH_TOKEN_INACTIVITY",
    "Attempt",
    "AttemptResult",
    "Reason",
    "TokenHealth",
    "TokenStatus",
    "assess",
    "attempt_from_error",
    "due_for_exercise",
)

# https://learn.microsoft.com/entra/identity-platform/refresh-tokens: 90 days of inactivity.
REFRESH_TOKEN_INACTIVITY = timedelta(days=90)
CONSENT_COMMAND = "python -m golive consent"

# AADSTS codes (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
_EXPIRED = frozenset({700082})
_REVOKED = frozenset({50173})
_MFA = frozenset({50076, 50079, 50078, 70043})
_CONSENT = frozenset({65001})
_APP_CREDENTIAL = frozenset({7000215, 7000222, 700027, 700024, 700021, 700016, 7000218})
_AADSTS = re.compile(r"AADSTS(\d+)")


class TokenStatus(StrEnum):
    HEALTHY = "healthy"
    EXPIRING = "expiring"  # unused for warn_days or more: lapses on a date
    CONSENT_AGAIN = "must-consent-again"  # expired, revoked, MFA or consent needed
    UNKNOWN = "unknown"  # no app+user credential, or never seen redeemed


class Reason(StrEnum):
    """Why the token is not healthy; with the status, what a warning is about ("once per problem")."""

    NONE = "none"
    UNUSED = "unused"  # expiring: not redeemed for warn_days
    EXPIRED = "expired"  # AADSTS700082, or 90 days without use on the clock
    REVOKED = "revoked"  # AADSTS50173
    MFA = "mfa"  # AADSTS50076/50079, or Partner Center's 900421
    CONSENT = "consent"  # AADSTS65001, or another invalid_grant
    NO_CREDENTIAL = "no-credential"  # nobody consented yet
    UNREACHABLE = "unreachable"  # never redeemed here and Entra ID not answering
    APP_CREDENTIAL = "app-credential"  # the app's client secret or certificate refused
    WRITE_BACK = "write-back"  # the rotated token cannot be written back to the Key Vault


class AttemptResult(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # invalid_grant / interaction_required, with its AADSTS code
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of the latest attempt to redeem the refresh token.

    Attributes:
        result: ok, refused by Entra ID (or Partner Center's MFA refusal), or no answer.
        at: when it was made.
        code: the AADSTS code of a refusal (0 when there was none in the answer); 900421 for
            Partner Center's "no MFA" refusal.
    """

    result: AttemptResult
    at: datetime
    code: int = 0


@dataclass(frozen=True, slots=True)
class TokenHealth:
    """The verdict, with what a person needs to act on it.

    Attributes:
        status, reason: what is wrong (``reason`` is ``NONE`` when healthy).
        last_redeemed_at: when the refresh token was last redeemed (None: not known).
        lapses_at: when it lapses unless used (last redemption + 90 days); None when not known.
        since: since when the problem exists (unused since the last redemption; refused since
            the attempt that was refused).
        fix: exactly what to do, in English (doctor, log); cards say it from the catalogs.
    """

    status: TokenStatus
    reason: Reason
    last_redeemed_at: datetime | None
    lapses_at: datetime | None
    since: datetime | None
    fix: str

    @property
    def healthy(self) -> bool:
        return self.status is TokenStatus.HEALTHY

    @property
    def problem(self) -> str:
        """What a warning is about: the same problem is announced once (``""`` when healthy)."""
        return "" if self.healthy else f"{self.status.value}:{self.reason.value}"


def due_for_exercise(last_redeemed_at: datetime | None, now: datetime, *, check_days: int) -> bool:
    """The token should be redeemed now: it has not been for ``check_days`` (or never here)."""
    return last_redeemed_at is None or now - last_redeemed_at >= timedelta(days=check_days)


def attempt_from_error(error: BaseException | None, at: datetime) -> Attempt:
    """The :class:`Attempt` an exercise's outcome stands for (``None``: it succeeded)."""
    if error is None:
        return Attempt(AttemptResult.OK, at)
    if isinstance(error, MfaRequiredError):
        return Attempt(AttemptResult.REFUSED, at, 900421)
    if isinstance(error, UnavailableError):
        return Attempt(AttemptResult.UNREACHABLE, at)
    if isinstance(error, AuthError):
        found = _AADSTS.search(error.description or str(error))
        return Attempt(AttemptResult.REFUSED, at, int(found.group(1)) if found else 0)
    if isinstance(error, PartnerCenterError | OSError | TimeoutError):
        return Attempt(AttemptResult.UNREACHABLE, at)
    raise TypeError(f"not an outcome of a token redemption: {type(error).__name__}")


def assess(
    *,
    has_user_credential: bool,
    last_redeemed_at: datetime | None,
    now: datetime,
    latest: Attempt | None,
    check_days: int = 7,
    warn_days: int = 75,
    write_back_failed_since: datetime | None = None,
) -> TokenHealth:
    """The token's health now.

    A refusal newer than the last redemption decides (a person must sign in again); else the
    time since the last redemption: 90 days or more is expired, ``warn_days`` or more is expiring.
    An unreachable token endpoint changes nothing by itself: the token keeps its last redemption's
    90 days, and the next check tries again.

    :param last_redeemed_at: the redemption the shared store holds (not one only in memory).
    :param write_back_failed_since: since when rotated tokens cannot be stored (None: they can):
        unless the token is refused or lapsed already, that is the problem (the stored one ages
        towards its lapse while the one in memory works).
    """
    consent = f"An admin agent runs `{CONSENT_COMMAND}` (a sign-in with MFA) to store a new refresh token."
    lapses_at = last_redeemed_at + REFRESH_TOKEN_INACTIVITY if last_redeemed_at is not None else None
    if not has_user_credential:
        return TokenHealth(TokenStatus.UNKNOWN, Reason.NO_CREDENTIAL, None, None, None, consent)
    refused = latest is not None and latest.result is AttemptResult.REFUSED
    if latest is not None and refused and (last_redeemed_at is None or latest.at >= last_redeemed_at):
        if latest.code in _APP_CREDENTIAL:
            fix = (
                "Entra ID refuses the app's own credential: put the Partner Center app's current client secret "
                "(or certificate) in the settings or the Key Vault."
            )
            return TokenHealth(TokenStatus.UNKNOWN, Reason.APP_CREDENTIAL, last_redeemed_at, lapses_at, latest.at, fix)
        return TokenHealth(TokenStatus.CONSENT_AGAIN, _reason_of(latest.code), last_redeemed_at, lapses_at, latest.at, consent)
    if last_redeemed_at is None or lapses_at is None:
        if write_back_failed_since is not None:
            return _write_back(None, None, write_back_failed_since)
        if latest is not None and latest.result is AttemptResult.UNREACHABLE:
            fix = "Check that the bot reaches Microsoft Entra ID (login.microsoftonline.com); the next check tries again."
            return TokenHealth(TokenStatus.UNKNOWN, Reason.UNREACHABLE, None, None, latest.at, fix)
        # Not redeemed yet, nothing refused: the first check is still to come.
        return TokenHealth(TokenStatus.HEALTHY, Reason.NONE, None, None, None, "")
    if now >= lapses_at:
        return TokenHealth(TokenStatus.CONSENT_AGAIN, Reason.EXPIRED, last_redeemed_at, lapses_at, lapses_at, consent)
    if write_back_failed_since is not None:
        return _write_back(last_redeemed_at, lapses_at, write_back_failed_since)
    if now - last_redeemed_at >= timedelta(days=warn_days):
        fix = (
            f"Check that the bot reaches Microsoft Entra ID (it redeems the token every {check_days} days); "
            f"once it lapses, an admin agent runs `{CONSENT_COMMAND}`."
        )
        return TokenHealth(TokenStatus.EXPIRING, Reason.UNUSED, last_redeemed_at, lapses_at, last_redeemed_at, fix)
    return TokenHealth(TokenStatus.HEALTHY, Reason.NONE, last_redeemed_at, lapses_at, None, "")


def _write_back(last_redeemed_at: datetime | None, lapses_at: datetime | None, since: datetime) -> TokenHealth:
    fix = (
        "The rotated sign-in cannot be written back to Key Vault: grant Key Vault Secrets Officer to the identity "
        "on the token-cache secret (infra/: tokenSecretExists=true)."
    )
    return TokenHealth(TokenStatus.UNKNOWN, Reason.WRITE_BACK, last_redeemed_at, lapses_at, since, fix)


def _reason_of(code: int) -> Reason:
    if code in _EXPIRED:
        return Reason.EXPIRED
    if code in _REVOKED:
        return Reason.REVOKED
    if code in _MFA or code == 900421:
        return Reason.MFA
    # AADSTS65001, or a refusal whose code we do not know: a new consent is what clears it.
    return Reason.CONSENT
