"""Token health over HTTP (issue 20, must-show): the bot against a sandbox running beside it, its
token endpoint behind a switch that stops it answering, and Teams' side recorded.

The sandbox's clock jumps 80 days while Entra ID's token endpoint does not answer: the bot cannot
renew the refresh token, so one warning goes to the approvers' channel and ``/healthz`` says the
token is degraded; a second check (and a second instance sharing the store) says nothing more; the
endpoint back, the token is renewed and healthy again. A token that lapsed (90 days unused) or
was revoked is "consent again", with the command to run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import cards
from app import create_app
from bench.connector import Recorded, RecordingConnector
from bot.settings import Settings
from bot.token_health import NOTICE_KEY, TOKEN_HEALTH, TokenHealthMonitor
from partner_center.errors import UnavailableError
from partner_center.token_health import CONSENT_COMMAND, Reason, TokenStatus
from pc_sandbox import SandboxOptions, running_sandbox
from storage import MemoryStore, SqliteStore
from tests.bot.teams import TENANT, Teams
from tests.cards.reading import seen, visible_texts
from tests.cards.schema import assert_valid_card
from tests.golive.test_doctor import consent
from tests.golive.vault_sandbox import TOKEN_SECRET, VaultSandbox, sandbox_with_vault

NOTIFY_CHANNEL = "19:offboard-ops@thread.tacv2"
_TOKEN_PATH = "/oauth2/v2.0/token"  # Entra ID's token endpoint, under /{tenant}


class EntraSwitch:
    """A pass-through in front of the sandbox whose token endpoint can stop answering (the
    connection closed without a reply: what the bot sees when Entra ID or the network is down).
    The Host header is passed on: the sandbox advertises its token endpoint under the host asked.
    The sandbox's own outage switch covers Partner Center only ("Tokens are still issued")."""

    def __init__(self, target: str, session: aiohttp.ClientSession) -> None:
        self.target, self.session, self.down = target.rstrip("/"), session, False
        self.refused = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        return app

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if self.down and request.path.endswith(_TOKEN_PATH):
            self.refused += 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=503)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"content-length", "transfer-encoding"}}
        async with self.session.request(
            request.method, f"{self.target}{request.rel_url}", headers=headers, data=await request.read(), allow_redirects=False
        ) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in {"content-length", "transfer-encoding", "content-encoding"}}
            return web.Response(status=answer.status, body=body, headers=kept)


@dataclass
class Stack:
    teams: Teams
    bot: web.Application
    entra: EntraSwitch
    entra_url: str  # what the bot is given as the sandbox: the pass-through
    sandbox_url: str
    http: aiohttp.ClientSession
    connector: RecordingConnector

    async def move_clock(self, days: int) -> None:
        async with self.http.post(f"{self.sandbox_url}/_sandbox/clock", json={"advanceDays": days}) as response:
            assert response.status == 200

    async def sandbox_now(self) -> datetime:
        async with self.http.get(f"{self.sandbox_url}/_sandbox/clock") as response:
            return datetime.fromisoformat((await response.json())["now"].replace("Z", "+00:00"))

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.teams.bot_url}/healthz") as response:
            return response.status, await response.json()

    def warnings(self) -> list[Recorded]:
        """Token warnings Teams received (any language)."""
        titles = {cards.t("en-US", f"token.{reason.value}.title") for reason in Reason if reason is not Reason.NONE}
        return [call for call in self.connector.sent if call.card and set(visible_texts(call.card)) & titles]


@asynccontextmanager
async def _stack(aiohttp_server: Any, tmp_path: Path, options: SandboxOptions | None = None) -> AsyncIterator[Stack]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    async with running_sandbox(options=options or SandboxOptions()) as sandbox, aiohttp.ClientSession() as http:
        entra = EntraSwitch(sandbox.base_url, http)
        entra_server = await aiohttp_server(entra.app())
        entra_url = str(entra_server.make_url("")).rstrip("/")
        bot = create_app(_settings(entra_url, tmp_path))
        bot_server = await aiohttp_server(bot)
        teams = Teams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
        await _install_in_the_notification_channel(teams)
        yield Stack(teams, bot, entra, entra_url, sandbox.base_url, http, connector)
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)


def _settings(sandbox_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        sandbox_url=sandbox_url,
        storage="sqlite",
        sqlite_path=tmp_path / "offboard.db",
        notify_channels=[NOTIFY_CHANNEL],
    )


async def _install_in_the_notification_channel(teams: Teams) -> None:
    status, _, _ = await teams.post(
        teams._activity(  # noqa: SLF001
            type="message",
            text="<at>Offboard</at> help",
            entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": "<at>Offboard</at>"}],
            conversation={"id": f"{NOTIFY_CHANNEL};messageid=7", "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
            channelData={"tenant": {"id": TENANT}, "team": {"id": "19:ops-team@thread.tacv2"}, "channel": {"id": NOTIFY_CHANNEL}},
        )
    )
    assert status in (200, 201)


@pytest.fixture(autouse=True)
def _fresh_health(monkeypatch: pytest.MonkeyPatch) -> None:
    # /healthz keeps its answer 15 s; these tests read it after each step.
    monkeypatch.setattr("app._HEALTH_CACHE_SECONDS", 0.0)


async def test_80_days_without_renewal_warn_once_and_healthz_is_degraded_until_renewed(aiohttp_server: Any, tmp_path: Path) -> None:
    async with _stack(aiohttp_server, tmp_path) as stack:
        monitor = stack.bot[TOKEN_HEALTH]
        first = await monitor.current()  # the start-up check redeemed the token
        assert first.status is TokenStatus.HEALTHY and first.last_redeemed_at is not None
        assert (await stack.health())[1]["checks"]["partnerCenterToken"] == "ok"
        redeemed = first.last_redeemed_at

        stack.entra.down = True
        await stack.move_clock(80)
        health = await monitor.check()
        assert stack.entra.refused >= 1  # it did try to renew the token
        assert health.status is TokenStatus.EXPIRING and health.lapses_at == redeemed + timedelta(days=90)

        [warning] = stack.warnings()
        assert warning.conversation_id == NOTIFY_CHANNEL
        said = seen(warning.card or {})
        assert cards.t("en-US", "token.unused.title") in said
        assert cards.t("en-US", "token.lapses_on") in said and cards.format_date(redeemed + timedelta(days=90)) in said
        assert cards.format_datetime(redeemed) in said  # last used
        assert CONSENT_COMMAND in said and "login.microsoftonline.com" in said

        status, body = await stack.health()
        # Degraded, and still ready: with Entra ID silent, Partner Center reads degraded too (no
        # new access token), but that is every replica's trouble; this one's storage answers.
        assert status == 200 and body["ready"] is True and body["status"] == "degraded"
        assert body["checks"]["partnerCenterToken"] == "degraded" and body["checks"]["storage"] == "ok"

        # The same problem is not announced twice: not by the next check, nor by a restarted bot.
        await monitor.check()
        assert len(stack.warnings()) == 1

        stack.entra.down = False
        renewed = await monitor.check()
        assert renewed.status is TokenStatus.HEALTHY and renewed.last_redeemed_at is not None
        assert renewed.last_redeemed_at >= redeemed + timedelta(days=80)
        status, body = await stack.health()
        assert status == 200 and body["checks"]["partnerCenterToken"] == "ok"
        assert len(stack.warnings()) == 1  # recovery is not announced; it clears the warning

        # Cleared: the same problem later is a new one, announced again.
        stack.entra.down = True
        await stack.move_clock(80)
        await monitor.check()
        assert len(stack.warnings()) == 2


async def test_the_once_survives_a_restart(aiohttp_server: Any, tmp_path: Path) -> None:
    async with _stack(aiohttp_server, tmp_path) as stack:
        await stack.bot[TOKEN_HEALTH].current()
        stack.entra.down = True
        await stack.move_clock(80)
        await stack.bot[TOKEN_HEALTH].check()
        assert len(stack.warnings()) == 1
        # A second instance (or the bot restarted) on the same store: it knows the problem was told.
        other = create_app(_settings(stack.entra_url, tmp_path))
        other_server = await aiohttp_server(other)
        assert other_server is not None
        again = await other[TOKEN_HEALTH].current()
        assert again.status is TokenStatus.EXPIRING
        assert len(stack.warnings()) == 1
        stored = await SqliteStore(tmp_path / "offboard.db").read(NOTICE_KEY)
        assert stored is not None and stored.document["announced"] == "expiring:unused"


async def test_a_token_unused_for_91_days_must_be_consented_again(aiohttp_server: Any, tmp_path: Path) -> None:
    # The seeded demo token lapses like a real one here (the sandbox keeps it alive by default).
    async with _stack(aiohttp_server, tmp_path, SandboxOptions(seeded_refresh_token_lapses=True)) as stack:
        await stack.bot[TOKEN_HEALTH].current()
        await stack.move_clock(91)
        health = await stack.bot[TOKEN_HEALTH].check()
        assert health.status is TokenStatus.CONSENT_AGAIN and health.reason is Reason.EXPIRED
        [warning] = stack.warnings()
        said = seen(warning.card or {})
        assert cards.t("en-US", "token.expired.title") in said and "AADSTS700082" in said
        assert cards.t("en-US", "token.fix.consent") in said and CONSENT_COMMAND in said
        assert cards.t("en-US", "token.lapsed_on") in said
        status, body = await stack.health()
        assert body["checks"]["partnerCenterToken"] == "degraded" and body["status"] == "degraded"
        # Still ready while Partner Center (app-only) and storage answer: an expired consent must
        # not take every replica out of the load balancer; the approvers were told what to run.
        assert status == 200 and body["ready"] is True, body


async def test_a_revoked_sign_in_must_be_consented_again(aiohttp_server: Any, tmp_path: Path) -> None:
    async with _stack(aiohttp_server, tmp_path) as stack:
        await stack.bot[TOKEN_HEALTH].current()
        async with stack.http.post(f"{stack.sandbox_url}/_sandbox/entra/revokeSignInSessions") as response:
            assert response.status == 200
        await stack.move_clock(8)  # past OFFBOARD_TOKEN_CHECK_DAYS: the check redeems it
        health = await stack.bot[TOKEN_HEALTH].check()
        assert health.status is TokenStatus.CONSENT_AGAIN and health.reason is Reason.REVOKED
        [warning] = stack.warnings()
        said = seen(warning.card or {})
        assert cards.t("en-US", "token.revoked.title") in said and CONSENT_COMMAND in said


async def test_a_token_used_within_the_check_days_is_not_redeemed_again(aiohttp_server: Any, tmp_path: Path) -> None:
    async with _stack(aiohttp_server, tmp_path) as stack:
        first = await stack.bot[TOKEN_HEALTH].current()
        await stack.move_clock(6)
        stack.entra.down = True  # would show as a failed attempt if it tried
        health = await stack.bot[TOKEN_HEALTH].check()
        assert stack.entra.refused == 0 and health.status is TokenStatus.HEALTHY
        assert health.last_redeemed_at == first.last_redeemed_at and stack.warnings() == []
        assert datetime.now(UTC) < await stack.sandbox_now()


async def test_a_sign_in_without_mfa_is_seen_through_partner_centers_refusal(aiohttp_server: Any, tmp_path: Path) -> None:
    # Entra ID redeems the token; Partner Center refuses what it gives (401/900421): asked after each redemption.
    options = SandboxOptions(mfa_enforced=True, user_mfa=False)
    async with _stack(aiohttp_server, tmp_path, options) as stack:
        health = await stack.bot[TOKEN_HEALTH].current()
        assert health.status is TokenStatus.CONSENT_AGAIN and health.reason is Reason.MFA
        [warning] = stack.warnings()
        said = seen(warning.card or {})
        assert cards.t("en-US", "token.mfa.title") in said and CONSENT_COMMAND in said
        stored = await SqliteStore(tmp_path / "offboard.db").read(NOTICE_KEY)
        assert stored is not None and stored.document["attempt"]["code"] == 900421
        status, body = await stack.health()
        assert status == 200 and body["checks"]["partnerCenterToken"] == "degraded"


class _FakeTokens:
    """A token whose last redemption was 80 days ago and whose endpoint does not answer."""

    def __init__(self, redeemed: datetime) -> None:
        self.redeemed = redeemed

    @property
    def has_user_credential(self) -> bool:
        return True

    @property
    def last_redeemed_at(self) -> datetime | None:
        return self.redeemed

    # No shared store (as MsalTokenProvider without a vault): nothing persisted, nothing failing.
    last_persisted_redeemed_at: datetime | None = None
    persist_error: str | None = None

    async def load(self) -> None:
        return None

    async def exercise(self) -> datetime:
        raise UnavailableError("the token endpoint did not answer")


async def test_a_warning_whose_announcement_failed_is_announced_by_the_next_check() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    documents = MemoryStore()
    told: list[dict[str, Any]] = []

    async def announce(card: dict[str, Any]) -> int:
        if not told:
            told.append({})
            raise RuntimeError("Teams refused the message")
        told.append(card)
        return 1

    monitor = TokenHealthMonitor(
        _FakeTokens(now - timedelta(days=80)), documents, announce=announce, clock=lambda: now, check_days=7, warn_days=75
    )
    with pytest.raises(RuntimeError):
        await monitor.check()
    stored = await documents.read(NOTICE_KEY)
    assert stored is not None and stored.document["announced"] == ""  # not claimed: nobody was told
    health = await monitor.check()
    assert health.reason is Reason.UNUSED and len(told) == 2
    assert cards.t("en-US", "token.unused.title") in seen(told[1])
    await monitor.check()
    assert len(told) == 2  # told once, then not again
    stored = await documents.read(NOTICE_KEY)
    assert stored is not None and stored.document["announced"] == "expiring:unused"


@asynccontextmanager
async def _vault_stack(aiohttp_server: Any, tmp_path: Path) -> AsyncIterator[tuple[Stack, VaultSandbox]]:
    """The bot with its sign-in in the sandbox's Key Vault (as in production)."""
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    async with sandbox_with_vault(tmp_path) as vault, aiohttp.ClientSession() as http:
        await consent(vault)
        settings = Settings(
            _env_file=None, **vault.env(), storage="sqlite", sqlite_path=tmp_path / "offboard.db", notify_channels=[NOTIFY_CHANNEL]
        )
        bot = create_app(settings)
        bot_server = await aiohttp_server(bot)
        teams = Teams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
        await _install_in_the_notification_channel(teams)
        entra = EntraSwitch(vault.base_url, http)
        yield Stack(teams, bot, entra, vault.base_url, vault.base_url, http, connector), vault


async def test_a_rotation_the_key_vault_refuses_is_judged_on_the_stored_token_and_warned_once(aiohttp_server: Any, tmp_path: Path) -> None:
    async with _vault_stack(aiohttp_server, tmp_path) as (stack, vault):
        monitor = stack.bot[TOKEN_HEALTH]
        first = await monitor.current()
        assert first.healthy and first.last_redeemed_at is not None
        # The identity loses its write (and read) access: the rotated token stays in memory only.
        await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": False})
        await stack.move_clock(8)  # due: the check redeems it, and cannot write it back
        health = await monitor.check()
        assert health.reason is Reason.WRITE_BACK
        # Judged on what the vault holds: the consent's redemption, not the one in memory.
        assert health.last_redeemed_at == first.last_redeemed_at
        status, body = await stack.health()
        assert status == 200 and body["status"] == "degraded" and body["checks"]["partnerCenterToken"] == "degraded"
        [warning] = stack.warnings()
        said = seen(warning.card or {})
        assert "Key Vault Secrets Officer" in said
        await monitor.check()
        assert len(stack.warnings()) == 1  # once
        # The role back: the next redemption is written back, the problem clears.
        await asyncio.to_thread(vault.operator, "PUT", "/_sandbox/keyvault/role", {"assigned": True})
        await stack.move_clock(8)
        renewed = await monitor.check()
        assert renewed.healthy and renewed.last_redeemed_at is not None and renewed.last_redeemed_at > first.last_redeemed_at
        listing = await asyncio.to_thread(vault.secret_listing)
        assert any(item["name"] == TOKEN_SECRET and item["versions"] >= 3 for item in listing["items"])
