"""The Key Vault secrets store against the sandbox's Key Vault stand-in, over TLS and the Azure SDK.

The SDK's whole path runs: the unauthenticated first request, the 401 challenge, a token for
``https://vault.azure.net`` from the sandbox's token endpoint (client credentials through MSAL), the
challenge-resource check (on: the vault is addressed by its *.vault.azure.net name), TLS verified
against the test CA. What was written is read back over the stand-in's REST API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.settings import Settings, open_key_vault
from storage import KeyVaultAccessDenied, KeyVaultSecrets, KeyVaultUnavailable
from tests.golive.vault_sandbox import VAULT_NAME, VAULT_URL, VaultSandbox, sandbox_with_vault


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[VaultSandbox]:
    async with sandbox_with_vault(tmp_path) as running:
        yield running


@pytest.fixture
async def secrets(vault: VaultSandbox) -> AsyncIterator[KeyVaultSecrets]:
    opened = vault.secrets()
    yield opened
    await opened.close()


async def test_a_missing_secret_is_none(secrets: KeyVaultSecrets) -> None:
    assert await secrets.get("partner-center-token-cache") is None


async def test_each_set_is_a_new_version_with_its_own_tags_and_get_reads_the_latest(secrets: KeyVaultSecrets, vault: VaultSandbox) -> None:
    first = await secrets.set("partner-center-token-cache", "one", tags={"mfa": "true", "consented-by": "ann@example.com"})
    second = await secrets.set("partner-center-token-cache", "two", tags={"mfa": "true", "redeemed-at": "2026-05-01T10:00:00Z"})
    assert len(first) == 32 and len(second) == 32 and first != second

    latest = await secrets.get("partner-center-token-cache")
    assert latest is not None
    assert (latest.value, latest.version) == ("two", second)
    assert dict(latest.tags) == {"mfa": "true", "redeemed-at": "2026-05-01T10:00:00Z"}  # tags are per version
    assert "two" not in repr(latest)  # a secret's value never reaches a log line

    # Read back over the REST API: both versions, the first one's value and tags intact.
    token = await asyncio.to_thread(vault.vault_token)
    versions = (await asyncio.to_thread(vault.rest, "secrets/partner-center-token-cache/versions", token=token))["value"]
    assert sorted(item["id"].rsplit("/", 1)[1] for item in versions) == sorted([first, second])
    assert all("value" not in item for item in versions)
    old = await asyncio.to_thread(vault.rest, f"secrets/partner-center-token-cache/{first}", token=token)
    assert old["value"] == "one" and old["tags"] == {"mfa": "true", "consented-by": "ann@example.com"}
    assert old["id"] == f"https://{VAULT_NAME}/secrets/partner-center-token-cache/{first}"


async def test_an_identity_without_the_role_is_told_which_role_on_which_vault(secrets: KeyVaultSecrets, vault: VaultSandbox) -> None:
    await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": False})
    with pytest.raises(KeyVaultAccessDenied) as reading:
        await secrets.get("partner-center-token-cache")
    assert reading.value.status == 403
    assert VAULT_URL in str(reading.value) and "'Key Vault Secrets User'" in str(reading.value)
    assert "ForbiddenByRbac" in str(reading.value)
    with pytest.raises(KeyVaultAccessDenied) as writing:
        await secrets.set("partner-center-token-cache", "x")
    assert "'Key Vault Secrets Officer'" in str(writing.value)


async def test_a_wrong_identity_is_refused_with_what_to_check(vault: VaultSandbox) -> None:
    """The sandbox's token endpoint refuses a wrong client secret: no token, no vault."""
    from partner_center import ClientCredentialsAzureCredential, PartnerCenterConfig

    demo = PartnerCenterConfig.sandbox(vault.base_url)
    credential = ClientCredentialsAzureCredential(
        authority_host=demo.authority_host,
        tenant=demo.tenant,
        client_id=demo.client_id,
        client_secret="not-the-secret",
        http_client=demo.router(),
        known_authority=False,
    )
    routes = {VAULT_NAME: ("127.0.0.1", vault.tls_port)}
    async with KeyVaultSecrets(VAULT_URL, credential, ca_file=vault.ca_file, routes=routes) as secrets:
        with pytest.raises(KeyVaultAccessDenied) as caught:
            await secrets.get("partner-center-token-cache")
    assert VAULT_URL in str(caught.value) and "could not authenticate" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)


async def test_a_certificate_from_another_ca_is_not_trusted(vault: VaultSandbox, tmp_path: Path) -> None:
    """Without the sandbox's CA, the vault's certificate is refused: TLS is verified, never skipped."""
    settings = Settings(_env_file=None, **{**vault.env(), "OFFBOARD_SANDBOX_CA_FILE": ""})
    secrets = open_key_vault(settings)
    assert secrets is not None
    try:
        with pytest.raises(KeyVaultUnavailable) as caught:
            await secrets.get("partner-center-token-cache")
        assert "OFFBOARD_KEY_VAULT_URL" in str(caught.value)
    finally:
        await secrets.close()


def test_the_vault_url_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        KeyVaultSecrets("http://offboard.vault.azure.net/", credential=object())  # type: ignore[arg-type]
