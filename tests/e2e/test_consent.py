"""``python -m golive consent`` end to end: Chromium signs in on the sandbox's pages, the token lands
in the sandbox's Key Vault stand-in, and a bot that has no refresh token of its own removes a
customer with it. A sign-in without MFA is refused and stores nothing.

Every part is real: the command is a process (MSAL, PKCE, its loopback listener), the browser is
Debian's Chromium driven by Playwright, the vault is reached over TLS with the Azure SDK, the bot is
``python app.py`` driven over HTTP as Teams would, and the sandbox is the witness.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from bench.buttons import button_data
from bench.connector import RecordingConnector
from bench.ports import free_port
from pc_sandbox import DEMO, SandboxOptions
from tests._helpers import sandbox_requests
from tests.bot.teams import Teams, card_with, eventually
from tests.bot.test_durable import BotProcess
from tests.golive.vault_sandbox import TOKEN_SECRET, VaultSandbox, VaultSandboxThread

from .stack import REPO

T = TypeVar("T")
_CUSTOMER = "Wingtip Toys"


def _in_a_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run async test code beside Playwright's sync API, which holds this thread's event loop."""
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            outcome.put((True, asyncio.run(work())))
        except BaseException as error:  # noqa: BLE001  (handed to the test's thread, raised there as it is)
            outcome.put((False, error))

    thread = threading.Thread(target=run, name="e2e-async", daemon=True)
    thread.start()
    ok, value = outcome.get(timeout=300)
    if not ok:
        raise value
    result: T = value
    return result


def _clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any Offboard, Bot Framework or Azure identity setting."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OFFBOARD_", "Microsoft", "MICROSOFT_", "AZURE_"))}
    return {**env, "OFFBOARD_ENV_FILE": "", **extra}


class _Consent:
    """``python -m golive consent --no-browser`` as a process; its output collected line by line."""

    def __init__(self, vault: VaultSandbox, log: Path) -> None:
        self.port = free_port()
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "golive", "consent", "--no-browser", "--port", str(self.port), "--timeout", "120"],
            cwd=REPO,
            env=_clean_env(**vault.env()),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._log.write(line)
            self._log.flush()
            self.output.append(line)
            self.lines.put(line)

    def sign_in_url(self) -> str:
        while True:
            line = self.lines.get(timeout=60)
            if line.startswith("Sign-in URL: "):
                return line.removeprefix("Sign-in URL: ").strip()

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(timeout=60)
        self.process.stdout.close()  # type: ignore[union-attr]
        return code, "".join(self.output)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def consent_tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        results = REPO / "test-results" / "e2e"
        results.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(results / f"{request.node.name}.png"), full_page=True)
    context.close()


def _sign_in(tab: Any, url: str, *, with_mfa: bool) -> None:
    tab.goto(url)
    tab.fill("#i0116", DEMO.username)
    tab.fill("#i0118", DEMO.password)
    tab.click("#idSIButton9")
    if with_mfa:
        tab.wait_for_selector("#idTxtBx_SAOTCC_OTC")
        assert DEMO.mfa_code in tab.content()  # the sandbox shows its one code as a hint
        tab.fill("#idTxtBx_SAOTCC_OTC", DEMO.mfa_code)
        tab.click("#idSubmit_SAOTCC_Continue")
    tab.wait_for_selector("#offboard-consent")  # the command's own page on http://localhost:<port>/


def test_consent_with_mfa_is_stored_in_key_vault_and_the_bot_removes_a_customer_with_it(consent_tab: Any, tmp_path: Path) -> None:
    with VaultSandboxThread(tmp_path) as vault:
        consent = _Consent(vault, tmp_path / "consent.log")
        try:
            url = consent.sign_in_url()
            # PKCE on the wire, and the browser sent to the sandbox, never to the made-up https host.
            assert url.startswith(f"{vault.base_url}/{DEMO.tenant}/oauth2/v2.0/authorize?")
            assert "code_challenge_method=S256" in url and "code_challenge=" in url
            _sign_in(consent_tab, url, with_mfa=True)
            assert "Signed in" in consent_tab.inner_text("#offboard-consent")
            code, output = consent.finish()
        finally:
            consent.stop()
        assert code == 0, output
        assert f"Stored the sign-in of {DEMO.username} (with MFA)" in output
        assert "python -m golive doctor" in output

        # The vault, read over its REST API: one version, tagged, holding MSAL's cache.
        token = vault.vault_token()
        [version] = vault.rest(f"secrets/{TOKEN_SECRET}/versions", token=token)["value"]
        assert version["tags"]["mfa"] == "true" and version["tags"]["consented-by"] == DEMO.user_object_id
        assert version["tags"]["redeemed-at"] == version["tags"]["consented-at"]
        stored = vault.rest(f"secrets/{TOKEN_SECRET}", token=token)
        cache = json.loads(stored["value"])
        [refresh_token] = [entry["secret"] for entry in cache["RefreshToken"].values()]
        assert refresh_token != DEMO.refresh_token  # a new sign-in's token, not the seeded one
        # No token in what the command printed.
        assert refresh_token not in output
        assert not any(entry["secret"] in output for entry in cache.get("AccessToken", {}).values())

        # The bot, started now with no refresh token of its own, removes a customer with it.
        removal_writes = _in_a_thread(lambda: _remove_through_the_bot(vault, tmp_path))
        assert removal_writes == 1
        versions = vault.rest(f"secrets/{TOKEN_SECRET}/versions", token=token)["value"]
        # The bot redeemed the refresh token (for Partner Center, and for Graph: one redemption per
        # resource) and wrote each rotated one back.
        assert len(versions) >= 2
        tags = vault.rest(f"secrets/{TOKEN_SECRET}", token=token)["tags"]
        assert tags["consented-by"] == DEMO.user_object_id and tags["redeemed-at"] >= version["tags"]["redeemed-at"]


async def _remove_through_the_bot(vault: VaultSandbox, folder: Path) -> int:
    """Remove the customer through the bot over HTTP; the accepted removal PATCHes (app+user only)."""
    connector = RecordingConnector()
    runner = web.AppRunner(connector.app())
    await runner.setup()
    connector_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", connector_port).start()
    port = free_port()
    env = _clean_env(
        **vault.env(),
        OFFBOARD_PORT=str(port),
        OFFBOARD_STORAGE="sqlite",
        OFFBOARD_SQLITE_PATH=str(folder / "offboard.db"),
        OFFBOARD_RESUME_INTERVAL_SECONDS="0.5",
    )
    assert not any("REFRESH_TOKEN" in name for name in env)
    bot = BotProcess(env, port, folder / "bot.log")
    try:
        async with aiohttp.ClientSession() as http:
            teams = Teams(http, bot.url, f"http://127.0.0.1:{connector_port}", connector)
            await bot.start(http)
            assert "Key Vault https://offboard-test.vault.azure.net/" in (folder / "bot.log").read_text()
            assert await teams.say(f"remove {_CUSTOMER}") == 201
            card_id, card = card_with(connector, "approve_all")
            status, _, _ = await teams.click(card_id, "approve_all", button_data(card, "approve_all"))
            assert status == 200

            async def final_card() -> bool:
                return any(call.card and "confirm_removal" in json.dumps(call.card) for call in connector.sent)

            await eventually(final_card, timeout=60, what="the final confirmation card")
            final_id, final = card_with(connector, "confirm_removal")
            status, _, _ = await teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
            assert status == 200

            async with http.get(f"{vault.base_url}/_sandbox/customers") as answer:
                [customer_id] = [c["id"] for c in (await answer.json())["items"] if c["companyName"] == _CUSTOMER]

            async def removed() -> int:
                requests = await sandbox_requests(http, vault.sandbox)
                return sum(
                    1 for r in requests if r["method"] == "PATCH" and r["path"] == f"/v1/customers/{customer_id}" and r["status"] < 300
                )

            return int(await eventually(removed, timeout=60, what="the relationship's removal"))
    finally:
        bot.stop()
        await runner.cleanup()


def test_a_sign_in_without_mfa_is_refused_and_nothing_is_stored(consent_tab: Any, tmp_path: Path) -> None:
    with VaultSandboxThread(tmp_path, SandboxOptions(user_mfa=False)) as vault:
        consent = _Consent(vault, tmp_path / "consent.log")
        try:
            _sign_in(consent_tab, consent.sign_in_url(), with_mfa=False)
            code, output = consent.finish()
        finally:
            consent.stop()
        assert code == 3, output
        assert f"Refused: the sign-in of {DEMO.username} did not use multi-factor authentication" in output
        assert "Partner Center requires MFA" in output and "Sign in again with MFA" in output
        assert "Nothing was stored." in output
        assert vault.secret_listing()["items"] == []
