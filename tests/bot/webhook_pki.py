"""Partner Center's webhook signing, made here: a test CA, certificates it signs (or not), and a
loopback server that hands the certificates out as Partner Center's certificate URL does."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = ("Credentials", "serve_certificates")


class Credentials:
    """A CA and a "Microsoft Corporation" signing certificate made here (no Microsoft cloud)."""

    def __init__(
        self,
        organization: str = "Microsoft Corporation",
        *,
        ca: Credentials | None = None,
        authority: bool | None = None,
        common_name: str | None = None,
    ) -> None:
        """A self-signed root (no ``ca``), or a certificate ``ca`` issued: a leaf, or an intermediate
        CA when ``authority`` (Microsoft's webhook leaf is issued by an intermediate, never by a root)."""
        now = datetime.now(UTC)
        authority = ca is None if authority is None else authority
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []  # "": no O=
        name = x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name or f"{organization} test")])
        issuer_name, issuer_key = (ca.certificate.subject, ca.key) if ca else (name, self.key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
        )
        if authority:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
        if ca is not None:
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        self.certificate = builder.sign(issuer_key, hashes.SHA256())

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def signature(self, body: bytes) -> str:
        return base64.b64encode(self.key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


async def serve_certificates(
    aiohttp_server: Any, served: Mapping[str, bytes], *, ca: Credentials, folder: Path, intermediates: Sequence[Credentials] = ()
) -> tuple[str, Path]:
    """Serve ``GET /{name}`` → ``served[name]`` (404 for any other name) on loopback, and write the
    CA's PEM bundle (the root, then any intermediates) into ``folder``; the server's base URL and
    the bundle's path."""

    async def certificate(request: web.Request) -> web.Response:
        if request.match_info["name"] not in served:
            raise web.HTTPNotFound()
        return web.Response(body=served[request.match_info["name"]])

    certificates = web.Application()
    certificates.router.add_get("/{name}", certificate)
    server = await aiohttp_server(certificates)
    bundle = folder / "ca.pem"
    bundle.write_bytes(ca.pem() + b"".join(i.pem() for i in intermediates))
    return str(server.make_url("")).rstrip("/"), bundle
