"""Partner Center callbacks shaped as Microsoft documents them (fidelity-audit #10, #11, #12).

The certificate URL is the documented one,
``https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer``
(PC-PR-2023 ``developer/partner-center-webhooks.md``), fetched over https: the test routes that
host to a loopback TLS server (an aiohttp resolver; the server's TLS certificate comes from a
test TLS CA the client session trusts). The ``.cer`` served is a single DER leaf issued by an
intermediate "O=Microsoft Corporation" CA, issued in turn by a test root: the shape the page
describes ("chains to the Microsoft Root"). Settings are the defaults; the CA bundle
(OFFBOARD_EVENTS_CA_FILE) holds the root and the intermediate, as the README tells operators.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from app import _trusted_cas
from bot.settings import Settings
from partner_center.webhooks import InvalidCallback, SignatureVerifier
from tests.bot.webhook_pki import Credentials

HOST = "3psostorageacct.blob.core.windows.net"
URL = f"https://{HOST}/cert/pcnotifications-dispatch.microsoft.com.cer"  # verbatim from the page
BODY = json.dumps(
    {
        "EventName": "test-created",
        "ResourceUri": "http://localhost:16722/v1/webhooks/registration/test",
        "ResourceName": "test",
        "AuditUri": None,
        "ResourceChangeUtcDate": "2017-11-16T16:19:06.3520276+00:00",
    }
).encode()  # the sample event of the same page


class _ToLoopback(AbstractResolver):
    """Resolves the documented host (any port) to the loopback test server."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host != HOST:
            raise OSError(f"no network in tests: {host}")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": self._port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def _tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for HOST and a client context trusting only the TLS test CA."""
    tls_ca = Credentials("TLS Test CA")
    server = Credentials("TLS test server", ca=tls_ca, common_name=HOST)
    now = datetime.now(UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(tls_ca.certificate.subject)
        .public_key(server.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(tls_ca.key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server.key.public_key()), critical=False)
        .sign(tls_ca.key, hashes.SHA256())
    )
    (tmp_path / "tls.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tls.key").write_bytes(
        server.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "tls.pem", tmp_path / "tls.key")
    client_context = ssl.create_default_context(cadata=tls_ca.pem().decode())
    return server_context, client_context


@pytest.fixture
def pki() -> dict[str, Credentials]:
    root = Credentials("Test Root Authority", common_name="Test Microsoft Root")
    intermediate = Credentials("Microsoft Corporation", ca=root, authority=True, common_name="Test Microsoft Issuing CA 01")
    other = Credentials("Contoso Ltd", ca=root, authority=True, common_name="Contoso Issuing CA")
    return {
        "root": root,
        "intermediate": intermediate,
        "other": other,
        # Microsoft's leaf: no O= in its subject (fidelity #12: the sample reads the issuer).
        "leaf": Credentials("", ca=intermediate, common_name="pcnotifications-dispatch.microsoft.com"),
        "leaf_of_other": Credentials("Microsoft Corporation", ca=other),
    }


async def _verifier(
    aiohttp_server: Any, tmp_path: Path, served: bytes, bundle: bytes
) -> tuple[SignatureVerifier, aiohttp.ClientSession, list[str]]:
    fetched: list[str] = []

    async def certificate(request: web.Request) -> web.Response:
        fetched.append(request.path)
        if request.path != "/cert/pcnotifications-dispatch.microsoft.com.cer":
            raise web.HTTPNotFound()
        return web.Response(body=served, content_type="application/pkix-cert")

    app = web.Application()
    app.router.add_get("/{tail:.*}", certificate)
    server_context, client_context = _tls(tmp_path)
    server = await aiohttp_server(app, ssl=server_context)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_ToLoopback(server.port), ssl=client_context))
    (tmp_path / "events-ca.pem").write_bytes(bundle)
    settings = Settings(_env_file=None, sandbox_port=0, events_ca_file=tmp_path / "events-ca.pem")  # all else default
    verifier = SignatureVerifier(session, allowed_hosts=settings.events_certificate_hosts, trusted=_trusted_cas(settings.events_ca_file))
    return verifier, session, fetched


def _headers(signer: Credentials, **replaced: str) -> dict[str, str]:
    return {
        "Authorization": f"Signature {signer.signature(BODY)}",
        "x-ms-certificate-url": URL,
        "x-ms-signature-algorithm": "rsa-sha256",
        **replaced,
    }


async def test_the_default_allow_list_is_the_documented_host_and_folder() -> None:
    assert Settings(_env_file=None, sandbox_port=0).events_certificate_hosts == [f"{HOST}/cert/"]


async def test_a_genuine_shaped_callback_is_accepted_with_default_settings(
    aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]
) -> None:
    bundle = pki["root"].pem() + pki["intermediate"].pem()
    verifier, session, fetched = await _verifier(aiohttp_server, tmp_path, pki["leaf"].der(), bundle)
    async with session:
        await verifier.verify(_headers(pki["leaf"]), BODY)
        # Signed with another key, or for another body: refused.
        with pytest.raises(InvalidCallback, match="signature does not match"):
            await verifier.verify(_headers(pki["leaf_of_other"]), BODY)
    assert fetched == ["/cert/pcnotifications-dispatch.microsoft.com.cer"]  # fetched once, then kept


async def test_without_the_intermediate_in_the_bundle_the_chain_is_refused(
    aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]
) -> None:
    verifier, session, _ = await _verifier(aiohttp_server, tmp_path, pki["leaf"].der(), pki["root"].pem())
    async with session:
        with pytest.raises(InvalidCallback, match="does not chain to a trusted root"):
            await verifier.verify(_headers(pki["leaf"]), BODY)


async def test_an_intermediate_alone_is_not_a_trust_anchor(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> None:
    """Only self-signed certificates of the bundle are roots: a bundle holding just the
    intermediate trusts nothing."""
    verifier, session, _ = await _verifier(aiohttp_server, tmp_path, pki["leaf"].der(), pki["intermediate"].pem())
    async with session:
        with pytest.raises(InvalidCallback, match="no trusted root"):
            await verifier.verify(_headers(pki["leaf"]), BODY)


async def test_a_leaf_whose_issuer_is_not_microsoft_is_refused(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> None:
    """The subject says O=Microsoft Corporation, the issuer does not: refused (the sample reads the issuer)."""
    bundle = pki["root"].pem() + pki["intermediate"].pem() + pki["other"].pem()
    verifier, session, _ = await _verifier(aiohttp_server, tmp_path, pki["leaf_of_other"].der(), bundle)
    async with session:
        with pytest.raises(InvalidCallback, match="not issued by Microsoft"):
            await verifier.verify(_headers(pki["leaf_of_other"]), BODY)


@pytest.mark.parametrize(
    "url",
    [
        "https://pcnotifications-dispatch.microsoft.com/cert/pcnotifications-dispatch.microsoft.com.cer",  # the old, wrong default
        f"https://{HOST}/other/pcnotifications-dispatch.microsoft.com.cer",  # outside the documented folder
        f"http://{HOST}/cert/pcnotifications-dispatch.microsoft.com.cer",  # not https
        f"https://{HOST}.evil.example/cert/pcnotifications-dispatch.microsoft.com.cer",
    ],
)
async def test_certificate_urls_off_the_documented_place_are_refused(
    aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials], url: str
) -> None:
    verifier, session, fetched = await _verifier(aiohttp_server, tmp_path, pki["leaf"].der(), pki["root"].pem() + pki["intermediate"].pem())
    async with session:
        with pytest.raises(InvalidCallback):
            await verifier.verify(_headers(pki["leaf"], **{"x-ms-certificate-url": url}), BODY)
    assert fetched == []


async def test_the_signature_algorithm_header_is_required(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> None:
    verifier, session, fetched = await _verifier(aiohttp_server, tmp_path, pki["leaf"].der(), pki["root"].pem() + pki["intermediate"].pem())
    headers = _headers(pki["leaf"])
    del headers["x-ms-signature-algorithm"]
    async with session:
        with pytest.raises(InvalidCallback, match="x-ms-signature-algorithm"):
            await verifier.verify(headers, BODY)
    assert fetched == []


def test_a_bundle_without_microsofts_intermediate_is_warned_about_at_startup(
    pki: dict[str, Credentials], caplog: pytest.LogCaptureFixture
) -> None:
    """The system roots hold no issuing intermediate: every genuine callback would be refused
    (fidelity #11), so the operator is told when the verifier is made, not at the first callback."""
    with caplog.at_level("WARNING", logger="partner_center.webhooks"):
        SignatureVerifier(None, allowed_hosts=[f"{HOST}/cert/"], trusted=[pki["root"].certificate])  # type: ignore[arg-type]
    assert "no Microsoft intermediate CA" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="partner_center.webhooks"):
        SignatureVerifier(None, allowed_hosts=[f"{HOST}/cert/"], trusted=[pki["root"].certificate, pki["intermediate"].certificate])  # type: ignore[arg-type]
    assert caplog.text == ""
