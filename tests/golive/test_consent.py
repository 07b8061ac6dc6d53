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
from pc_sandbox import DEMO
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
    assert tokens.stored_tags["consented-by"] == DEMO.username


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
