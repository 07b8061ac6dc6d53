"""MSAL against the sandbox's token endpoint: secrets, certificates, refresh tokens, the cache."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from partner_center import (
    AuthError,
    CertificateCredential,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    UnavailableError,
    connect,
    token_provider,
)
from partner_center.client import PartnerCenterClient
from pc_sandbox import SandboxOptions
from tests._helpers import FAST_RETRY, customer_named


def _client(sandbox: Any, http: aiohttp.ClientSession, **config: Any) -> PartnerCenterClient:
    return connect(
        PartnerCenterConfig.sandbox(sandbox.base_url, **config),
        session=http,
        limits=PartnerLimits(RateSettings()),
        retry=FAST_RETRY,
    )


class _AppOnlyEverywhere:
    """A token provider that (wrongly) hands out app-only tokens where app+user is needed."""

    def __init__(self, config: PartnerCenterConfig) -> None:
        self._inner = token_provider(config)

    async def access_token(self, *, needs_user: bool) -> str:
        return await self._inner.access_token(needs_user=False)

    async def forget(self, token: str) -> None:
        await self._inner.forget(token)


async def test_app_only_secret_gets_a_token_that_partner_center_accepts(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = _client(sandbox, http, refresh_token=None)
    assert (await customer_named(client, "Contoso Ltd")).domain == "contoso.onmicrosoft.com"


async def test_a_wrong_secret_is_an_auth_error(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = _client(sandbox, http, client_secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        await client.find_customers("CompanyName", "Contoso")
    assert caught.value.code == "invalid_client"


async def test_an_unknown_tenant_is_an_auth_error(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = _client(sandbox, http, tenant="no-such-tenant")
    with pytest.raises(AuthError):
        await client.find_customers("CompanyName", "Contoso")


async def test_a_token_endpoint_that_does_not_answer_is_unavailable_not_an_auth_error(sandbox: Any, http: aiohttp.ClientSession) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = dataclasses.replace(PartnerCenterConfig.sandbox(sandbox.base_url), token_endpoint_base=dead)
    client = connect(config, session=http, limits=PartnerLimits(RateSettings()), retry=FAST_RETRY)
    with pytest.raises(UnavailableError) as caught:
        await client.find_customers("CompanyName", "Contoso")
    assert caught.value.code == "unreachable"


async def test_app_user_operations_need_a_refresh_token(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = _client(sandbox, http, refresh_token=None)
    contoso = await customer_named(client, "Contoso Ltd")
    with pytest.raises(AuthError) as caught:
        await client.remove_relationship(contoso.id)
    assert caught.value.code == "app_user_not_configured"


async def test_partner_center_refuses_app_only_tokens_where_app_user_is_required(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = PartnerCenterClient(
        session=http,
        base_url=sandbox.base_url,
        tokens=_AppOnlyEverywhere(PartnerCenterConfig.sandbox(sandbox.base_url)),
        limits=PartnerLimits(RateSettings()),
        retry=FAST_RETRY,
    )
    contoso = await customer_named(client, "Contoso Ltd")
    for operation in (
        lambda: client.remove_relationship(contoso.id),
        lambda: client.get_relationship_request_url(),
        lambda: client.list_entitlements(contoso.id, "software"),
    ):
        with pytest.raises(AuthError) as caught:
            await operation()
        assert caught.value.status == 403 and caught.value.code == "2032"


async def test_a_bad_bearer_token_is_refused(sandbox: Any, http: aiohttp.ClientSession) -> None:
    class Garbage:
        def __init__(self) -> None:
            self.forgotten: list[str] = []

        async def access_token(self, *, needs_user: bool) -> str:
            return "garbage"

        async def forget(self, token: str) -> None:
            self.forgotten.append(token)

    client = PartnerCenterClient(
        session=http, base_url=sandbox.base_url, tokens=(garbage := Garbage()), limits=PartnerLimits(RateSettings()), retry=FAST_RETRY
    )
    with pytest.raises(AuthError) as caught:
        await client.find_customers("CompanyName", "Contoso")
    assert caught.value.status == 401
    # Dropped once and asked for again; the second 401 is the answer.
    assert garbage.forgotten == ["garbage"]


async def test_the_refresh_token_is_exchanged_once_and_the_cache_persists(
    sandbox: Any, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cache = tmp_path / "msal-cache.json"
    first = token_provider(PartnerCenterConfig.sandbox(sandbox.base_url, token_cache_path=cache))
    token = await first.access_token(needs_user=True)
    assert token and cache.exists() and cache.stat().st_mode & 0o777 == 0o600
    stored = json.loads(cache.read_text())
    assert stored["RefreshToken"] and stored["Account"]
    # A later process has no refresh token configured: the persisted cache is enough.
    later = token_provider(PartnerCenterConfig.sandbox(sandbox.base_url, refresh_token=None, token_cache_path=cache))
    assert later.has_user_credential
    assert await later.access_token(needs_user=True)
    client = connect(
        PartnerCenterConfig.sandbox(sandbox.base_url, refresh_token=None, token_cache_path=cache),
        session=http,
        limits=PartnerLimits(RateSettings()),
        retry=FAST_RETRY,
    )
    assert (await client.get_relationship_request_url()).startswith("https://")


def _certificate() -> tuple[str, str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "offboard-test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem, cert_pem, certificate.fingerprint(hashes.SHA1()).hex()  # noqa: S303 (Entra's thumbprint is SHA-1)


KEY_PEM, CERT_PEM, THUMBPRINT = _certificate()


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(client_certificates={"sandbox-app": CERT_PEM})])
async def test_a_certificate_credential_signs_a_client_assertion(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = _client(sandbox, http, client_secret=None, refresh_token=None, certificate=CertificateCredential(KEY_PEM, THUMBPRINT))
    assert (await customer_named(client, "Contoso Ltd")).name == "Contoso Ltd"


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(client_certificates={"sandbox-app": CERT_PEM})])
async def test_a_certificate_the_sandbox_does_not_know_is_refused(sandbox: Any, http: aiohttp.ClientSession) -> None:
    other_key, _, other_thumbprint = _certificate()
    client = _client(sandbox, http, client_secret=None, refresh_token=None, certificate=CertificateCredential(other_key, other_thumbprint))
    with pytest.raises(AuthError):
        await client.find_customers("CompanyName", "Contoso")
