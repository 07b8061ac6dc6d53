"""MSAL's token cache in a Key Vault secret, shared by two instances, against the sandbox.

The sandbox's Entra stand-in rotates the refresh token on every use and lets each one lapse 90
days (on the sandbox clock) after it was issued (``AADSTS700082``); its Key Vault stand-in keeps
every version. Two providers stand for two bot instances: whichever redeems the refresh token
writes the rotated one back, and the other reloads it before its own next redemption.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from partner_center import AuthError, PartnerCenterConfig, PartnerLimits, RateSettings, connect, token_provider
from partner_center.auth import FileTokenCacheStore, MsalTokenProvider
from pc_sandbox import DEMO, SandboxOptions
from storage import KeyVaultSecret, KeyVaultSecrets
from tests._helpers import FAST_RETRY
from tests.golive.vault_sandbox import TOKEN_SECRET, VaultSandbox, sandbox_with_vault


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[VaultSandbox]:
    # The seeded refresh token lapses like one from a real sign-in (90 days unused).
    async with sandbox_with_vault(tmp_path, SandboxOptions(seeded_refresh_token_lapses=True)) as running:
        yield running


@pytest.fixture
async def secrets(vault: VaultSandbox) -> AsyncIterator[KeyVaultSecrets]:
    opened = vault.secrets()
    yield opened
    await opened.close()


def _instance(vault: VaultSandbox, store: KeyVaultSecret | FileTokenCacheStore, *, refresh_token: str | None = None) -> MsalTokenProvider:
    """One bot instance's provider, with the sandbox's clock for its ``redeemed-at`` tag."""
    config = PartnerCenterConfig.sandbox(vault.base_url, refresh_token=refresh_token, token_cache_store=store)
    return token_provider(config, clock=vault.sandbox.clock.now)


async def _relationship_link(vault: VaultSandbox, tokens: MsalTokenProvider, http: aiohttp.ClientSession) -> str:
    """An App+User only call (the relationship request link), through the real client."""
    client = connect(
        PartnerCenterConfig.sandbox(vault.base_url), session=http, limits=PartnerLimits(RateSettings()), retry=FAST_RETRY, tokens=tokens
    )
    return await client.get_relationship_request_url()


async def test_the_first_redemption_is_stored_in_the_vault_and_another_instance_starts_from_it(
    vault: VaultSandbox, secrets: KeyVaultSecrets, http: aiohttp.ClientSession
) -> None:
    secret = secrets.secret(TOKEN_SECRET)
    first = _instance(vault, secret, refresh_token=DEMO.refresh_token)
    assert await _relationship_link(vault, first, http)

    stored = await secrets.get(TOKEN_SECRET)
    assert stored is not None and '"RefreshToken"' in stored.value
    assert first.last_redeemed_at is not None and stored.tags["redeemed-at"] == _stamp(first.last_redeemed_at)
    assert abs(vault.sandbox.clock.now() - first.last_redeemed_at) < timedelta(seconds=5)  # the sandbox's clock

    # A second instance with no refresh token of its own: the vault's cache is all it has.
    second = _instance(vault, secret)
    assert await _relationship_link(vault, second, http)
    assert second.has_user_credential
    assert second.last_redeemed_at == first.last_redeemed_at


async def test_after_one_instance_rotates_the_other_keeps_working_past_the_old_tokens_lapse(
    vault: VaultSandbox, secrets: KeyVaultSecrets, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    secret = secrets.secret(TOKEN_SECRET)
    a = _instance(vault, secret, refresh_token=DEMO.refresh_token)
    await a.exercise()  # the consent's first redemption: refresh token 1 stored (version 1)
    b = _instance(vault, secret)
    assert await _relationship_link(vault, b, http)  # B works from version 1
    version_1 = await secrets.get(TOKEN_SECRET)
    assert version_1 is not None
    # A copy of version 1 that nobody updates: what B would be without reloading.
    stale = FileTokenCacheStore(tmp_path / "stale-cache.json")
    await stale.save(version_1.value, {})

    # Ten minutes before refresh token 1 lapses, A rotates it (refresh token 2, version 2);
    # B is not told. Twenty minutes later refresh token 1 has lapsed.
    vault.sandbox.clock.advance(timedelta(days=90, minutes=-10))
    rotated_at = await a.exercise()
    assert abs(vault.sandbox.clock.now() - rotated_at) < timedelta(seconds=5)
    version_2 = await secrets.get(TOKEN_SECRET)
    assert version_2 is not None and version_2.version != version_1.version
    assert version_2.tags["redeemed-at"] == _stamp(rotated_at)
    vault.sandbox.clock.advance(timedelta(minutes=20))
    with pytest.raises(AuthError, match="AADSTS700082"):
        await _instance(vault, stale).exercise()

    # B's access token has expired: Partner Center refuses it (401), B drops it, reloads the
    # vault's newer version before it would redeem refresh token 1, and carries on with A's
    # refresh token 2 (refresh token 1 has lapsed: only 2 can work). The vault holds no access
    # tokens (issue 20 review: 25 KB limit), so B redeems 2 itself and stores its successor.
    assert await _relationship_link(vault, b, http)
    assert b.last_redeemed_at is not None and b.last_redeemed_at >= rotated_at.replace(microsecond=0)
    after_b = await secrets.get(TOKEN_SECRET)
    assert after_b is not None and after_b.tags["redeemed-at"] == _stamp(b.last_redeemed_at)

    # The other way round: B rotates (its own check), and A, 89 days later, carries on from it.
    vault.sandbox.clock.advance(timedelta(days=1))
    b_rotated_at = await b.exercise()
    vault.sandbox.clock.advance(timedelta(days=89))
    a_rotated_at = await a.exercise()
    assert a_rotated_at > b_rotated_at
    assert await _relationship_link(vault, a, http)
    latest = await secrets.get(TOKEN_SECRET)
    assert latest is not None and latest.tags["redeemed-at"] == _stamp(a_rotated_at)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def test_the_consent_tags_survive_every_rotation(vault: VaultSandbox, secrets: KeyVaultSecrets) -> None:
    secret = secrets.secret(TOKEN_SECRET)
    seeded = _instance(vault, secret, refresh_token=DEMO.refresh_token)
    await seeded.exercise()
    stored = await secrets.get(TOKEN_SECRET)
    assert stored is not None
    consent_tags = {"consented-by": DEMO.username, "consented-at": "2026-04-02T09:00:00Z", "mfa": "true"}
    await secrets.set(TOKEN_SECRET, stored.value, tags={**stored.tags, **consent_tags})

    later = _instance(vault, secret)
    vault.sandbox.clock.advance(timedelta(days=7))
    await later.exercise()
    rotated = await secrets.get(TOKEN_SECRET)
    assert rotated is not None
    assert {name: rotated.tags.get(name) for name in consent_tags} == consent_tags
    assert later.stored_tags["consented-by"] == DEMO.username


async def test_a_vault_that_refuses_the_write_back_does_not_fail_the_call(
    vault: VaultSandbox, secrets: KeyVaultSecrets, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The rotated token works in memory and the stored one still does; the refusal is logged with
    the role to grant, and the write is tried again on the next change."""
    secret = secrets.secret(TOKEN_SECRET)
    first = _instance(vault, secret, refresh_token=DEMO.refresh_token)
    await first.exercise()
    await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": False})
    vault.sandbox.clock.advance(timedelta(days=2))
    await first.exercise()
    assert "Key Vault Secrets User" in caplog.text or "Key Vault Secrets Officer" in caplog.text
    await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": True})
    await first.access_token(needs_user=False)  # the next call writes the rotation still pending
    stored = await secrets.get(TOKEN_SECRET)
    assert first.last_redeemed_at is not None and first.last_redeemed_at > vault.sandbox.clock.now() - timedelta(seconds=5)
    assert stored is not None and stored.tags["redeemed-at"] == _stamp(first.last_redeemed_at)


async def test_the_file_store_keeps_the_redemption_time_across_restarts(vault: VaultSandbox, tmp_path: Path) -> None:
    cache = tmp_path / "offboard" / "msal-cache.json"
    first = _instance(vault, FileTokenCacheStore(cache), refresh_token=DEMO.refresh_token)
    redeemed = await first.exercise()
    restarted = _instance(vault, FileTokenCacheStore(cache))
    assert restarted.last_redeemed_at == redeemed.replace(microsecond=0)
    assert restarted.has_user_credential
