"""Partner Center webhook callbacks: verify that Microsoft sent them, and read them.

Verification follows Microsoft's webhook page (PC-PR-2023 ``developer/partner-center-webhooks.md``,
ms.date 2023-10-17; ../shared/reference/partner-center-api.md §10 as corrected; ../shared/reference/fidelity-audit.md #10-#12):

- Required headers: the signature (``Authorization: Signature <base64>``, or ``x-ms-signature``
  when ``SignatureTokenToMsSignatureHeader`` is set), ``x-ms-certificate-url`` and
  ``x-ms-signature-algorithm`` ("required headers", same page; fidelity #12). Only ``rsa-sha256``.
- The certificate URL must be https and start with an allowed prefix. The documented URL is
  ``https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer``
  (same page; fidelity #10): the host is the storage account, the ``.cer`` name is the path. An
  allowed entry is a host (any path) or a host and a path prefix (``host/cert/``). A loopback host
  allowed explicitly, for tests, may use http.
- The certificate "chains to the Microsoft Root" (same page; the sample calls
  ``X509Certificate2.Verify()``, which builds the chain through intermediates; fidelity #11). The
  ``.cer`` is a single leaf issued by an intermediate CA, and nothing but the allowed host may be
  fetched, so the intermediates come from the configured bundle: its self-signed certificates are
  the trust anchors, the others are intermediates only (never anchors). The chain leaf →
  intermediate(s) → root is built and checked (signatures, validity now, CA basic constraints and
  key usage) by ``cryptography.x509.verification``. The leaf's own extensions are not held to
  TLS rules (it signs callbacks; it is not a TLS peer): assumption, the page names none.
- The **issuer** names ``O=Microsoft Corporation`` (sample: ``certificate.Issuer.Contains("O=Microsoft
  Corporation")``; fidelity #12). The subject is not required to carry an ``O=`` (assumption
  made on purpose: current Microsoft leaves may not).
- The signature is RSA-SHA256 (PKCS#1 v1.5) over the raw body, with the leaf's key (same page).

Any failure raises :class:`InvalidCallback`.

The certificate is fetched from the URL without its query, and kept by scheme, host, port and
path: an hour when fetched, a minute when the fetch failed (so that a stream of forged callbacks
naming the same URL, with or without a query, makes at most one fetch a minute). Callbacks
naming a URL being fetched wait for that fetch; at most 64 URLs are kept, and at most 4 fetched
at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID
from pydantic import BaseModel, ConfigDict, Field

__all__ = (
    "DOCUMENTED_CERTIFICATE_PREFIX",
    "CertificateCache",
    "InvalidCallback",
    "PartnerCenterEvent",
    "SignatureVerifier",
    "load_ca_bundle",
)

_log = logging.getLogger(__name__)
# The documented certificate URL's host and folder (PC-PR-2023 developer/partner-center-webhooks.md).
DOCUMENTED_CERTIFICATE_PREFIX = "3psostorageacct.blob.core.windows.net/cert/"
MICROSOFT_ISSUER = "Microsoft Corporation"  # the sample's "O=Microsoft Corporation", read from the issuer
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_CACHE_SECONDS = 3600.0
# Long enough that forged callbacks cannot make the bot fetch more than once a minute per URL,
# short enough that Microsoft's certificate endpoint having a bad minute is soon forgotten.
_FAILURE_SECONDS = 60.0
_CACHED_URLS = 64  # Microsoft uses one or two; more are forgeries, which must not grow memory
_CONCURRENT_FETCHES = 4
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

    @property
    def fingerprint(self) -> str:
        """What makes the event itself (name, resource, change date): the same for a replay of it.

        SHA-256 over the three, each length-prefixed, so that no two triples give the same text.
        """
        parts = (self.event_name, self.resource_uri, self.resource_change_utc_date)
        text = "".join(f"{len(part)}:{part}" for part in parts)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def changed_at(self) -> datetime | None:
        """``ResourceChangeUtcDate`` (UTC when it names no offset), or None when absent or unreadable."""
        try:
            changed = datetime.fromisoformat(self.resource_change_utc_date)
        except ValueError:
            return None
        return changed if changed.tzinfo is not None else changed.replace(tzinfo=UTC)


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


@dataclass(frozen=True, slots=True)
class _Kept:
    """A fetch's outcome, kept until ``until`` (monotonic): the certificate, or why there is none."""

    until: float
    certificate: x509.Certificate | None
    failure: str = ""


class CertificateCache:
    """Certificates by URL, fetched once: failures kept too (for less time), the oldest forgotten
    past ``size`` URLs, callers of a URL being fetched waiting for that one fetch, and at most
    ``concurrency`` fetches at once.

    :param fetch: downloads and reads the certificate at a URL; raises :class:`InvalidCallback`.
    """

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[x509.Certificate]],
        *,
        size: int = _CACHED_URLS,
        concurrency: int = _CONCURRENT_FETCHES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._size = size
        self._clock = clock
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # least recently used first
        self._fetching: dict[str, asyncio.Task[_Kept]] = {}
        self._slots = asyncio.Semaphore(concurrency)

    async def get(self, url: str) -> x509.Certificate:
        kept = self._fresh(url)
        if kept is None:
            fetching = self._fetching.get(url)
            if fetching is None:
                fetching = self._fetching[url] = asyncio.create_task(self._fetch_and_keep(url), name=f"fetch {url}")
            # Shielded: a caller that goes away does not cancel the fetch the others wait for.
            kept = await asyncio.shield(fetching)
        if kept.certificate is None:
            raise InvalidCallback(kept.failure)
        return kept.certificate

    def _fresh(self, url: str) -> _Kept | None:
        kept = self._kept.get(url)
        if kept is None:
            return None
        if kept.until <= self._clock():
            del self._kept[url]
            return None
        self._kept.move_to_end(url)
        return kept

    async def _fetch_and_keep(self, url: str) -> _Kept:
        try:
            async with self._slots:
                try:
                    kept = _Kept(self._clock() + _CACHE_SECONDS, await self._fetch(url))
                except InvalidCallback as failure:
                    kept = _Kept(self._clock() + _FAILURE_SECONDS, None, str(failure))
            self._kept[url] = kept
            self._kept.move_to_end(url)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
            return kept
        finally:
            del self._fetching[url]


class SignatureVerifier:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        allowed_hosts: list[str],
        trusted: list[x509.Certificate],
        now: Any = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._allowed = [_allowed_entry(entry) for entry in allowed_hosts if entry.strip()]
        # Self-signed certificates of the bundle are the trust anchors; the rest only help build
        # the chain (Microsoft's issuing intermediate belongs there: fidelity #11).
        self._roots = [ca for ca in trusted if _self_signed(ca)]
        self._intermediates = [ca for ca in trusted if not _self_signed(ca)]
        self._now = now
        self._certificates = CertificateCache(self._download)
        if not self._roots:
            _log.warning("no trusted root CA: Partner Center callbacks will all be refused")
        if not any(_issued_by_microsoft(ca) or _names_microsoft(ca.subject) for ca in self._intermediates):
            _log.warning(
                "no Microsoft intermediate CA in the events CA bundle (OFFBOARD_EVENTS_CA_FILE): Microsoft's "
                "webhook certificate is issued by an intermediate, so genuine callbacks will be refused"
            )

    async def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        signature = _signature(headers)
        # A required header (PC-PR-2023 developer/partner-center-webhooks.md): not defaulted.
        algorithm = headers.get("x-ms-signature-algorithm", "").strip().lower()
        if not algorithm:
            raise InvalidCallback("no x-ms-signature-algorithm")
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
            port = parts.port  # a port that is not a number raises here
        except ValueError:  # e.g. an unclosed "[" of an IPv6 host
            raise InvalidCallback("the certificate URL cannot be read") from None
        host = (parts.hostname or "").lower()
        if not any(host == allowed_host and (parts.path or "/").startswith(prefix) for allowed_host, prefix in self._allowed):
            raise InvalidCallback(f"certificate URL {host!r}{parts.path!r} is not allowed")
        if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
            raise InvalidCallback("the certificate URL is not https")
        return await self._certificates.get(_fetched_url(parts, host, port))

    async def _download(self, url: str) -> x509.Certificate:
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=10), allow_redirects=False) as response:
                if response.status != 200:
                    raise InvalidCallback(f"fetching the certificate answered {response.status}")
                data = await response.content.read(64 * 1024)
        except (TimeoutError, aiohttp.ClientError) as error:  # the 10 s limit raises TimeoutError
            raise InvalidCallback(f"could not fetch the certificate: {error!r}") from None
        return _parse(data)

    def _check_certificate(self, certificate: x509.Certificate) -> None:
        now = self._now()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise InvalidCallback("the signing certificate is not valid now")
        # The sample reads the issuer: certificate.Issuer.Contains("O=Microsoft Corporation").
        if not _issued_by_microsoft(certificate):
            raise InvalidCallback("the signing certificate was not issued by Microsoft Corporation")
        if not self._roots:
            raise InvalidCallback("no trusted root CA is configured")
        builder = (
            verification.PolicyBuilder()
            .store(verification.Store(self._roots))
            .time(now)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=verification.ExtensionPolicy.permit_all(),
            )
        )
        try:
            builder.build_client_verifier().verify(certificate, self._intermediates)
        except verification.VerificationError as error:
            raise InvalidCallback(f"the signing certificate does not chain to a trusted root: {error}") from None


def _allowed_entry(entry: str) -> tuple[str, str]:
    """``host`` (any path) or ``host/path/prefix``, lower-cased host; a scheme is tolerated."""
    text = entry.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    host, slash, path = text.partition("/")
    return host.lower(), "/" + path if slash else "/"


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _names_microsoft(name: x509.Name) -> bool:
    return any(str(o.value) == MICROSOFT_ISSUER for o in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))


def _issued_by_microsoft(certificate: x509.Certificate) -> bool:
    return _names_microsoft(certificate.issuer)


def _fetched_url(parts: SplitResult, host: str, port: int | None) -> str:
    """What is fetched, and the cache's key: scheme, host, port and path. The query, fragment and
    any user name are dropped, so that a caller cannot vary them to make the bot fetch again."""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme, netloc if port is None else f"{netloc}:{port}", parts.path or "/", "", ""))


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
