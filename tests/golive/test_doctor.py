"""``python -m golive doctor`` against the sandbox in live-like mode (issue 20, must-show): every
row OK, the admin agent's groups and the webhook registration included; then each setting broken in turn,
and the right row FAIL with its fix while the rows that do not depend on it stay OK.

Live-like: a registered bot (UserAssignedMSI, its managed identity's client id), the partner's
Teams tenant, two approvers with four-eyes, SQLite storage, and the sign-in in the Key Vault
stand-in (TLS) where the consent command stores it; Partner Center, Entra ID and Graph are the
sandbox's (OFFBOARD_SANDBOX=true, as a registered bot must say to use it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from golive.doctor import Row, Status, diagnose, render
from partner_center import PartnerCenterConfig, token_provider
from partner_center.auth import CachedSecret, TokenCacheStore
from pc_sandbox import SandboxOptions
from storage import KeyVaultAccessDenied
from tests.golive.vault_sandbox import TOKEN_SECRET, VaultSandbox, sandbox_with_vault

REPO = Path(__file__).resolve().parents[2]
BOT_ID = "5b0c6f1e-8a41-4f0e-9d55-2f1a6f4c7e01"
TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
APPROVERS = ["00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000b2"]
ROWS = (
    "Settings",
    "Bot identity",
    "Teams tenant",
    "Approvers",
    "Storage",
    "Key Vault",
    "Partner Center app-only",
    "Partner Center app+user (MFA)",
    "Admin agent roles",
    "Graph permissions",
    "Webhook registration",
)
EVENTS_URL = "https://offboard.example.com/api/partnercenter/events"


def live_like_env(vault: VaultSandbox, tmp_path: Path) -> dict[str, str]:
    return {
        **vault.env(),
        "OFFBOARD_SANDBOX": "true",
        "MicrosoftAppId": BOT_ID,
        "MicrosoftAppType": "UserAssignedMSI",
        "MicrosoftAppTenantId": TENANT,
        "AZURE_CLIENT_ID": BOT_ID,
        "OFFBOARD_TEAMS_TENANT_ID": TENANT,
        "OFFBOARD_APPROVERS": ",".join(APPROVERS),
        "OFFBOARD_FOUR_EYES": "true",
        "OFFBOARD_STORAGE": "sqlite",
        "OFFBOARD_SQLITE_PATH": str(tmp_path / "offboard.db"),
    }


def live_like(vault: VaultSandbox, tmp_path: Path, **changed: str) -> Settings:
    values: dict[str, Any] = {**live_like_env(vault, tmp_path), **changed}
    return Settings(_env_file=None, **values)


async def consent(vault: VaultSandbox) -> None:
    """The admin agent's sign-in stored in the vault, as ``python -m golive consent`` leaves it
    (here from the sandbox's seeded refresh token, redeemed once: no browser needed)."""
    async with vault.secrets() as secrets:
        tokens = token_provider(PartnerCenterConfig.sandbox(vault.base_url, token_cache_store=secrets.secret(TOKEN_SECRET)))
        await tokens.exercise()
        stored = await secrets.get(TOKEN_SECRET)
        assert stored is not None
        await secrets.set(TOKEN_SECRET, stored.value, tags={**stored.tags, "consented-by": "admin@sandbox", "mfa": "true"})


async def register_webhook(vault: VaultSandbox, url: str = EVENTS_URL) -> None:
    """The bot's events URL registered with Partner Center, as an operator does at go-live
    (POST /webhooks/v1/registration with an app-only token, over real HTTP)."""
    token = await token_provider(PartnerCenterConfig.sandbox(vault.base_url)).access_token(needs_user=False)
    body = {
        "WebhookUrl": url,
        "WebhookEvents": [
            "subscription-updated",
            "granular-admin-relationship-terminated",
            "granular-admin-relationship-expired",
            "reseller-relationship-accepted-by-customer",
        ],
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{vault.base_url.rstrip('/')}/webhooks/v1/registration", json=body, headers={"Authorization": f"Bearer {token}"}
        ) as answer:
            assert answer.status == 200, await answer.text()


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[VaultSandbox]:
    async with sandbox_with_vault(tmp_path) as running:
        await consent(running)
        await register_webhook(running)
        yield running


def by_check(rows: list[Row]) -> dict[str, Row]:
    assert [row.check for row in rows] == list(ROWS), render(rows)
    return {row.check: row for row in rows}


def assert_ok_except(rows: list[Row], *broken: str) -> dict[str, Row]:
    found = by_check(rows)
    for name, row in found.items():
        if name in broken:
            continue
        assert row.status is Status.OK, render(rows)
    return found


async def operator(vault: VaultSandbox, method: str, path: str, body: Any = None) -> Any:
    return await asyncio.to_thread(vault.operator, method, path, body)


async def test_all_green_in_live_like_mode(vault: VaultSandbox, tmp_path: Path) -> None:
    # The vault fixture registered EVENTS_URL through Partner Center's API, as go-live does.
    rows = await diagnose(live_like(vault, tmp_path), events_url=EVENTS_URL)
    found = assert_ok_except(rows)
    assert "admin@sandbox" in found["Key Vault"].detail
    assert "AdminAgents" in found["Admin agent roles"].detail
    assert found["Webhook registration"].detail == EVENTS_URL
    table = render(rows)
    assert "0 failed, 0 warning(s)" in table and "\033[" not in table


async def test_a_user_who_is_not_an_admin_agent_fails_admin_agent_roles(vault: VaultSandbox, tmp_path: Path) -> None:
    await operator(vault, "PUT", "/_sandbox/graph/adminAgent", {"assigned": False})
    rows = await diagnose(live_like(vault, tmp_path))
    found = assert_ok_except(rows, "Admin agent roles")
    roles = found["Admin agent roles"]
    assert roles.status is Status.FAIL and "not an Admin agent" in roles.detail and "SalesAgents" in roles.detail
    assert "User management" in roles.fix and "Admin agent role" in roles.fix


async def test_a_registration_pointing_elsewhere_fails_webhook_registration(vault: VaultSandbox, tmp_path: Path) -> None:
    await operator(vault, "POST", "/_sandbox/reset")  # keeps the registration: it is the partner's configuration
    rows = await diagnose(live_like(vault, tmp_path), events_url="https://other-bot.example.com/api/partnercenter/events")
    found = assert_ok_except(rows, "Webhook registration")
    webhook = found["Webhook registration"]
    assert webhook.status is Status.FAIL and EVENTS_URL in webhook.detail and "other-bot.example.com" in webhook.detail
    assert "webhooks/v1/registration" in webhook.fix and "/api/partnercenter/events" in webhook.fix


async def test_a_wrong_client_secret_fails_app_only_with_the_fix(vault: VaultSandbox, tmp_path: Path) -> None:
    rows = await diagnose(live_like(vault, tmp_path), adjust=lambda config: dataclasses.replace(config, client_secret="not-the-secret"))
    found = by_check(rows)
    app_only = found["Partner Center app-only"]
    assert app_only.status is Status.FAIL and "AADSTS7000215" in app_only.detail
    assert "Certificates & secrets" in app_only.fix and "OFFBOARD_PARTNER_CLIENT_SECRET" in app_only.fix
    # Settings, storage and the vault do not depend on the app's secret.
    for name in ("Bot identity", "Teams tenant", "Approvers", "Storage", "Key Vault"):
        assert found[name].status is Status.OK, render(rows)


async def test_no_stored_sign_in_fails_app_user_with_the_consent_command(tmp_path: Path) -> None:
    async with sandbox_with_vault(tmp_path) as empty:  # nobody consented
        await register_webhook(empty)
        rows = await diagnose(live_like(empty, tmp_path))
    found = assert_ok_except(rows, "Key Vault", "Partner Center app+user (MFA)", "Admin agent roles", "Graph permissions")
    assert found["Key Vault"].status is Status.WARN and "no sign-in stored" in found["Key Vault"].detail
    app_user = found["Partner Center app+user (MFA)"]
    assert app_user.status is Status.FAIL and "python -m golive consent" in app_user.fix
    assert found["Graph permissions"].detail.startswith("not checked")


async def test_a_revoked_sign_in_fails_app_user_with_the_consent_command(vault: VaultSandbox, tmp_path: Path) -> None:
    await operator(vault, "POST", "/_sandbox/entra/revokeSignInSessions")
    rows = await diagnose(live_like(vault, tmp_path))
    found = assert_ok_except(rows, "Partner Center app+user (MFA)", "Admin agent roles", "Graph permissions")
    app_user = found["Partner Center app+user (MFA)"]
    assert app_user.status is Status.FAIL and "revoked" in app_user.detail and "AADSTS50173" in app_user.detail
    assert "python -m golive consent" in app_user.fix


async def test_a_sign_in_without_mfa_fails_app_user_asking_for_mfa(tmp_path: Path) -> None:
    async with sandbox_with_vault(tmp_path, SandboxOptions(mfa_enforced=True, user_mfa=False)) as no_mfa:
        await consent(no_mfa)
        rows = await diagnose(live_like(no_mfa, tmp_path))
    found = by_check(rows)
    app_user = found["Partner Center app+user (MFA)"]
    assert app_user.status is Status.FAIL and "900421" in app_user.detail
    assert "WITH multi-factor authentication" in app_user.fix and "python -m golive consent" in app_user.fix
    assert found["Partner Center app-only"].status is Status.OK


async def test_a_key_vault_without_the_role_fails_with_the_role_to_grant(vault: VaultSandbox, tmp_path: Path) -> None:
    await operator(vault, "PUT", "/_sandbox/keyvault/role", {"assigned": False})
    rows = await diagnose(live_like(vault, tmp_path))
    found = by_check(rows)
    key_vault = found["Key Vault"]
    assert key_vault.status is Status.FAIL and "403" in key_vault.detail
    assert "Key Vault Secrets Officer" in key_vault.fix and BOT_ID in key_vault.fix
    for name in ("Bot identity", "Teams tenant", "Approvers", "Storage"):
        assert found[name].status is Status.OK, render(rows)
    # Every token is in the vault's cache: what needs a token says to fix the vault first.
    assert found["Partner Center app-only"].fix == "Fix the Key Vault row first."
    assert found["Partner Center app+user (MFA)"].fix == "Fix the Key Vault row first."


class _RoleRemovedAfterTheRead:
    """The token-cache secret as an identity sees it that may read it but not write it (Key Vault
    Secrets User without Secrets Officer on the secret): the first read goes through, then the
    sandbox's role switch is turned off, so the rotated token's write-back is refused (403)."""

    def __init__(self, store: TokenCacheStore, vault: VaultSandbox) -> None:
        self.store, self.vault, self.reads = store, vault, 0

    @property
    def description(self) -> str:
        return self.store.description

    async def load(self) -> CachedSecret | None:
        stored = await self.store.load()
        self.reads += 1
        if self.reads == 1:
            await operator(self.vault, "PUT", "/_sandbox/keyvault/role", {"assigned": False})
        return stored

    async def save(self, value: str, tags: Any) -> str:
        return await self.store.save(value, tags)


async def test_a_rotated_token_not_written_back_fails_app_user_with_the_role(vault: VaultSandbox, tmp_path: Path) -> None:
    probe = token_provider(PartnerCenterConfig.sandbox(vault.base_url))
    if not hasattr(probe, "persist_error"):
        pytest.skip("partner_center/auth.py's MsalTokenProvider.persist_error has not landed yet")
    before = await asyncio.to_thread(vault.secret_listing)

    def unwritable(config: PartnerCenterConfig) -> PartnerCenterConfig:
        assert config.token_cache_store is not None
        return dataclasses.replace(config, token_cache_store=_RoleRemovedAfterTheRead(config.token_cache_store, vault))

    rows = await diagnose(live_like(vault, tmp_path), adjust=unwritable)
    found = by_check(rows)
    app_user = found["Partner Center app+user (MFA)"]
    assert app_user.status is Status.FAIL, render(rows)
    assert "cannot be written back to Key Vault" in app_user.detail
    assert "Key Vault Secrets Officer" in app_user.fix and TOKEN_SECRET in app_user.fix
    assert found["Graph permissions"].detail.startswith("not checked")
    # The vault holds what it held: no version was written.
    await operator(vault, "PUT", "/_sandbox/keyvault/role", {"assigned": True})
    after = await asyncio.to_thread(vault.secret_listing)
    versions = {item["name"]: item["versions"] for item in before["items"]}
    assert {item["name"]: item["versions"] for item in after["items"]} == versions


async def test_the_insecure_override_is_a_warning_of_its_own(vault: VaultSandbox, tmp_path: Path) -> None:
    rows = await diagnose(live_like(vault, tmp_path, OFFBOARD_INSECURE_DEV="true"))
    found = assert_ok_except(rows, "Settings")
    assert found["Settings"].status is Status.WARN and "OFFBOARD_INSECURE_DEV" in found["Settings"].detail


async def test_live_mode_gaps_fail_the_settings_row_instead_of_hiding_behind_the_override(tmp_path: Path) -> None:
    # Live mode (a Partner Center app), no approvers: the bot would refuse to start.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OFFBOARD_", "Microsoft", "AZURE_"))} | {
        "OFFBOARD_ENV_FILE": "",
        "OFFBOARD_PARTNER_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "OFFBOARD_PARTNER_TENANT": "contoso.onmicrosoft.com",
        "OFFBOARD_PARTNER_CLIENT_SECRET": "not-a-real-secret",
        "OFFBOARD_STORAGE": "sqlite",
        "OFFBOARD_SQLITE_PATH": str(tmp_path / "offboard.db"),
        "OFFBOARD_TOKEN_CACHE_PATH": str(tmp_path / "msal-cache.json"),
        "MicrosoftAppId": BOT_ID,
        "MicrosoftAppType": "UserAssignedMSI",
        "MicrosoftAppTenantId": TENANT,
        "AZURE_CLIENT_ID": BOT_ID,
        "OFFBOARD_TEAMS_TENANT_ID": TENANT,
    }
    code, output = await _doctor(env)
    assert code == 1
    [line] = [line for line in output.splitlines() if line.startswith("Settings")]
    assert "FAIL" in line and "live mode refuses to start without: OFFBOARD_APPROVERS" in line, output
    assert "Running it for real safely" in output
    assert "OFFBOARD_INSECURE_DEV" not in line  # the doctor's own re-read is not the operator's override


class _VaultSaying:
    """A vault whose every read is refused as Key Vault refuses it (the SDK's exception, translated)."""

    def __init__(self, status: int | None) -> None:
        self.status = status

    async def get(self, name: str) -> Any:
        said = "access denied (Forbidden/ForbiddenByRbac)" if self.status == 403 else "could not authenticate (no credential)"
        raise KeyVaultAccessDenied(f"Key Vault (secret {name!r}): {said}", vault_url="https://kv.example/", status=self.status)


@pytest.mark.parametrize(
    ("status", "said", "fix"),
    [(403, "403", "Key Vault Secrets User"), (401, "no credential", "AZURE_CLIENT_ID"), (None, "no credential", "AZURE_CLIENT_ID")],
)
async def test_the_key_vault_row_says_which_refusal_it_was(status: int | None, said: str, fix: str, tmp_path: Path) -> None:
    from golive.doctor import _key_vault  # one row, with the refusals the sandbox's vault cannot give (401)

    values: dict[str, Any] = {"OFFBOARD_KEY_VAULT_URL": "https://kv.example/", "AZURE_CLIENT_ID": BOT_ID}
    settings = Settings(_env_file=None, **values)
    row = await _key_vault(settings, _VaultSaying(status))  # type: ignore[arg-type]
    assert row.status is Status.FAIL and said in row.detail and fix in row.fix
    assert ("403" in row.detail) == (status == 403)


async def test_an_unwritable_storage_path_fails_storage(vault: VaultSandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be", encoding="utf-8")
    rows = await diagnose(live_like(vault, tmp_path, OFFBOARD_SQLITE_PATH=str(blocker / "offboard.db")))
    found = assert_ok_except(rows, "Storage")
    assert found["Storage"].status is Status.FAIL and str(blocker / "offboard.db") in found["Storage"].detail
    assert "OFFBOARD_SQLITE_PATH" in found["Storage"].fix


async def test_a_graph_permission_removed_fails_graph_naming_it(vault: VaultSandbox, tmp_path: Path) -> None:
    await operator(vault, "DELETE", "/_sandbox/graph/permissions/DelegatedAdminRelationship.ReadWrite.All")
    rows = await diagnose(live_like(vault, tmp_path))
    found = assert_ok_except(rows, "Graph permissions")
    graph = found["Graph permissions"]
    assert graph.status is Status.FAIL and "DelegatedAdminRelationship.Read" in graph.detail
    assert "API permissions" in graph.fix and "DelegatedAdminRelationship.Read" in graph.fix


async def test_no_approvers_fails_approvers(vault: VaultSandbox, tmp_path: Path) -> None:
    rows = await diagnose(live_like(vault, tmp_path, OFFBOARD_APPROVERS=""))
    found = assert_ok_except(rows, "Approvers")
    assert found["Approvers"].status is Status.FAIL and "OFFBOARD_APPROVERS" in found["Approvers"].fix


async def test_one_approver_with_four_eyes_fails_approvers(vault: VaultSandbox, tmp_path: Path) -> None:
    rows = await diagnose(live_like(vault, tmp_path, OFFBOARD_APPROVERS=APPROVERS[0]))
    found = assert_ok_except(rows, "Approvers")
    assert found["Approvers"].status is Status.FAIL and "OFFBOARD_FOUR_EYES=false" in found["Approvers"].fix


async def test_a_teams_tenant_that_is_not_a_guid_fails_teams_tenant(vault: VaultSandbox, tmp_path: Path) -> None:
    rows = await diagnose(live_like(vault, tmp_path, OFFBOARD_TEAMS_TENANT_ID="contoso.onmicrosoft.com"))
    found = assert_ok_except(rows, "Teams tenant")
    assert found["Teams tenant"].status is Status.FAIL and "not a GUID" in found["Teams tenant"].detail
    assert "Tenant ID" in found["Teams tenant"].fix


async def test_a_managed_identity_bot_without_azure_client_id_fails_bot_identity(vault: VaultSandbox, tmp_path: Path) -> None:
    rows = await diagnose(live_like(vault, tmp_path, AZURE_CLIENT_ID=""))
    found = assert_ok_except(rows, "Bot identity")
    assert found["Bot identity"].status is Status.FAIL and "AZURE_CLIENT_ID" in found["Bot identity"].fix


async def test_the_command_line_prints_the_table_and_exits_by_the_worst_row(vault: VaultSandbox, tmp_path: Path) -> None:
    env = {**os.environ, **live_like_env(vault, tmp_path), "OFFBOARD_ENV_FILE": ""}
    green = await _doctor(env)
    assert green[0] == 0, green[1]
    assert green[1].splitlines()[0].split() == ["CHECK", "STATUS", "DETAIL"]
    assert all(name in green[1] for name in ROWS) and "0 failed" in green[1]
    assert "\033[" not in green[1]  # not a terminal: no colour

    broken = await _doctor({**env, "OFFBOARD_APPROVERS": ""})
    assert broken[0] == 1
    [line] = [line for line in broken[1].splitlines() if line.startswith("Approvers")]
    assert "FAIL" in line
    assert "Fix: Set OFFBOARD_APPROVERS" in broken[1]


async def _doctor(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "golive", "doctor", cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, output.decode()


async def test_without_partner_center_settings_it_says_the_bot_would_run_the_demo(tmp_path: Path) -> None:
    values: dict[str, Any] = {"OFFBOARD_STORAGE": "sqlite", "OFFBOARD_SQLITE_PATH": str(tmp_path / "offboard.db")}
    rows = await diagnose(Settings(_env_file=None, **values))
    found = by_check(rows)
    app_only = found["Partner Center app-only"]
    assert app_only.status is Status.FAIL and "embedded demo sandbox" in app_only.detail
    assert "OFFBOARD_PARTNER_CLIENT_ID" in app_only.fix
    assert found["Storage"].status is Status.OK and found["Bot identity"].status is Status.FAIL
