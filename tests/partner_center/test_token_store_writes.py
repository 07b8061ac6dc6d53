"""Writes to the shared token cache (Key Vault), against the sandbox's vault (issue 20 review).

Key Vault has no If-Match on secrets: the last writer wins. An instance whose write-back failed must
not later put its older cache over a newer rotation another instance stored; a failed write-back is
visible (``persist_error``, ``last_persisted_redeemed_at``); and what is written stays far below the
vault's 25 KB secret limit however many customer tenants Graph reached.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets as random
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import msal
import pytest

from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, connect, token_provider
from partner_center.auth import GRAPH_SCOPE, MsalTokenProvider, TokenCacheStore
from pc_sandbox import DEMO, SandboxOptions
from storage import KeyVaultSecret, KeyVaultSecrets, StoredSecret
from tests._helpers import FAST_RETRY
from tests.golive.vault_sandbox import TOKEN_SECRET, VaultSandbox, sandbox_with_vault
from tests.sandbox._helpers import FABRIKAM

_LIMIT = 25 * 1024  # Key Vault's secret value limit (service-limits page)


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[VaultSandbox]:
    async with sandbox_with_vault(tmp_path, SandboxOptions(seeded_refresh_token_lapses=True)) as running:
        yield running


@pytest.fixture
async def secrets(vault: VaultSandbox) -> AsyncIterator[KeyVaultSecrets]:
    opened = vault.secrets()
    yield opened
    await opened.close()


def _instance(vault: VaultSandbox, store: TokenCacheStore, *, refresh_token: str | None = None) -> MsalTokenProvider:
    config = PartnerCenterConfig.sandbox(vault.base_url, refresh_token=refresh_token, token_cache_store=store)
    return token_provider(config, clock=vault.sandbox.clock.now)


async def _relationship_link(vault: VaultSandbox, tokens: MsalTokenProvider, http: aiohttp.ClientSession) -> str:
    client = connect(
        PartnerCenterConfig.sandbox(vault.base_url), session=http, limits=PartnerLimits(RateSettings()), retry=FAST_RETRY, tokens=tokens
    )
    return await client.get_relationship_request_url()


def _latest_over_rest(vault: VaultSandbox) -> dict[str, Any]:
    """The secret's latest version as Key Vault's REST API gives it (id ends with the version)."""
    bundle: dict[str, Any] = vault.rest(f"secrets/{TOKEN_SECRET}", token=vault.vault_token())
    return bundle


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _role(vault: VaultSandbox, *, assigned: bool) -> None:
    await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": assigned})


async def test_a_stale_instance_never_puts_its_older_cache_over_a_newer_rotation(
    vault: VaultSandbox, secrets: KeyVaultSecrets, http: aiohttp.ClientSession
) -> None:
    secret = secrets.secret(TOKEN_SECRET)
    a = _instance(vault, secret, refresh_token=DEMO.refresh_token)
    await a.exercise()  # version 1
    b = _instance(vault, secret)
    await b.load()

    # A rotates while the vault refuses it: the rotation stays pending in A's memory.
    await _role(vault, assigned=False)
    vault.sandbox.clock.advance(timedelta(days=1))
    await a.exercise()
    await _role(vault, assigned=True)

    # B rotates a day later and stores it (version 2): the vault's newest redemption.
    vault.sandbox.clock.advance(timedelta(days=1))
    b_rotated_at = await b.exercise()
    version_2 = await asyncio.to_thread(_latest_over_rest, vault)
    assert version_2["tags"]["redeemed-at"] == _stamp(b_rotated_at)

    # A's next call changes its cache (an app-only token): its pending rotation must not be written.
    await a.access_token(needs_user=False)
    latest = await asyncio.to_thread(_latest_over_rest, vault)
    assert latest["id"] == version_2["id"]  # no third version
    assert latest["tags"]["redeemed-at"] == _stamp(b_rotated_at)
    listing = await asyncio.to_thread(vault.secret_listing)
    assert [item["versions"] for item in listing["items"]] == [2]
    # A carries on with B's cache, and says so.
    assert a.persist_error is None
    assert a.last_redeemed_at == a.last_persisted_redeemed_at == b_rotated_at.replace(microsecond=0)
    assert await _relationship_link(vault, a, http)


async def test_a_failed_write_back_is_visible_until_a_write_succeeds(vault: VaultSandbox, secrets: KeyVaultSecrets) -> None:
    secret = secrets.secret(TOKEN_SECRET)
    a = _instance(vault, secret, refresh_token=DEMO.refresh_token)
    stored_at = await a.exercise()
    assert a.persist_error is None and a.last_persisted_redeemed_at == stored_at.replace(microsecond=0)

    await _role(vault, assigned=False)
    vault.sandbox.clock.advance(timedelta(days=2))
    rotated_at = await a.exercise()
    # In memory the redemption moved on; the store still holds the earlier one, and the failure is said.
    assert a.last_redeemed_at == rotated_at.replace(microsecond=0)
    assert a.last_persisted_redeemed_at == stored_at.replace(microsecond=0)
    assert a.persist_error is not None and "Key Vault Secrets" in a.persist_error and TOKEN_SECRET in a.persist_error

    await _role(vault, assigned=True)
    await a.access_token(needs_user=False)  # nobody else wrote meanwhile: the pending rotation is written
    assert a.persist_error is None
    assert a.last_persisted_redeemed_at == rotated_at.replace(microsecond=0)
    latest = await asyncio.to_thread(_latest_over_rest, vault)
    assert latest["tags"]["redeemed-at"] == _stamp(rotated_at)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(claims: Mapping[str, Any], size: int = 2048) -> str:
    """A JWT of about ``size`` characters (what Entra's tokens weigh with groups and roles)."""
    padded = {**claims, "pad": ""}
    text = ".".join((_b64url(b'{"typ":"JWT","alg":"RS256"}'), _b64url(json.dumps(padded).encode()), random.token_urlsafe(256)))
    padded["pad"] = random.token_urlsafe(max(0, (size - len(text)) * 3 // 4))
    return ".".join((_b64url(b'{"typ":"JWT","alg":"RS256"}'), _b64url(json.dumps(padded).encode()), random.token_urlsafe(256)))


def _whole_cache_of_30_customer_realms(config: PartnerCenterConfig) -> str:
    """MSAL's cache as an instance keeps it in memory after Graph calls into 30 customer tenants:
    an access token, an ID token and an account per realm, JWT-sized."""
    cache = msal.SerializableTokenCache()
    client_info = _b64url(json.dumps({"uid": DEMO.user_object_id, "utid": DEMO.partner_tenant_id}).encode())
    realms = [config.tenant] + [f"00000000-0000-4000-8000-{index:012d}" for index in range(30)]
    for realm in realms:
        claims = {"tid": realm, "oid": DEMO.user_object_id, "preferred_username": DEMO.username, "aud": config.client_id}
        cache.add(
            {
                "client_id": config.client_id,
                "scope": [GRAPH_SCOPE],
                "token_endpoint": f"{config.authority_host.rstrip('/')}/{realm}/oauth2/v2.0/token",
                "response": {
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "access_token": _jwt({**claims, "aud": "https://graph.microsoft.com"}),
                    "id_token": _jwt(claims),
                    "refresh_token": DEMO.refresh_token,
                    "client_info": client_info,
                },
                "params": {},
                "data": {},
            }
        )
    return str(cache.serialize())


class _EmptyVaultSeenThroughAnOlderInstance:
    """The vault's secret, read as an instance that still holds the whole cache in memory sees it
    while nothing is stored yet (the vault's stand-in refuses anything over 25 KB, so it cannot hold it)."""

    def __init__(self, secret: KeyVaultSecret, whole_cache: str) -> None:
        self._secret, self._whole_cache = secret, whole_cache
        self.description = secret.description

    async def load(self) -> StoredSecret | None:
        stored = await self._secret.load()
        return stored if stored is not None else StoredSecret(value=self._whole_cache, version="", tags={})

    async def save(self, value: str, tags: Mapping[str, str]) -> str:
        return await self._secret.save(value, tags)


async def test_the_shared_store_gets_the_refresh_token_not_every_realms_tokens(
    vault: VaultSandbox, secrets: KeyVaultSecrets, http: aiohttp.ClientSession
) -> None:
    config = PartnerCenterConfig.sandbox(vault.base_url)
    whole = _whole_cache_of_30_customer_realms(config)
    assert len(whole.encode()) > 4 * _LIMIT  # the premise: the whole cache could never be stored
    store = _EmptyVaultSeenThroughAnOlderInstance(secrets.secret(TOKEN_SECRET), whole)
    instance = _instance(vault, store)
    rotated_at = await instance.exercise()
    assert instance.persist_error is None

    latest = await asyncio.to_thread(_latest_over_rest, vault)
    value: str = latest["value"]
    assert len(value.encode()) < _LIMIT // 4
    sections = json.loads(value)
    assert sections.get("AccessToken", {}) == {}
    assert len(sections["RefreshToken"]) == 1
    assert {entry["realm"] for section in ("Account", "IdToken") for entry in sections[section].values()} == {config.tenant}
    assert latest["tags"]["redeemed-at"] == _stamp(rotated_at)

    # Another instance starts from what was stored: the refresh token and the account are enough.
    other = _instance(vault, secrets.secret(TOKEN_SECRET))
    assert await _relationship_link(vault, other, http)
    assert await other.graph_token(tenant=FABRIKAM)  # a customer tenant of the sandbox's: from the same refresh token
