"""Certificate credentials: a client_assertion JWT signed by a registered certificate."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pc_sandbox import DEMO
from pc_sandbox.client_auth import JWT_BEARER

CERT_CLIENT = "cert-app"


def _key_and_certificate() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sandbox test app")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def registered():
    return _key_and_certificate()


def _assertion(key, *, issuer: str = CERT_CLIENT, algorithm: str = "PS256", lifetime: int = 600) -> str:
    now = int(time.time())
    claims = {"aud": "https://whatever/token", "iss": issuer, "sub": issuer, "exp": now + lifetime, "iat": now, "nbf": now, "jti": "x"}
    return jwt.encode(claims, key, algorithm=algorithm)


async def _token(client, assertion: str, client_id: str = CERT_CLIENT):
    return await client.post(
        f"/{DEMO.tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
        },
    )


@pytest.mark.parametrize("algorithm", ["RS256", "PS256"])
async def test_assertion_signed_by_the_registered_certificate_is_accepted(make_client, registered, algorithm):
    key, certificate = registered
    client = await make_client(client_certificates={CERT_CLIENT: certificate})
    response = await _token(client, _assertion(key, algorithm=algorithm))
    assert response.status == 200, await response.text()


async def test_assertion_signed_by_another_key_is_refused(make_client, registered):
    _, certificate = registered
    other_key, _ = _key_and_certificate()
    client = await make_client(client_certificates={CERT_CLIENT: certificate})
    response = await _token(client, _assertion(other_key))
    assert response.status == 401
    assert (await response.json())["error"] == "invalid_client"


async def test_expired_assertion_is_refused(make_client, registered):
    key, certificate = registered
    client = await make_client(client_certificates={CERT_CLIENT: certificate})
    response = await _token(client, _assertion(key, lifetime=-3600))
    assert response.status == 401
    assert "AADSTS700024" in (await response.json())["error_description"]


async def test_assertion_for_another_client_is_refused(make_client, registered):
    key, certificate = registered
    client = await make_client(client_certificates={CERT_CLIENT: certificate})
    response = await _token(client, _assertion(key, issuer="someone-else"))
    assert response.status == 401


async def test_assertion_without_registered_certificate_is_refused(client, registered):
    key, _ = registered
    response = await _token(client, _assertion(key, issuer=DEMO.client_id), client_id=DEMO.client_id)
    assert response.status == 401
