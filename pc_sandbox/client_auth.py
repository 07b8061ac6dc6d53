"""Authenticate the app calling the token endpoint, the way Entra ID does.

MSAL (``oauth2cli/oauth2.py``) sends a client secret both as HTTP Basic
credentials and as ``client_secret`` in the form; certificate credentials
arrive as a ``client_assertion`` JWT (RS256 with ``x5t``, or PS256 with
``x5t#S256``) whose ``iss`` and ``sub`` are the client id. Errors use Entra's
shape (``{"error", "error_description", "error_codes"}``), not Partner Center's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote_plus

import jwt
from cryptography import x509

__all__ = ("JWT_BEARER", "ClientAuthError", "authenticate_client")

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_ALGORITHMS = ["RS256", "PS256"]
_CLOCK_SKEW_SECONDS = 300  # Entra's tolerance for assertion nbf/exp


class ClientAuthError(Exception):
    """An OAuth error answer: HTTP status, ``error`` and an AADSTS description."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = f"AADSTS{code}: {description}"


def authenticate_client(
    form: Mapping[str, str],
    authorization: str | None,
    *,
    secrets: Mapping[str, str],
    certificates: Mapping[str, str],
) -> str:
    """Return the authenticated client id, or raise :class:`ClientAuthError`.

    :param secrets: client id -> accepted client secret.
    :param certificates: client id -> PEM certificate for ``client_assertion``.
    """
    basic_id, basic_secret = _basic_credentials(authorization)
    client_id = form.get("client_id") or basic_id
    if not client_id:
        raise ClientAuthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
    if client_id not in secrets and client_id not in certificates:
        raise ClientAuthError(
            401,
            "invalid_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory 'sandbox'.",
        )
    assertion = form.get("client_assertion")
    if assertion:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise ClientAuthError(400, "invalid_request", 50027, "Invalid client_assertion_type.")
        _verify_assertion(assertion, client_id, certificates.get(client_id))
        return client_id
    secret = form.get("client_secret") or basic_secret
    if secret is None:
        raise ClientAuthError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    if secrets.get(client_id) != secret or (basic_secret is not None and basic_secret != secret):
        raise ClientAuthError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent is correct.")
    return client_id


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ClientAuthError(401, "invalid_client", 7000215, "Malformed Basic credentials.") from None
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Base64 (MSAL does so).
    return unquote_plus(client_id), unquote_plus(secret)


def _verify_assertion(assertion: str, client_id: str, certificate_pem: str | None) -> None:
    if certificate_pem is None:
        raise ClientAuthError(401, "invalid_client", 700027, f"Client assertion failed: no certificate is registered for '{client_id}'.")
    public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    try:
        # The audience is the token endpoint URL, which depends on how the
        # client reached the sandbox (host, port, scheme): not checked.
        claims = jwt.decode(
            assertion,
            public_key,  # type: ignore[arg-type]
            algorithms=_ASSERTION_ALGORITHMS,
            options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
            leeway=_CLOCK_SKEW_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise ClientAuthError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.") from None
    except jwt.InvalidTokenError as exc:
        raise ClientAuthError(401, "invalid_client", 700027, f"Client assertion contains an invalid signature. ({exc})") from None
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise ClientAuthError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id'.")
