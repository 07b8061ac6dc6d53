"""The consent command against the sandbox, its pages driven over HTTP as a browser would (the
browser itself: tests/e2e/test_consent.py): where it stores, what it refuses, what it says."""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.ports import free_port
from bot.settings import Settings
from golive import consent as consent_command
from golive.consent import EXIT_FAILED, EXIT_REFUSED, EXIT_SETTINGS, EXIT_STORED, consent
from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, connect, token_provider
from pc_sandbox import DEMO, SandboxOptions
from tests._helpers import FAST_RETRY
from tests.golive.vault_sandbox import TOKEN_SECRET, VaultSandbox, sandbox_with_vault

REPO = Path(__file__).resolve().parents[2]
_FLOW = re.compile(r'name="flow" value="([^"]+)"')
_FORM = re.compile(r'<form method="post" action="([^"]+)" id="hiddenform">(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[VaultSandbox]:
    async with sandbox_with_vault(tmp_path) as running:
        yield running


async def _browser(url: str, *, mfa: bool = True, password: str = DEMO.password) -> str:
    """What a person does in the browser: the sign-in page, the MFA page, back to the command."""
    base = url.split("/oauth2/", 1)[0]  # http://127.0.0.1:<port>/<tenant>
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            flow = _FLOW.search(await page.text())
            assert flow, await page.text()
        async with http.post(f"{base}/login", data={"flow": flow.group(1), "login": DEMO.username, "passwd": password}) as answer:
            text = await answer.text()
        if mfa:
            assert 'id="idTxtBx_SAOTCC_OTC"' in text, text
            async with http.post(f"{base}/SAS/ProcessAuth", data={"flow": flow.group(1), "otc": DEMO.mfa_code}) as answer:
                text = await answer.text()
        form = _FORM.search(text)
        if form is None:
            return text  # a page of the sandbox's: no answer for the command
        # response_mode=form_post: the page's script posts the code to the command's listener.
        fields = dict(_HIDDEN.findall(form.group(2)))
        async with http.post(html.unescape(form.group(1)), data={k: html.unescape(v) for k, v in fields.items()}) as answer:
            return await answer.text()  # the command's own page, on http://localhost:<port>/


async def _consent(settings: Settings, **browser: Any) -> tuple[int, list[str], str]:
    """Run the command's coroutine and the browser beside it: (exit code, lines said, last page)."""
    said: list[str] = []
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def say(line: str) -> None:
        said.append(line)
        if line.startswith("Sign-in URL: ") and not url.done():
            url.set_result(line.removeprefix("Sign-in URL: "))

    command = asyncio.create_task(consent(settings, port=free_port(), open_browser=False, wait_seconds=60, say=say))
    either: set[asyncio.Future[Any]] = {command, url}
    done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    page = ""
    if url in done:
        page = await _browser(url.result(), **browser)
    return await command, said, page


async def test_without_a_vault_the_sign_in_goes_to_the_private_file_and_a_live_like_bot_uses_it(
    vault: VaultSandbox, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    cache = tmp_path / "offboard" / "msal-cache.json"
    settings = Settings(_env_file=None, sandbox_url=vault.base_url, token_cache_path=cache)
    code, said, page = await _consent(settings)
    assert code == EXIT_STORED, said
    assert "Signed in" in page
    assert any(f"in token cache file {cache}" in line for line in said)
    content = json.loads(cache.read_text())
    assert content["RefreshToken"] and content["OffboardTags"]["tags"]["mfa"] == "true"
    assert oct(cache.stat().st_mode & 0o777) == "0o600"

    # A bot reading that file, with no refresh token configured, makes an App+User call.
    tokens = token_provider(PartnerCenterConfig.sandbox(vault.base_url, refresh_token=None, token_cache_path=cache))
    client = connect(
        PartnerCenterConfig.sandbox(vault.base_url), session=http, limits=PartnerLimits(RateSettings()), retry=FAST_RETRY, tokens=tokens
    )
    assert "partnerId=" in await client.get_relationship_request_url()
    # The user's object id, not the UPN: vault metadata readers see tags (issue 20 review).
    assert tokens.stored_tags["consented-by"] == DEMO.user_object_id


async def test_a_wrong_password_stores_nothing(vault: VaultSandbox, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, **vault.env())
    said: list[str] = []
    command = asyncio.create_task(consent(settings, port=free_port(), open_browser=False, wait_seconds=2, say=said.append))
    while not any(line.startswith("Sign-in URL: ") for line in said):
        assert not command.done(), said
        await asyncio.sleep(0.05)
    url = next(line for line in said if line.startswith("Sign-in URL: ")).removeprefix("Sign-in URL: ")
    page = await _browser(url, mfa=False, password="not-the-password")
    assert "AADSTS50126" in page  # the sandbox's own refusal, on its page: the command is not called back
    assert await command == EXIT_FAILED
    assert "no sign-in came back" in said[-1] and "Nothing was stored." in said[-1]
    listing = await asyncio.to_thread(vault.secret_listing)
    assert listing["items"] == []


async def test_without_the_vault_role_the_command_says_which_role_and_stores_nothing(vault: VaultSandbox) -> None:
    await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": False})
    code, said, _ = await _consent(Settings(_env_file=None, **vault.env()))
    assert code == EXIT_FAILED
    assert "Key Vault https://offboard-test.vault.azure.net/" in said[-1] and "'Key Vault Secrets Officer'" in said[-1]


async def test_a_second_consent_is_a_new_version_of_the_same_secret(vault: VaultSandbox) -> None:
    settings = Settings(_env_file=None, **vault.env())
    assert (await _consent(settings))[0] == EXIT_STORED
    assert (await _consent(settings))[0] == EXIT_STORED
    listing = await asyncio.to_thread(vault.secret_listing)
    [item] = listing["items"]
    assert item["name"] == TOKEN_SECRET and item["versions"] == 2


async def test_on_the_sandbox_it_needs_a_running_one() -> None:
    said: list[str] = []
    assert await consent(Settings(_env_file=None), open_browser=False, say=said.append) == EXIT_SETTINGS
    assert "python -m pc_sandbox" in said[-1] and "OFFBOARD_SANDBOX_URL" in said[-1]


async def test_the_mfa_check_reads_the_access_token_since_v2_id_tokens_carry_no_amr(vault: VaultSandbox) -> None:
    """Entra's v2.0 ID token has no amr (as the sandbox's): a sign-in with MFA is stored all the same,
    read from the Partner Center access token, with the consenting user's object id as consented-by."""
    code, said, _ = await _consent(Settings(_env_file=None, **vault.env()))
    assert code == EXIT_STORED, said
    listing = await asyncio.to_thread(vault.secret_listing)
    [item] = listing["items"]
    secrets = vault.secrets()
    try:
        stored = await secrets.get(TOKEN_SECRET)
    finally:
        await secrets.close()
    assert stored is not None and stored.tags["mfa"] == "true" and stored.tags["consented-by"] == DEMO.user_object_id
    assert DEMO.username not in json.dumps(item)


async def test_a_sign_in_without_mfa_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    async with sandbox_with_vault(tmp_path, SandboxOptions(user_mfa=False)) as vault:
        code, said, _ = await _consent(Settings(_env_file=None, **vault.env()), mfa=False)
        assert code == EXIT_REFUSED, said
        assert "did not use multi-factor authentication" in said[-1] and "its token's authentication methods: pwd" in said[-1]
        assert "Nothing was stored." in said[-1]
        assert (await asyncio.to_thread(vault.secret_listing))["items"] == []


async def test_partner_center_refusing_the_token_for_no_mfa_stops_the_consent(tmp_path: Path) -> None:
    """The second check: one app+user call; Partner Center's 401/900421 refuses the sign-in."""
    async with sandbox_with_vault(tmp_path, SandboxOptions(user_mfa=False, mfa_enforced=True)) as vault:
        form = {"grant_type": "refresh_token", "refresh_token": DEMO.refresh_token, "client_id": DEMO.client_id}
        form["client_secret"] = DEMO.client_secret
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{vault.base_url}/{DEMO.partner_tenant_id}/oauth2/v2.0/token", data=form) as answer:
                token = (await answer.json())["access_token"]
        said: list[str] = []
        with pytest.raises(consent_command._Refusal, match="900421") as caught:
            await consent_command._confirm_with_partner_center(
                PartnerCenterConfig.sandbox(vault.base_url), token, user="u", say=said.append
            )
        assert getattr(caught.value, "code", None) == EXIT_REFUSED and "Nothing was stored." in str(caught.value)


async def test_an_answer_whose_nonce_is_not_this_sign_ins_stores_nothing(vault: VaultSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """MSAL raises RuntimeError (not ValueError) when the ID token's nonce is not the flow's."""

    def nonce_mismatch(*_: Any, **__: Any) -> Any:
        raise RuntimeError("The nonce in the ID token does not match the one sent\nsecond line")

    monkeypatch.setattr(consent_command.msal.ConfidentialClientApplication, "acquire_token_by_auth_code_flow", nonce_mismatch)
    code, said, _ = await _consent(Settings(_env_file=None, **vault.env()))
    assert code == EXIT_FAILED
    assert "was not this sign-in's (The nonce in the ID token does not match the one sent)" in said[-1]
    assert said[-1].endswith("Nothing was stored.")
    assert (await asyncio.to_thread(vault.secret_listing))["items"] == []


@pytest.mark.parametrize(
    ("claims", "home_account_id"),
    [
        ({}, f"{DEMO.user_object_id}.00000000-0000-0000-0000-00000000beef"),
        ({"idp": "https://sts.windows.net/00000000-0000-0000-0000-00000000beef/"}, ""),
    ],
    ids=["account-utid", "token-idp"],
)
def test_a_b2b_guest_of_the_partner_tenant_is_refused(claims: dict[str, Any], home_account_id: str) -> None:
    """Signed in to the partner tenant (tid) but at home in another: a guest, not an admin agent."""
    access = {"amr": ["pwd", "mfa"], "tid": DEMO.partner_tenant_id, "iss": f"https://sts.windows.net/{DEMO.partner_tenant_id}/", **claims}
    with pytest.raises(consent_command._Refusal, match="is a guest in the partner tenant") as caught:
        consent_command._check(access, user="eve@other.example", expected_tenant=DEMO.partner_tenant_id, home_account_id=home_account_id)
    assert getattr(caught.value, "code", None) == EXIT_REFUSED
    assert "home tenant 00000000-0000-0000-0000-00000000beef" in str(caught.value)
    member = {"amr": ["pwd", "mfa"], "tid": DEMO.partner_tenant_id}
    consent_command._check(member, user="a", expected_tenant=DEMO.partner_tenant_id, home_account_id=f"x.{DEMO.partner_tenant_id}")


def test_a_sign_in_to_another_tenant_is_refused() -> None:
    """A multi-tenant app lets anyone sign in: only the partner tenant's admin agent is stored."""
    claims = {"amr": ["pwd", "mfa"], "tid": "00000000-0000-0000-0000-00000000beef", "preferred_username": "eve@other.example"}
    with pytest.raises(consent_command._Refusal, match="not the partner tenant") as caught:
        consent_command._check(claims, user="eve@other.example", expected_tenant=DEMO.partner_tenant_id)
    assert getattr(caught.value, "code", None) == EXIT_REFUSED
    assert f"not the partner tenant {DEMO.partner_tenant_id}" in str(caught.value)


def test_the_command_line_lists_its_commands() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "golive", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60, env={"OFFBOARD_ENV_FILE": ""}
    )
    assert answer.returncode == 0 and "consent" in answer.stdout
    answer = subprocess.run(
        [sys.executable, "-m", "golive", "consent", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"OFFBOARD_ENV_FILE": ""},
    )
    assert "--no-browser" in answer.stdout and "http://localhost:<port>/" in answer.stdout


def test_invalid_settings_exit_with_the_setting_named_and_no_value(tmp_path: Path) -> None:
    env = {"OFFBOARD_ENV_FILE": "", "OFFBOARD_KEY_VAULT_URL": "http://offboard.vault.azure.net/?secret-in-url"}
    answer = subprocess.run(
        [sys.executable, "-m", "golive", "consent", "--no-browser"], cwd=REPO, capture_output=True, text=True, timeout=60, env=env
    )
    assert answer.returncode == EXIT_SETTINGS
    assert "OFFBOARD_KEY_VAULT_URL must be the vault's https URL" in answer.stderr
    assert "secret-in-url" not in answer.stderr + answer.stdout
