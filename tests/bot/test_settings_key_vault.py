"""Key Vault settings: the vault's URL fails closed, the sandbox's routing never applies live, and
the app's credential comes from the vault when the environment gives none (read over TLS from the
sandbox's Key Vault stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from bot.settings import Settings, partner_center_config
from storage import KeyVaultSecrets
from tests.bot.test_settings import LIVE, _live
from tests.golive.vault_sandbox import VAULT_URL, VaultSandbox, sandbox_with_vault


@pytest.mark.parametrize(
    "url",
    [
        "http://offboard.vault.azure.net/",  # no TLS: the SDK would refuse to send it a token anyway
        "offboard.vault.azure.net",
        "https://offboard.vault.azure.net/?x=secret-bit",
        "https://user:secret-bit@offboard.vault.azure.net/",
    ],
)
def test_a_vault_url_that_is_not_a_plain_https_url_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    _live(monkeypatch, OFFBOARD_KEY_VAULT_URL=url)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert "OFFBOARD_KEY_VAULT_URL must be the vault's https URL" in str(caught.value)
    assert "secret-bit" not in str(caught.value)


def test_with_a_vault_live_mode_needs_no_client_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_PARTNER_CLIENT_SECRET=None)
    with pytest.raises(ValidationError, match="OFFBOARD_KEY_VAULT_URL"):
        Settings(_env_file=None)
    monkeypatch.setenv("OFFBOARD_KEY_VAULT_URL", "https://offboard.vault.azure.net")
    settings = Settings(_env_file=None)
    assert settings.key_vault_url == "https://offboard.vault.azure.net/"
    assert settings.token_secret_name == "partner-center-token-cache"
    assert (settings.partner_secret_name, settings.partner_certificate_secret_name) == (
        "partner-center-client-secret",
        "partner-center-certificate",
    )


def test_live_mode_with_a_vault_refuses_a_refresh_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault's sign-in had its MFA checked by the consent; one from the environment did not."""
    _live(monkeypatch, OFFBOARD_KEY_VAULT_URL=VAULT_URL, OFFBOARD_PARTNER_REFRESH_TOKEN="refresh-token-9f2e")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert "OFFBOARD_PARTNER_REFRESH_TOKEN is set together with OFFBOARD_KEY_VAULT_URL" in str(caught.value)
    assert "refresh-token-9f2e" not in str(caught.value)
    _live(monkeypatch, OFFBOARD_KEY_VAULT_URL=None)  # without a vault it is still the way in
    assert Settings(_env_file=None).partner_refresh_token.get_secret_value() == "refresh-token-9f2e"


def test_live_blob_storage_needs_the_vault_for_the_shared_token_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blob storage runs several replicas: a cache file each would let the rotating refresh token diverge."""
    _live(monkeypatch, OFFBOARD_STORAGE="blob", OFFBOARD_BLOB_ACCOUNT_URL="https://offboardprod.blob.core.windows.net")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert "OFFBOARD_KEY_VAULT_URL with OFFBOARD_STORAGE=blob" in str(caught.value)
    _live(monkeypatch, OFFBOARD_KEY_VAULT_URL=VAULT_URL)
    assert Settings(_env_file=None).live_mode_gaps() == []


@pytest.mark.parametrize("name", ["OFFBOARD_SANDBOX_VAULT_ADDRESS", "OFFBOARD_SANDBOX_CA_FILE"])
def test_the_sandbox_vault_routing_is_refused_in_live_mode(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Live, nothing may send the vault's name to another socket nor trust another CA."""
    _live(monkeypatch, OFFBOARD_KEY_VAULT_URL="https://offboard.vault.azure.net/", **{name: "127.0.0.1:8443"})
    with pytest.raises(ValidationError, match="apply to the sandbox only"):
        Settings(_env_file=None)


def test_secret_names_follow_key_vault_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_TOKEN_SECRET_NAME="partner_center/token")
    with pytest.raises(ValidationError, match="1-127 letters, digits and dashes"):
        Settings(_env_file=None)


def test_the_token_warning_comes_after_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_TOKEN_CHECK_DAYS="30", OFFBOARD_TOKEN_WARN_DAYS="20")
    with pytest.raises(ValidationError, match="OFFBOARD_TOKEN_WARN_DAYS must be more than OFFBOARD_TOKEN_CHECK_DAYS"):
        Settings(_env_file=None)
    _live(monkeypatch, OFFBOARD_TOKEN_CHECK_DAYS=None, OFFBOARD_TOKEN_WARN_DAYS=None)
    settings = Settings(_env_file=None)
    assert (settings.token_check_days, settings.token_warn_days) == (7, 75)


# ---- The app's credential from the vault (live settings, the sandbox's vault) ----


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[VaultSandbox]:
    async with sandbox_with_vault(tmp_path) as running:
        yield running


@pytest.fixture
async def secrets(vault: VaultSandbox) -> AsyncIterator[KeyVaultSecrets]:
    opened = vault.secrets()
    yield opened
    await opened.close()


def _live_settings(**changed: str) -> Settings:
    values: dict[str, Any] = {**LIVE, "OFFBOARD_KEY_VAULT_URL": VAULT_URL, **changed}
    values.pop("OFFBOARD_PARTNER_CLIENT_SECRET")
    return Settings(_env_file=None, **values)


async def test_the_client_secret_is_read_from_the_vault(secrets: KeyVaultSecrets) -> None:
    await secrets.set("partner-center-client-secret", "from-the-vault")
    config = await partner_center_config(_live_settings(), vault=secrets)
    assert config.client_secret == "from-the-vault" and config.certificate is None
    assert config.token_cache_store is not None and config.token_cache_path is None  # the cache is the vault's too
    assert "partner-center-token-cache" in config.token_cache_store.description


async def test_the_certificate_is_read_from_the_vault_as_pem(secrets: KeyVaultSecrets) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "offboard-partner-center")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    # As Key Vault keeps a certificate's secret (application/x-pem-file): key, then certificate.
    await secrets.set("partner-center-certificate", key_pem + certificate_pem, content_type="application/x-pem-file")

    config = await partner_center_config(_live_settings(), vault=secrets)
    assert config.client_secret is None and config.certificate is not None
    assert config.certificate.thumbprint == certificate.fingerprint(hashes.SHA1()).hex()  # noqa: S303
    assert config.certificate.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")


async def test_a_vault_with_neither_names_both_secrets(secrets: KeyVaultSecrets) -> None:
    with pytest.raises(ValueError, match="holds neither") as caught:
        await partner_center_config(_live_settings(), vault=secrets)
    assert "'partner-center-client-secret'" in str(caught.value) and "'partner-center-certificate'" in str(caught.value)
    assert VAULT_URL in str(caught.value)
