"""Secrets never reach a log line: every way settings are shown, and the whole log of a bot process
run with every secret configured and every logger at DEBUG, through a removal and its failures.

The process is ``app.main()`` with two things set first (the ``_BOOTSTRAP`` below): DEBUG logging
for every logger, and the token Entra ID would give the bot for its replies (login.microsoftonline.com
is out of reach here; the value is itself one of the secrets looked for).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from bench.buttons import button_data, buttons
from bench.connector import RecordingConnector
from bench.ports import free_port
from bot.notify_api import signed_headers
from bot.settings import Settings
from pc_sandbox import SandboxOptions, running_sandbox
from pc_sandbox.demo import DEMO
from pc_sandbox.tokens import IssuedToken, TokenStore
from tests import _azurite
from tests._azurite import ACCOUNT_KEY, Azurite
from tests._helpers import operator, sandbox_customer_id, sandbox_requests
from tests._openid import OpenIdProvider, SigningKey
from tests.bot.teams import CHANNEL_THREAD, Teams, card_with, eventually
from tests.dialogs.harness import card_text

REPO = Path(__file__).resolve().parents[2]
APP_ID = "6a1e0f3c-2b4d-4e5f-9a8b-7c6d5e4f3a2b"
CHANNEL = CHANNEL_THREAD.split(";", 1)[0]

azurite = _azurite.azurite  # the session fixture, where pytest looks for it

_BOOTSTRAP = """
import logging, os, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
for name in ("aiohttp", "asyncio", "azure", "botbuilder", "botframework", "msal", "msrest", "offboard",
             "partner_center", "removal", "requests", "urllib3", "bot", "dialogs", "storage"):
    logging.getLogger(name).setLevel(logging.DEBUG)
from botframework.connector.auth import MicrosoftAppCredentials
_token = os.environ.pop("OFFBOARD_TEST_REPLY_TOKEN")
MicrosoftAppCredentials.get_access_token = lambda self, force_refresh=False: _token
import app
app.main()
"""


def _secret(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex}"


# ---- Settings, however they are shown ----

_CONFIGURED = {
    "MicrosoftAppId": APP_ID,
    "OFFBOARD_SANDBOX": "true",
    "MicrosoftAppPassword": "app-password-7d1f9c",
    "OFFBOARD_PARTNER_CLIENT_SECRET": "client-secret-2b8e4a",
    "OFFBOARD_PARTNER_REFRESH_TOKEN": "refresh-token-5c3d7f",
    "OFFBOARD_NOTIFY_SECRET": "notify-secret-9a6b1e",
    "OFFBOARD_BLOB_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=offboard;AccountKey=YWNjb3VudC1rZXktNGU4ZjJh;",
}
_SECRETS = ("app-password-7d1f9c", "client-secret-2b8e4a", "refresh-token-5c3d7f", "notify-secret-9a6b1e", "YWNjb3VudC1rZXktNGU4ZjJh")

_SHOWN: dict[str, Callable[[Settings], str]] = {
    "repr": repr,
    "str": str,
    "format": lambda s: f"{s}",
    "model_dump": lambda s: str(s.model_dump()),
    "model_dump_json": lambda s: s.model_dump_json(),
    "vars": lambda s: str(vars(s)),
    "bot framework configuration": lambda s: repr(s.bot_framework_configuration()),
}


@pytest.mark.parametrize("shown", list(_SHOWN))
def test_settings_never_show_a_secret(monkeypatch: pytest.MonkeyPatch, shown: str) -> None:
    for name, value in _CONFIGURED.items():
        monkeypatch.setenv(name, value)
    text = _SHOWN[shown](Settings(_env_file=None))
    assert not [secret for secret in _SECRETS if secret in text], text


def test_a_settings_error_does_not_quote_the_secrets_it_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _CONFIGURED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OFFBOARD_PARTNER_CLIENT_ID", "partner-app")  # without OFFBOARD_PARTNER_TENANT: refused
    with pytest.raises(ValidationError, match="OFFBOARD_PARTNER_TENANT") as refused:
        Settings(_env_file=None)
    assert not [secret for secret in _SECRETS if secret in str(refused.value)], str(refused.value)


# ---- A whole run ----


@pytest.fixture
def issued_tokens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token the (in-process) sandbox issues from now on."""
    issued: list[str] = []
    issue = TokenStore.issue

    def recording(self: TokenStore, **fields: Any) -> IssuedToken:
        token = issue(self, **fields)
        issued.append(token.value)
        return token

    monkeypatch.setattr(TokenStore, "issue", recording)
    return issued


class _SignedTeams(Teams):
    """Teams whose every post carries a fresh channel token from ``provider`` (all kept)."""

    def __init__(self, *args: Any, provider: OpenIdProvider) -> None:
        super().__init__(*args)
        self.provider = provider
        self.tokens: list[str] = []

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any, float]:
        token = self.provider.token(audience=APP_ID, service_url=self.connector_url)
        self.tokens.append(token)
        started = time.perf_counter()
        async with self.http.post(f"{self.bot_url}/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"}) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None), time.perf_counter() - started

    def mention(self, text: str) -> dict[str, Any]:
        return self._activity(
            type="message",
            text=f"<at>Offboard</at> {text}",
            entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": "<at>Offboard</at>"}],
        )


@pytest.fixture
async def bot_log(
    aiohttp_server: Any, tmp_path: Path, azurite: Azurite, issued_tokens: list[str]
) -> AsyncIterator[tuple[str, list[str], dict[str, Any]]]:
    """Runs the bot process through a removal with failures; yields its log, the secrets, facts."""
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    secrets = {
        "MicrosoftAppPassword": _secret("app-password"),
        "OFFBOARD_PARTNER_CLIENT_SECRET": _secret("partner-client-secret"),
        "OFFBOARD_PARTNER_REFRESH_TOKEN": _secret("partner-refresh-token"),
        "OFFBOARD_NOTIFY_SECRET": _secret("notify-secret"),
        "OFFBOARD_TEST_REPLY_TOKEN": "eyJ" + base64.urlsafe_b64encode(_secret("bot-reply-token").encode()).decode(),
    }
    port = free_port()
    with OpenIdProvider() as provider:
        async with running_sandbox(options=SandboxOptions()) as sandbox, aiohttp.ClientSession() as http:
            env = {name: value for name, value in os.environ.items() if not name.startswith(("OFFBOARD_", "Microsoft", "MICROSOFT_"))}
            env.update(secrets)
            env.update(
                {
                    "MicrosoftAppId": APP_ID,
                    "OFFBOARD_ENV_FILE": "",  # the bot starts in the repo: no developer's .env there
                    "OFFBOARD_SANDBOX": "true",
                    "OFFBOARD_BOT_OPENID_METADATA_URL": provider.metadata_url,
                    "OFFBOARD_PORT": str(port),
                    "OFFBOARD_SANDBOX_URL": sandbox.base_url,
                    "OFFBOARD_STORAGE": "blob",
                    "OFFBOARD_BLOB_CONNECTION_STRING": azurite.connection_string,
                    "OFFBOARD_BLOB_CONTAINER": f"secrets{uuid.uuid4().hex[:12]}",
                    "OFFBOARD_NOTIFY_CHANNELS": CHANNEL,
                    "OFFBOARD_TOKEN_CACHE_PATH": str(tmp_path / "msal-cache.json"),
                }
            )
            log = tmp_path / "bot.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [sys.executable, "-c", _BOOTSTRAP], cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
                )
            teams = _SignedTeams(
                http, f"http://127.0.0.1:{port}", str(connector_server.make_url("")).rstrip("/"), connector, provider=provider
            )
            try:
                await eventually(lambda: _healthy(http, teams.bot_url, process, log), timeout=60, what="the bot to start")
                facts = await _removal_with_failures(teams, http, sandbox, secrets["OFFBOARD_NOTIFY_SECRET"])
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    facts["incoming tokens"] = teams.tokens
    needles = [*secrets.values(), ACCOUNT_KEY, DEMO.client_secret, DEMO.refresh_token, *issued_tokens, *teams.tokens]
    facts["issued tokens"] = issued_tokens
    return log.read_text(encoding="utf-8", errors="replace"), needles, facts


async def _healthy(http: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    assert process.poll() is None, log.read_text(errors="replace")[-3000:]
    try:
        async with http.get(f"{url}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def _removal_with_failures(teams: _SignedTeams, http: aiohttp.ClientSession, sandbox: Any, notify_secret: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    # Refused at the door: a bad bearer token, a bad notification signature, an unsigned callback.
    forged = teams.provider.token(audience=APP_ID, service_url=teams.connector_url, key=SigningKey(teams.provider.keys[0].kid))
    for case, authorization in (("garbage token", "Bearer garbage"), ("forged token", f"Bearer {forged}")):
        activity = teams.mention("remove Contoso Ltd")
        async with http.post(f"{teams.bot_url}/api/messages", json=activity, headers={"Authorization": authorization}) as response:
            facts[case] = response.status
    ticket = json.dumps({"title": "Ticket 4711"}).encode()
    async with http.post(f"{teams.bot_url}/api/notifications", data=ticket, headers=signed_headers("not-the-secret", ticket)) as response:
        facts["wrong notification signature"] = response.status
    async with http.post(f"{teams.bot_url}/api/partnercenter/events", data=b"{}", headers={"Content-Type": "application/json"}) as response:
        facts["unsigned callback"] = response.status

    # The removal, with Partner Center failing twice on the way (503, retried).
    assert await teams.say("remove Wingtip Toys") == 201
    await operator(http, sandbox, "faults", {"count": 2, "status": 503, "method": "PATCH"})
    card_id, card = card_with(teams.connector, "decide")
    while "decide" in {b["verb"] for b in buttons(card).values()}:
        status, body, _ = await teams.click(card_id, "decide", button_data(card, "decide", decision="approve"))
        assert status == 200, body
        card = body["value"]

    async def final_card() -> tuple[str, dict[str, Any]] | None:
        try:
            return card_with(teams.connector, "confirm_removal")
        except AssertionError:
            return None

    final_id, final = await eventually(final_card, timeout=60, what="the final confirmation")
    status, _, _ = await teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
    assert status == 200
    customer_id = await sandbox_customer_id(http, sandbox, "Wingtip Toys")

    async def removed() -> bool:
        writes = [
            r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH" and r["path"] == f"/v1/customers/{customer_id}"
        ]
        return any(r["status"] < 300 for r in writes)

    await eventually(removed, timeout=60, what="the relationship to be removed")
    facts["faults answered"] = sum(1 for r in await sandbox_requests(http, sandbox) if r["status"] == 503)

    # Partner Center refuses the cached token (the sandbox's clock ran past its expiry): a new one.
    await operator(http, sandbox, "clock", {"advanceHours": 2})
    before = len(teams.connector.sent)
    assert await teams.say("plan Contoso Ltd") == 201
    facts["plan after the token expired"] = any(c.card and "Contoso Ltd" in card_text(c.card) for c in teams.connector.sent[before:])
    facts["token refused"] = sum(1 for r in await sandbox_requests(http, sandbox) if r["status"] == 401)
    async with http.post(f"{teams.bot_url}/api/notifications", data=ticket, headers=signed_headers(notify_secret, ticket)) as response:
        facts["signed notification"] = response.status
    return facts


@pytest.mark.slow
async def test_a_full_run_at_debug_logs_no_secret_and_no_token(bot_log: tuple[str, list[str], dict[str, Any]]) -> None:
    log, needles, facts = bot_log
    # The run did what it should, failures included, and really logged at DEBUG.
    assert facts["garbage token"] == facts["forged token"] == facts["wrong notification signature"] == facts["unsigned callback"] == 401
    assert facts["faults answered"] >= 1 and facts["token refused"] >= 1 and facts["plan after the token expired"]
    assert facts["signed notification"] == 202
    assert len(facts["issued tokens"]) >= 2 and len(facts["incoming tokens"]) >= 5
    for logger in ("DEBUG msrest", "DEBUG urllib3", "azure.core.pipeline", "DEBUG msal", "WARNING bot.http.refusals: refused an activity"):
        assert logger in log, f"no {logger!r} line: was DEBUG logging on?"
    leaked = {needle[:24] + "…": _line_with(log, needle) for needle in needles if needle in log}
    assert not leaked, leaked
    # Nor any other JWT (the bot's own tokens, MSAL's id_tokens). MSAL does log "client_info",
    # base64 JSON of the user's and tenant's ids: "eyJ" too, but one segment and no credential.
    jwt = _JWT.search(log)
    assert jwt is None, _line_with(log, jwt.group())


_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*\.")


def _line_with(log: str, needle: str) -> str:
    return next((line for line in log.splitlines() if needle in line), "")
