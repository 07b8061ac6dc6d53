"""Pending sign-ins and authorization codes of the sandbox's ``/authorize`` (``signin.py``).

A code is single-use and lives 10 minutes on the sandbox clock ("Authorization codes are short
lived. Typically, they expire after about 10 minutes",
https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow); the PKCE check
is RFC 7636 §4.6 with method S256.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from .refresh_tokens import SignIn

__all__ = ("AUTHORIZATION_CODE_LIFETIME", "AuthorizationCode", "PendingSignIn", "SignInFlows", "pkce_challenge")

AUTHORIZATION_CODE_LIFETIME = timedelta(minutes=10)
_FLOW_LIFETIME = timedelta(minutes=30)  # a sign-in page left open this long starts over (assumption)
_MAX_PENDING = 200  # bound the memory a client opening many sign-in pages can take


def pkce_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding (RFC 7636 §4.2, method S256)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


@dataclass(slots=True)
class PendingSignIn:
    """An authorize request between its pages."""

    tenant: str
    tenant_id: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    code_challenge: str
    nonce: str | None
    login_hint: str
    response_mode: str  # query, fragment or form_post
    started: datetime
    password_ok: bool = False


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    value: str
    client_id: str
    tenant_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    nonce: str | None
    sign_in: SignIn
    expires_at: datetime


class SignInFlows:
    """Pending sign-ins and issued codes (kept across ``/_sandbox/reset``, like tokens)."""

    def __init__(self) -> None:
        self._flows: OrderedDict[str, PendingSignIn] = OrderedDict()
        self._codes: dict[str, AuthorizationCode] = {}
        self._redeemed: set[str] = set()

    def start(self, flow: PendingSignIn) -> str:
        flow_id = secrets.token_urlsafe(24)
        self._flows[flow_id] = flow
        while len(self._flows) > _MAX_PENDING:
            self._flows.popitem(last=False)
        return flow_id

    def find(self, flow_id: str, now: datetime) -> PendingSignIn | None:
        flow = self._flows.get(flow_id)
        if flow is None or flow.started + _FLOW_LIFETIME <= now:
            return None
        return flow

    def finish(self, flow_id: str, flow: PendingSignIn, sign_in: SignIn, now: datetime) -> AuthorizationCode:
        self._flows.pop(flow_id, None)
        code = AuthorizationCode(
            value=secrets.token_urlsafe(48),
            client_id=flow.client_id,
            tenant_id=flow.tenant_id,
            redirect_uri=flow.redirect_uri,
            scope=flow.scope,
            code_challenge=flow.code_challenge,
            nonce=flow.nonce,
            sign_in=sign_in,
            expires_at=now + AUTHORIZATION_CODE_LIFETIME,
        )
        self._codes[code.value] = code
        return code

    def take(self, value: str) -> tuple[AuthorizationCode | None, bool]:
        """``(code, already redeemed)``; a code is taken at most once (single use)."""
        if value in self._redeemed:
            return None, True
        code = self._codes.pop(value, None)
        if code is not None:
            self._redeemed.add(value)
        return code, False
