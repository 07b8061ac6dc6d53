"""Partner Center webhook callbacks: verify that Microsoft sent them, and read them.

Verification follows partner-center-api.md §10: the signature (``Authorization: Signature
<base64>``, or ``x-ms-signature``) is RSA-SHA256 over the raw body, made with the key of the
certificate at ``x-ms-certificate-url``. That URL must be https on an allowed host (Microsoft's
``pcnotifications-dispatch.microsoft.com``; a loopback host allowed explicitly, for tests, may use
http), the certificate must be valid now, name ``O=Microsoft Corporation``, and chain to a trusted
CA (any certificate of the configured bundle is a trust anchor). Certificates are cached per URL for an hour. Any failure raises :class:`InvalidCallback`.
"""

from __future__ import annotations

import base64
import re
import time
import warnings
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import BaseModel, ConfigDict, Field

__all__ = ("InvalidCallback", "PartnerCenterEvent", "SignatureVerifier", "load_ca_bundle")

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_CACHE_SECONDS = 3600.0
_CUSTOMER = re.compile(r"/customers/([^/?#]+)", re.IGNORECASE)


class InvalidCallback(Exception):
    """Not a genuine Partner Center callback (the reason says why; never shown to the caller)."""


class PartnerCenterEvent(BaseModel):
    """The callback body (PascalCase on the wire)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_name: str = Field(alias="EventName", min_length=1, max_length=200)
    resource_uri: str = Field("", alias="ResourceUri", max_length=2000)
    resource_name: str = Field("", alias="ResourceName", max_length=200)
    audit_uri: str | None = Field(None, alias="AuditUri", max_length=2000)
    resource_change_utc_date: str = Field("", alias="ResourceChangeUtcDate", max_length=100)

    @property
    def customer_id(self) -> str:
        found = _CUSTOMER.search(self.resource_uri)
        return found.group(1) if found else ""


def load_ca_bundle(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle. System bundles hold a few old roots that cryptography
    warns about (non-positive serial numbers): those are skipped, not fatal."""
    found = []
    for block in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.DOTALL):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                found.append(x509.load_pem_x509_certificate(block))
            except (ValueError, Warning):
                continue
    return found


class SignatureVerifier:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        allowed_hosts: list[str],
        trusted: list[x509.Certificate],
        now: Any = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._session = session
        self._allowed = {host.lower() for host in allowed_hosts}
        self._trusted = trusted
        self._now = now
        self._cache: dict[str, tuple[float, x509.Certificate]] = {}

    async def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        signature = _signature(headers)
        algorithm = headers.get("x-ms-signature-algorithm", "rsa-sha256").lower()
        if algorithm != "rsa-sha256":
            raise InvalidCallback(f"unsupported signature algorithm {algorithm!r}")
        certificate = await self._certificate(headers.get("x-ms-certificate-url", ""))
        self._check_certificate(certificate)
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidCallback("the signing certificate has no RSA key")
        try:
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise InvalidCallback("the signature does not match the body") from None

    async def _certificate(self, url: str) -> x509.Certificate:
        if not url:
            raise InvalidCallback("no x-ms-certificate-url")
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed "[" of an IPv6 host
            raise InvalidCallback("the certificate URL cannot be read") from None
        host = (parts.hostname or "").lower()
        if host not in self._allowed:
            raise InvalidCallback(f"certificate host {host!r} is not allowed")
        if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
            raise InvalidCallback("the certificate URL is not https")
        cached = self._cache.get(url)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=10), allow_redirects=False) as response:
                if response.status != 200:
                    raise InvalidCallback(f"fetching the certificate answered {response.status}")
                data = await response.content.read(64 * 1024)
        except aiohttp.ClientError as error:
            raise InvalidCallback(f"could not fetch the certificate: {error}") from None
        certificate = _parse(data)
        self._cache[url] = (time.monotonic(), certificate)
        return certificate

    def _check_certificate(self, certificate: x509.Certificate) -> None:
        now = self._now()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise InvalidCallback("the signing certificate is not valid now")
        organizations = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        if not any("Microsoft Corporation" in str(o) for o in organizations):
            raise InvalidCallback("the signing certificate is not Microsoft's")
        # Every certificate of the trusted bundle is a trust anchor: a bundle holding Microsoft's
        # issuing CA (not in the system roots) is enough; intermediates are not fetched (AIA).
        issuer = next((ca for ca in self._trusted if ca.subject == certificate.issuer), None)
        if issuer is None:
            raise InvalidCallback("the signing certificate was not issued by a trusted CA")
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise InvalidCallback("the certificate's issuer signature does not verify") from None
        if not issuer.not_valid_before_utc <= now <= issuer.not_valid_after_utc:
            raise InvalidCallback("the issuing CA is not valid now")


def _signature(headers: Mapping[str, str]) -> bytes:
    value = headers.get("x-ms-signature") or headers.get("Authorization") or ""
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "signature" or not encoded:
        raise InvalidCallback("no signature")
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except ValueError:
        raise InvalidCallback("the signature is not base64") from None


def _parse(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_certificate(data)
    except ValueError:
        raise InvalidCallback("the certificate cannot be read") from None
