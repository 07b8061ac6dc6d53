"""Access tokens the sandbox issued, and whether each one still works.

Tokens are shaped like Entra ID's v1.0 resource tokens, a JWT (``header.payload.signature``,
base64url JSON) with ``aud``, ``iss``, ``tid``, ``oid``, ``appid``, ``exp`` and, for app+user
tokens, ``amr`` (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
a client may read its own access token (the consent command reads ``amr``, ``tid`` and ``oid``
from it, since v2.0 ID tokens carry no ``amr``). The signature is a random string, not a
signature: the sandbox still finds a token by its whole value, and a random ``jti`` keeps every
value unique and unguessable. Tokens expire by the *sandbox* clock (so advancing the clock a day
forces the client to refresh) and remember whether they were issued to the app alone or to the
app on behalf of a user: some operations accept only the latter.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SandboxClock
from .demo import DEMO

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
        expires_at = now + ACCESS_TOKEN_LIFETIME
        token = IssuedToken(
            value=_jwt_shaped(client_id=client_id, tenant_id=tenant_id, app_only=app_only, mfa=mfa, audience=audience, now=now),
            client_id=client_id,
            tenant_id=tenant_id,
            app_only=app_only,
            expires_at=expires_at,
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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt_shaped(*, client_id: str, tenant_id: str, app_only: bool, mfa: bool, audience: str, now: datetime) -> str:
    """A v1.0-style access token's text: unsigned (a random third segment), never verified by anyone.

    ``oid`` is the admin agent's for app+user tokens; for app-only ones a stable stand-in for the
    app's service principal (derived from the client id: an assumption, the sandbox has no
    directory of service principals). ``amr`` only in app+user tokens, "mfa" only after an MFA sign-in.
    """
    issued_at = int(now.timestamp())
    claims: dict[str, object] = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "appid": client_id,
        "tid": tenant_id,
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-service-principal:{client_id}")) if app_only else DEMO.user_object_id,
        "idtyp": "app" if app_only else "user",
        "ver": "1.0",
        "jti": secrets.token_urlsafe(24),
    }
    if not app_only:
        claims["amr"] = ["pwd", "mfa"] if mfa else ["pwd"]
        claims["upn"] = DEMO.username
    header = {"typ": "JWT", "alg": "RS256"}
    return ".".join((_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()), secrets.token_urlsafe(32)))
