"""Blob storage settings: live, the managed identity and the account URL, never a key (issue 20)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from bot.settings import Settings, open_configured_store
from storage import BlobStore
from tests.bot.test_settings import LIVE

ACCOUNT_URL = "https://offboardprod.blob.core.windows.net"
MANAGED_IDENTITY = "0f4c6a55-9d3e-4b7a-8c21-5e6f7a8b9c0d"
KEY_CONNECTION_STRINGS = {
    "account key": "DefaultEndpointsProtocol=https;AccountName=offboardprod;AccountKey=c2VjcmV0LWtleQ==;EndpointSuffix=core.windows.net",
    "SAS": "BlobEndpoint=https://offboardprod.blob.core.windows.net;SharedAccessSignature=sv=2025-11-05&sig=abc",
    "Azurite shorthand": "UseDevelopmentStorage=true",
}


def _live(monkeypatch: pytest.MonkeyPatch, **changed: str | None) -> None:
    # Live blob storage means several replicas: they share the token cache in a vault (issue 20 review).
    for name, value in {
        **LIVE,
        "OFFBOARD_STORAGE": "blob",
        "OFFBOARD_KEY_VAULT_URL": "https://offboard.vault.azure.net/",
        **changed,
    }.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize("connection_string", list(KEY_CONNECTION_STRINGS.values()), ids=list(KEY_CONNECTION_STRINGS))
def test_live_mode_refuses_a_connection_string_with_a_key(monkeypatch: pytest.MonkeyPatch, connection_string: str) -> None:
    _live(monkeypatch, OFFBOARD_BLOB_CONNECTION_STRING=connection_string)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    message = str(refused.value)
    assert "OFFBOARD_BLOB_ACCOUNT_URL (Blob storage through the managed identity)" in message
    assert "c2VjcmV0LWtleQ" not in message and "sig=abc" not in message  # the refusal does not quote the key


def test_the_insecure_override_allows_the_key_and_the_posture_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_BLOB_CONNECTION_STRING=KEY_CONNECTION_STRINGS["account key"], OFFBOARD_INSECURE_DEV="true")
    settings = Settings(_env_file=None)
    assert "INSECURE DEVELOPMENT OVERRIDE" in settings.posture() and "OFFBOARD_BLOB_ACCOUNT_URL" in settings.posture()
    assert "c2VjcmV0LWtleQ" not in settings.posture()


def test_live_mode_accepts_the_account_url(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_BLOB_ACCOUNT_URL=ACCOUNT_URL + "/", OFFBOARD_BLOB_CONNECTION_STRING=None)
    settings = Settings(_env_file=None)
    assert settings.live_mode_gaps() == [] and settings.blob_account_url == ACCOUNT_URL


def test_the_sandbox_still_takes_azurites_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    # The embedded sandbox is local development: Azurite's published key is no secret there.
    monkeypatch.delenv("OFFBOARD_PARTNER_CLIENT_ID", raising=False)
    settings = Settings(_env_file=None, storage="blob", blob_connection_string=SecretStr(KEY_CONNECTION_STRINGS["Azurite shorthand"]))
    assert settings.uses_sandbox and settings.live_mode_gaps() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://offboardprod.blob.core.windows.net",  # a bearer token must not travel in clear
        "http://127.0.0.1:10000/devstoreaccount1",  # not even to Azurite: neither it nor the SDK take one over http
        "https://offboardprod.blob.core.windows.net/?sv=2025-11-05&sig=abc",  # a SAS is a key
        "offboardprod.blob.core.windows.net",
    ],
)
def test_the_account_url_is_https_without_a_query(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.delenv("OFFBOARD_PARTNER_CLIENT_ID", raising=False)
    with pytest.raises(ValidationError, match="OFFBOARD_BLOB_ACCOUNT_URL must be the storage account's https URL"):
        Settings(_env_file=None, storage="blob", blob_account_url=url)


def test_blob_storage_needs_one_way_in_not_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFBOARD_PARTNER_CLIENT_ID", raising=False)
    monkeypatch.delenv("OFFBOARD_BLOB_CONNECTION_STRING", raising=False)
    monkeypatch.delenv("OFFBOARD_BLOB_ACCOUNT_URL", raising=False)
    with pytest.raises(ValidationError, match=r"OFFBOARD_BLOB_ACCOUNT_URL .* or OFFBOARD_BLOB_CONNECTION_STRING"):
        Settings(_env_file=None, storage="blob")
    with pytest.raises(ValidationError, match="both set: choose one"):
        Settings(
            _env_file=None, storage="blob", blob_account_url=ACCOUNT_URL, blob_connection_string=SecretStr("UseDevelopmentStorage=true")
        )


class _RecordingCredential:
    """Stands in for azure.identity.aio.DefaultAzureCredential: what it was built with, whether closed."""

    made: ClassVar[list[_RecordingCredential]] = []

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.closed = False
        _RecordingCredential.made.append(self)

    async def get_token(self, *scopes: str, **_: Any) -> Any:
        raise AssertionError("not contacted: the store is only opened")

    async def close(self) -> None:
        self.closed = True


async def test_the_configured_store_uses_the_managed_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity.aio

    _RecordingCredential.made.clear()
    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", _RecordingCredential)
    _live(monkeypatch, OFFBOARD_BLOB_ACCOUNT_URL=ACCOUNT_URL, OFFBOARD_BLOB_CONNECTION_STRING=None, AZURE_CLIENT_ID=MANAGED_IDENTITY)
    settings = Settings(_env_file=None)
    store = open_configured_store(settings)
    audit = open_configured_store(settings, container="offboard-audit")
    assert isinstance(store, BlobStore) and f"url='{ACCOUNT_URL}/offboard'" in repr(store)
    assert f"url='{ACCOUNT_URL}/offboard-audit'" in repr(audit)
    # The user-assigned identity the deployment gives the app (AZURE_CLIENT_ID), one per store.
    assert [made.options for made in _RecordingCredential.made] == [{"managed_identity_client_id": MANAGED_IDENTITY}] * 2
    await store.close()
    await audit.close()
    assert all(made.closed for made in _RecordingCredential.made)
