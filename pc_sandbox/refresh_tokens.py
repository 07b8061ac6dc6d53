"""App+user refresh tokens: rotation, the 90-day inactivity lapse, revocation and MFA demands.

Facts (https://learn.microsoft.com/entra/identity-platform/refresh-tokens): a refresh token is
bound to a user and a client; "Refresh tokens replace themselves with a fresh token upon every
use"; their default lifetime is 90 days, sliding with use; a refresh token that has lapsed is
refused with ``AADSTS700082`` ("The refresh token has expired due to inactivity",
https://learn.microsoft.com/entra/identity-platform/reference-error-codes). Revoking a user's
sessions (``revokeSignInSessions``) sets the user's ``refreshTokensValidFromDateTime``: every
refresh token from an earlier sign-in is then refused with ``AADSTS50173``, and a Conditional
Access change that wants MFA makes the next grants answer ``interaction_required``
``AADSTS50076`` until the user signs in again with MFA (same error-code page).

Choices of the sandbox (assumptions):

- The token redeemed stays valid until its own lapse: Entra does not document revoking the old
  one on redemption.
- Every token remembers the *sign-in* it descends from (its ``auth_time`` and whether it had
  MFA). Revocation and MFA demands are expressed as "sign-ins before this one no longer count",
  ordered by a counter as well as by time, so a frozen test clock still orders them.
- The seeded ``DEMO.refresh_token`` stands for a consent made before the sandbox started. Its
  line of tokens does not lapse unless ``SandboxOptions.seeded_refresh_token_lapses``: tests
  everywhere move the clock by hundreds of days and then call Partner Center as App+User, as
  a bot that is used every day would. Whether it carried MFA follows ``SandboxOptions.user_mfa``
  at each redemption (tests flip that switch at run time). Tokens from a sign-in on the
  sandbox's own page (``/authorize``) always lapse.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .clock import SandboxClock, format_iso

__all__ = ("REFRESH_TOKEN_INACTIVITY", "RefreshRefused", "RefreshToken", "RefreshTokenStore", "SignIn")

REFRESH_TOKEN_INACTIVITY = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class SignIn:
    """One interactive sign-in of the demo user (or the seeded consent before the sandbox began).

    ``mfa`` is ``None`` for the seeded consent: whether it had MFA follows the options.
    """

    sequence: int
    client_id: str
    auth_time: datetime
    mfa: bool | None
    lapses: bool


@dataclass(frozen=True, slots=True)
class RefreshToken:
    value: str
    sign_in: SignIn
    issued_at: datetime

    def lapses_at(self) -> datetime | None:
        return self.issued_at + REFRESH_TOKEN_INACTIVITY if self.sign_in.lapses else None


class RefreshRefused(Exception):
    """The token endpoint's refusal: ``error``, the AADSTS code and its description."""

    def __init__(self, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.code = code
        self.description = f"AADSTS{code}: {description}"


@dataclass(slots=True)
class _UserSessions:
    # Sign-ins numbered below these no longer count (revoked / without the MFA asked for now).
    valid_from: int = 0
    valid_from_time: datetime | None = None
    mfa_from: int = 0
    mfa_from_time: datetime | None = None
    revocations: int = 0
    mfa_demands: int = 0
    tokens: dict[str, RefreshToken] = field(default_factory=dict)


class RefreshTokenStore:
    """The demo user's refresh tokens (the sandbox has one user), kept across ``/_sandbox/reset``.

    :param seeded_value: ``DEMO.refresh_token``.
    :param seeded_client_id: the app it was issued to.
    :param seeded_lapses: whether the seeded line of tokens lapses after 90 idle days.
    """

    def __init__(self, *, clock: SandboxClock, seeded_value: str, seeded_client_id: str, seeded_lapses: bool) -> None:
        self._clock = clock
        self._sequence = itertools.count(1)
        self._seeded_value = seeded_value
        self._seeded_client_id = seeded_client_id
        self._seeded_lapses = seeded_lapses
        self._user = _UserSessions()
        self.seed()

    def seed(self) -> None:
        """(Re)issue the seeded token as a fresh consent, and forget revocations and MFA demands.

        Called at start and by ``/_sandbox/reset`` ("back to the seed"); tokens issued since stay.
        """
        tokens = self._user.tokens
        self._user = _UserSessions(tokens=tokens)
        now = self._clock.now()
        sign_in = SignIn(next(self._sequence), self._seeded_client_id, now, None, self._seeded_lapses)
        tokens[self._seeded_value] = RefreshToken(self._seeded_value, sign_in, now)

    def sign_in(self, *, client_id: str, mfa: bool) -> SignIn:
        """An interactive sign-in just completed (the sandbox's sign-in page)."""
        return SignIn(next(self._sequence), client_id, self._clock.now(), mfa, lapses=True)

    def issue(self, sign_in: SignIn) -> RefreshToken:
        token = RefreshToken(secrets.token_urlsafe(48), sign_in, self._clock.now())
        self._user.tokens[token.value] = token
        return token

    def redeem(self, value: str, *, client_id: str, seeded_mfa: bool) -> tuple[SignIn, bool, RefreshToken]:
        """Check ``value`` and rotate it: ``(sign-in, had MFA, new token)``.

        :param seeded_mfa: whether the seeded consent counts as an MFA sign-in (the options).
        :raises RefreshRefused: unknown, another client's, lapsed, revoked, or MFA asked again.
        """
        now = self._clock.now()
        token = self._user.tokens.get(value)
        if token is None:
            raise RefreshRefused("invalid_grant", 70000, "Provided grant is invalid or malformed. The refresh token is not valid.")
        sign_in = token.sign_in
        if sign_in.client_id != client_id:
            # Bound to the client (refresh-tokens page); the exact code is not documented.
            raise RefreshRefused(
                "invalid_grant", 70000, "Provided grant is invalid or malformed. The refresh token was issued to another application."
            )
        lapses_at = token.lapses_at()
        if lapses_at is not None and lapses_at <= now:
            inactive = now - token.issued_at
            raise RefreshRefused(
                "invalid_grant",
                700082,
                f"The refresh token has expired due to inactivity. The token was issued on {format_iso(token.issued_at)} "
                f"and was inactive for {inactive.days}.{inactive.seconds // 3600:02d}:{inactive.seconds // 60 % 60:02d}:{inactive.seconds % 60:02d}.",
            )
        user = self._user
        if sign_in.sequence < user.valid_from:
            valid_from = format_iso(user.valid_from_time or now)
            raise RefreshRefused(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed "
                f"or reset their password. The grant was issued on '{format_iso(sign_in.auth_time)}' and the TokensValidFrom date "
                f"(before which tokens are not valid) for this user is '{valid_from}'.",
            )
        mfa = seeded_mfa if sign_in.mfa is None else sign_in.mfa
        if user.mfa_from and (sign_in.sequence < user.mfa_from or not mfa):
            raise RefreshRefused(
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, or because you moved to a new location, "
                "you must use multi-factor authentication to access 'https://api.partnercenter.microsoft.com'.",
            )
        return sign_in, mfa, self.issue(sign_in)

    def mfa_required_for(self, sign_in: SignIn) -> bool:
        """Whether an MFA demand made after ``sign_in`` (or a sign-in without MFA) stops it."""
        user = self._user
        return bool(user.mfa_from) and (sign_in.sequence < user.mfa_from or not sign_in.mfa)

    def revoke_all(self) -> datetime:
        """``revokeSignInSessions``: every sign-in so far stops counting; returns TokensValidFrom."""
        now = self._clock.now()
        self._user.valid_from = next(self._sequence)
        self._user.valid_from_time = now
        self._user.revocations += 1
        return now

    def demand_mfa(self) -> datetime:
        """The next grants want a sign-in with MFA made after now."""
        now = self._clock.now()
        self._user.mfa_from = next(self._sequence)
        self._user.mfa_from_time = now
        self._user.mfa_demands += 1
        return now

    def to_json(self) -> dict[str, object]:
        """What the operator shows: the switches and each live token's dates (never its value)."""
        user = self._user
        now = self._clock.now()
        return {
            "refreshTokensValidFrom": format_iso(user.valid_from_time) if user.valid_from_time else None,
            "mfaRequiredSince": format_iso(user.mfa_from_time) if user.mfa_from_time else None,
            "refreshTokens": [
                {
                    "seeded": token.value == self._seeded_value,
                    "issuedAt": format_iso(token.issued_at),
                    "authTime": format_iso(token.sign_in.auth_time),
                    "lapsesAt": format_iso(lapses) if (lapses := token.lapses_at()) else None,
                    "lapsed": lapses is not None and lapses <= now,
                    "revoked": token.sign_in.sequence < user.valid_from,
                }
                for token in user.tokens.values()
            ],
        }
