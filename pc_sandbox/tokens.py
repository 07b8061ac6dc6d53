"""Access tokens the sandbox issued, and whether each one still works.

Tokens are opaque random strings (Partner Center never asks clients to read
them), expire by the *sandbox* clock (so advancing the clock a day forces the
client to refresh) and remember whether they were issued to the app alone or
to the app on behalf of a user: some operations accept only the latter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SandboxClock

__all__ = ("ACCESS_TOKEN_LIFETIME", "GRAPH_AUDIENCE", "KEY_VAULT_AUDIENCE", "PARTNER_CENTER_AUDIENCE", "IssuedToken", "TokenStore")

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)  # Entra ID's usual 3600 s
# The resource a token is for (its `aud`): Partner Center's, Microsoft Graph's or Key Vault's.
# Each API refuses the others' tokens.
PARTNER_CENTER_AUDIENCE = "https://api.partnercenter.microsoft.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
# Azure Key Vault's data-plane resource (public cloud): what a real vault names in its 401
# challenge and the scope its clients ask for (``https://vault.azure.net/.default``),
# https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses
KEY_VAULT_AUDIENCE = "https://vault.azure.net"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    client_id: str
    tenant_id: str  # `tid`: the partner tenant, or a customer tenant for GDAP calls (throttling is keyed by it)
    app_only: bool
    expires_at: datetime
    mfa: bool = False  # app+user: the user's sign-in had MFA (its id_token's amr has "mfa")
    audience: str = PARTNER_CENTER_AUDIENCE  # `aud`


class TokenStore:
    """Issued tokens, kept across ``/_sandbox/reset`` so a reset never logs anyone out."""

    def __init__(self, *, clock: SandboxClock) -> None:
        self._clock = clock
        self._tokens: dict[str, IssuedToken] = {}
        self.issued_count = 0  # every token ever issued (tests count refreshes with it)

    def issue(
        self,
        *,
        client_id: str,
        tenant_id: str,
        app_only: bool,
        mfa: bool = False,
        audience: str = PARTNER_CENTER_AUDIENCE,
    ) -> IssuedToken:
        now = self._clock.now()
        self._forget_expired(now)
        token = IssuedToken(
            value=secrets.token_urlsafe(32),
            client_id=client_id,
            tenant_id=tenant_id,
            app_only=app_only,
            expires_at=now + ACCESS_TOKEN_LIFETIME,
            mfa=mfa and not app_only,
            audience=audience,
        )
        self._tokens[token.value] = token
        self.issued_count += 1
        return token

    def find(self, value: str) -> IssuedToken | None:
        """The token if it was issued here and has not expired (by the sandbox clock)."""
        token = self._tokens.get(value)
        if token is None or token.expires_at <= self._clock.now():
            return None
        return token

    def _forget_expired(self, now: datetime) -> None:
        expired = [value for value, token in self._tokens.items() if token.expires_at <= now]
        for value in expired:
            del self._tokens[value]
