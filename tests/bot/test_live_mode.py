"""Live mode fails closed, over HTTP (README: "Running it for real safely").

The bot runs with live-mode settings (Partner Center credentials, Bot Framework authentication
with a loopback signing key, a Teams tenant, approvers, requesters, four-eyes by default); its
Partner Center is the sandbox (``create_app(partner_center_config=...)``), so what reached
Partner Center is read from the sandbox's request log. Teams is a recording connector whose
roster says who is a member, a guest or an external member.

- a process missing any live setting exits non-zero naming it;
- anonymous activities are refused with 401 whenever the bot is not on the sandbox, and the
  security review's probe (an unauthenticated remove → approve all → confirm with a forged
  serviceUrl) changes nothing and sends nothing to the forged host;
- every command and button refused to guests, external members, non-requesters and
  non-approvers, in their language, audited, with no Partner Center write;
- four-eyes on by default: the requester alone cannot approve what cannot be undone, nor remove;
- protected customers are never planned; replies go only to allowed service URLs.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from botframework.connector.auth import MicrosoftAppCredentials

import cards
from app import ADAPTER, BACKGROUND, CLIENT, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bot.service_urls import ServiceUrlRefused
from bot.settings import Settings
from partner_center import PartnerCenterConfig, Relationship
from pc_sandbox import SandboxOptions
from removal import CaseState, Decision
from removal.store import CaseStore
from tests._helpers import operator, sandbox_customer_id, sandbox_requests
from tests._openid import OpenIdProvider
from tests.bot.teams import TENANT, Teams, card_with
from tests.dialogs.harness import card_text

APP_ID = "5c0a1f4e-9b7d-4e2a-8c3f-1d6e7f8a9b0c"
APP_PASSWORD = "bot-password-for-live-tests"
REPLY_TOKEN = "token-from-entra-for-the-replies"
OTHER_TENANT = "0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    aad: str
    roster: dict[str, Any] = field(default_factory=dict)

    def account(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad}


ANN = User("29:ann", "Ann Admin", "00000000-0000-0000-0000-0000000000a1")  # approver; requests the removals
BOB = User("29:bob", "Bob Approver", "00000000-0000-0000-0000-0000000000b2")  # approver
CARL = User("29:carl", "Carl Requester", "00000000-0000-0000-0000-0000000000c3")  # requester, not approver
DAVE = User("29:dave", "Dave Member", "00000000-0000-0000-0000-0000000000d4")  # member, nothing more
GUEST = User("29:guest", "Gina Guest", "00000000-0000-0000-0000-0000000000e5", {"userRole": "guest", "tenantId": TENANT})
EXTERNAL = User("29:ext", "Erik External", "00000000-0000-0000-0000-0000000000f6", {"userRole": "user", "tenantId": OTHER_TENANT})
PEOPLE = (ANN, BOB, CARL, DAVE, GUEST, EXTERNAL)


def live_settings(tmp_path: Path, provider: OpenIdProvider, connector_url: str, **changed: Any) -> Settings:
    fields: dict[str, Any] = {
        "_env_file": None,
        "partner_client_id": "partner-app",
        "partner_tenant": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "partner_client_secret": "partner-secret",
        "app_id": APP_ID,
        "app_password": APP_PASSWORD,
        "bot_openid_metadata_url": provider.metadata_url,
        "teams_tenant_id": TENANT,
        "approvers": [ANN.aad, BOB.aad],
        "requesters": [CARL.aad],
        "storage": "sqlite",
        "sqlite_path": tmp_path / "offboard.db",
        "token_cache_path": tmp_path / "msal-cache.json",
        "service_url_hosts": [connector_url],
    }
    fields.update(changed)
    return Settings(**fields)


class LiveTeams(Teams):
    """Teams' side with a Bot Connector token on every request (none when ``signed`` is off)."""

    def __init__(self, *args: Any, provider: OpenIdProvider, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.signed = True
        self.user = ANN

    def _activity(self, **fields: Any) -> dict[str, Any]:
        return super()._activity(**{"from": self.user.account(), **fields})

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any, float]:
        headers = {}
        if self.signed:
            token = self.provider.token(audience=APP_ID, service_url=activity.get("serviceUrl", self.connector_url))
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        async with self.http.post(f"{self.bot_url}/api/messages", json=activity, headers=headers) as response:
            text = await response.text()
            try:
                body = await response.json(content_type=None) if text else None
            except ValueError:
                body = text
            return response.status, body, time.perf_counter() - started

    async def say_as(self, user: User, text: str, locale: str = "en-US") -> int:
        self.user = user
        status, _, _ = await self.post(
            self._activity(
                type="message",
                text=f"<at>Offboard</at> {text}",
                locale=locale,
                entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": "<at>Offboard</at>"}],
            )
        )
        return status

    async def click_as(self, user: User, card_id: str, verb: str, data: dict[str, Any], locale: str = "en-US") -> tuple[int, Any]:
        self.user = user
        status, body, _ = await self.post(
            self._activity(
                type="invoke",
                name="adaptiveCard/action",
                replyToId=card_id,
                locale=locale,
                value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
            )
        )
        return status, body


@dataclass
class Live:
    teams: LiveTeams
    app: web.Application
    sandbox: Any
    connector: RecordingConnector

    @property
    def store(self) -> CaseStore:
        return CaseStore(self.app[STORE])

    async def writes(self) -> list[dict[str, Any]]:
        """Every Partner Center write the sandbox received."""
        return [r for r in await sandbox_requests(self.teams.http, self.sandbox) if r.get("method") not in ("GET", "HEAD")]

    async def audit(self) -> list[dict[str, Any]]:
        return [record for _, record in await self.app[STORE].read_stream("audit")]

    async def relationship(self, name: str) -> Relationship:
        return await self.app[CLIENT].read_relationship(await sandbox_customer_id(self.teams.http, self.sandbox, name))

    def said_since(self, count: int) -> list[str]:
        """Texts the bot posted since ``count`` connector calls (card texts joined)."""
        return [card_text(c.card) if c.card else c.body.get("text") or "" for c in self.connector.calls[count:] if c.method == "send"]


@pytest.fixture
def sandbox_options() -> SandboxOptions:
    """Azure shows a cancelled Azure subscription as inactive at once here: these tests are about
    live mode (the ~10-minute wait Microsoft documents: tests/dialogs/test_azure_plan.py)."""
    return SandboxOptions(azure_cancel_delay=timedelta(0))


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    with OpenIdProvider() as running:
        yield running


async def _start(
    aiohttp_server: Any, tmp_path: Path, provider: OpenIdProvider, sandbox: Any, **changed: Any
) -> tuple[Live, aiohttp.ClientSession]:
    connector = RecordingConnector()
    for user in PEOPLE:
        connector.members[user.id] = {"aadObjectId": user.aad, "name": user.name, **user.roster}
    connector_server = await aiohttp_server(connector.app())
    connector_url = str(connector_server.make_url("")).rstrip("/")
    settings = live_settings(tmp_path, provider, connector_url, **changed)
    app = create_app(settings, partner_center_config=PartnerCenterConfig.sandbox(sandbox.base_url))
    bot_server = await aiohttp_server(app)
    http = aiohttp.ClientSession()
    teams = LiveTeams(http, str(bot_server.make_url("")).rstrip("/"), connector_url, connector, provider=provider)
    return Live(teams, app, sandbox, connector), http


@pytest.fixture
async def live(
    aiohttp_server: Any, tmp_path: Path, provider: OpenIdProvider, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Live]:
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: REPLY_TOKEN)
    started, http = await _start(aiohttp_server, tmp_path, provider, sandbox)
    async with http:
        yield started


# ---- Start-up ----

_LIVE_ENV = {
    "OFFBOARD_PARTNER_CLIENT_ID": "partner-app",
    "OFFBOARD_PARTNER_TENANT": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "OFFBOARD_PARTNER_CLIENT_SECRET": "partner-secret-value",
    "MicrosoftAppId": APP_ID,
    "MicrosoftAppPassword": APP_PASSWORD,
    "MicrosoftAppType": "SingleTenant",
    "MicrosoftAppTenantId": TENANT,
    "OFFBOARD_TEAMS_TENANT_ID": TENANT,
    "OFFBOARD_APPROVERS": f"{ANN.aad},{BOB.aad}",
    "OFFBOARD_STORAGE": "sqlite",
}


def _run_app(tmp_path: Path, env: dict[str, str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("OFFBOARD_", "Microsoft", "MICROSOFT_"))}
    clean.update({"OFFBOARD_SQLITE_PATH": str(tmp_path / "offboard.db"), "OFFBOARD_PORT": "0", **env})
    return subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parents[2] / "app.py")],
        cwd=tmp_path,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "left_out",
    [
        "MicrosoftAppId",
        "MicrosoftAppPassword",
        "MicrosoftAppTenantId",
        "OFFBOARD_TEAMS_TENANT_ID",
        "OFFBOARD_APPROVERS",
        "OFFBOARD_STORAGE",
    ],
)
def test_a_live_bot_missing_a_setting_exits_naming_it(tmp_path: Path, left_out: str) -> None:
    env = dict(_LIVE_ENV)
    if left_out == "OFFBOARD_STORAGE":
        env[left_out] = "memory"
    else:
        del env[left_out]
    run = _run_app(tmp_path, env)
    assert run.returncode != 0
    assert "refuses to start" in run.stderr and left_out in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert "partner-secret-value" not in run.stderr and APP_PASSWORD not in run.stderr
    assert not (tmp_path / "offboard.db").exists()  # nothing was opened


def test_the_first_log_line_states_the_posture(tmp_path: Path) -> None:
    with socket.socket() as taken:  # a port the bot cannot bind: it stops once started up
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**_LIVE_ENV, "OFFBOARD_APPROVERS": "", "OFFBOARD_INSECURE_DEV": "true", "OFFBOARD_PORT": str(taken.getsockname()[1])}
        run = _run_app(tmp_path, env)
    assert run.returncode != 0
    first = run.stderr.splitlines()[0]
    assert " ERROR " in first and "Posture: LIVE Partner Center" in first, run.stderr
    for fact in ("bot authentication on (SingleTenant)", f"Teams tenant {TENANT}", "four-eyes on", "storage sqlite", "INSECURE"):
        assert fact in first, first


# ---- Anonymous activities and the review's probe ----


async def test_an_anonymous_activity_in_live_mode_is_refused_before_anything_runs(live: Live) -> None:
    live.teams.signed = False
    status = await live.teams.say_as(ANN, "remove Contoso Ltd")
    assert status == 401
    assert await sandbox_requests(live.teams.http, live.sandbox) == []
    assert live.connector.calls == [] and await live.audit() == []


@pytest.mark.parametrize("posture", ["live defaults", "authentication off under the insecure override"])
async def test_the_forged_service_url_removal_of_the_review_is_refused(
    aiohttp_server: Any, tmp_path: Path, provider: OpenIdProvider, sandbox: Any, monkeypatch: pytest.MonkeyPatch, posture: str
) -> None:
    """Security review, probe 2: one unauthenticated client, a serviceUrl of its own, remove →
    approve all → confirm. Now: 401 at each step, nothing sent to the forged host."""
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: REPLY_TOKEN)
    changed = {"app_id": "", "app_password": "", "insecure_dev": True} if posture.startswith("authentication off") else {}
    live, http = await _start(aiohttp_server, tmp_path, provider, sandbox, **changed)
    attacker = RecordingConnector()
    attacker_url = str((await aiohttp_server(attacker.app())).make_url("")).rstrip("/")
    async with http:
        live.teams.signed = False
        before = await live.relationship("Contoso Ltd")
        forged = {"serviceUrl": attacker_url, "from": BOB.account()}
        said, _, _ = await live.teams.post(live.teams._activity(type="message", text="remove Contoso Ltd", **forged))
        approve_all, _, _ = await live.teams.post(
            live.teams._activity(
                type="invoke",
                name="adaptiveCard/action",
                **forged,
                value={"action": {"type": "Action.Execute", "verb": "approve_all", "data": {"caseId": "guessed"}}},
            )
        )
        confirm, _, _ = await live.teams.post(
            live.teams._activity(
                type="invoke",
                name="adaptiveCard/action",
                **forged,
                value={"action": {"type": "Action.Execute", "verb": "confirm_removal", "data": {"caseId": "guessed"}}},
            )
        )
        assert (said, approve_all, confirm) == (401, 401, 401)
        assert before is Relationship.RESELLER and await live.relationship("Contoso Ltd") is Relationship.RESELLER
        assert attacker.calls == [] and await live.writes() == []
        assert await live.app[STORE].list_keys("cases/") == []


async def test_an_authenticated_activity_naming_a_service_url_not_allowed_is_refused(live: Live, aiohttp_server: Any) -> None:
    elsewhere = RecordingConnector()
    elsewhere_url = str((await aiohttp_server(elsewhere.app())).make_url("")).rstrip("/")
    live.teams.user = ANN
    status, _, _ = await live.teams.post(live.teams._activity(type="message", text="help", serviceUrl=elsewhere_url))
    assert status == 403 and elsewhere.calls == []


async def test_a_proactive_send_to_a_service_url_not_allowed_never_leaves(live: Live, aiohttp_server: Any) -> None:
    """A stored reference (a case, an installation) naming another host: refused before the send."""
    elsewhere = RecordingConnector()
    elsewhere_url = str((await aiohttp_server(elsewhere.app())).make_url("")).rstrip("/")
    adapter = live.app[ADAPTER]
    reference = ConversationReference(
        channel_id="msteams",
        service_url=elsewhere_url,
        bot=ChannelAccount(id="28:offboard"),
        conversation=ConversationAccount(id="19:offboarding@thread.tacv2", tenant_id=TENANT),
    )

    async def send(turn_context: Any) -> None:
        await turn_context.send_activity("hello")

    with pytest.raises(ServiceUrlRefused):
        await adapter.continue_conversation(reference, send, APP_ID)
    assert elsewhere.calls == []


# ---- Who may do what ----


async def _open_case(live: Live, customer: str = "Contoso Ltd") -> tuple[str, dict[str, Any]]:
    assert await live.teams.say_as(ANN, f"remove {customer}") == 201
    return card_with(live.connector, "decide")


_GUEST_TEXT = "access.guest.text"


@pytest.mark.parametrize(
    ("user", "locale", "as_requester", "as_approver"),
    [
        (GUEST, "fr-FR", _GUEST_TEXT, _GUEST_TEXT),
        (EXTERNAL, "ru-RU", _GUEST_TEXT, _GUEST_TEXT),
        (DAVE, "en-US", "access.not_requester.text", "access.not_approver.text"),
        (CARL, "fr-FR", None, "access.not_approver.text"),
    ],
    ids=["guest", "external member", "non-requester", "non-approver"],
)
async def test_every_command_and_button_is_refused_to_who_may_not_use_it(
    live: Live, user: User, locale: str, as_requester: str | None, as_approver: str
) -> None:
    """``as_requester``/``as_approver``: what the person is told when a command or button needs
    that role (None: they have it)."""
    card_id, card = await _open_case(live)
    case_id = button_data(card, "decide", decision="approve")["caseId"]
    audit_before = len(await live.audit())
    refusals = 0

    def told(key: str) -> str:
        return cards.t(locale, key, person=user.name, customer="Contoso Ltd")

    # Typed commands: anyone in the tenant may read help and status; the rest needs a requester.
    commands = {
        "remove": "remove Tailspin Toys",
        "plan": "plan Tailspin Toys",
        "history": "history Contoso Ltd",
        "notify": "notify here",
        "cancel": "cancel",
        "status": "status",
        "help": "help",
    }
    for name, text in commands.items():
        needs = as_requester if name not in ("status", "help") else (_GUEST_TEXT if as_requester == _GUEST_TEXT else None)
        if needs is None and name in ("remove", "plan", "cancel"):
            continue  # allowed, and would change this test's case: the four-eyes test runs them
        sent = len(live.connector.calls)
        assert await live.teams.say_as(user, text, locale) == 201
        said = live.said_since(sent)
        if needs is None:
            assert said and not any(told(key) in s for s in said for key in (_GUEST_TEXT, "access.not_requester.text")), (name, said)
        else:
            refusals += 1
            assert said == [told(needs)], (name, said)

    # Buttons: the case's own, and forged ones with its id.
    clicks = {
        "decide approve": ("decide", button_data(card, "decide", decision="approve"), as_approver),
        "decide skip": ("decide", button_data(card, "decide", decision="skip"), as_approver),
        "approve all": ("approve_all", button_data(card, "approve_all"), as_approver),
        "confirm": ("confirm_removal", {"caseId": case_id}, as_approver),
        "cancel": ("cancel_case", {"caseId": case_id}, as_requester),
        "choose customer": ("choose_customer", {"customerId": "whatever"}, as_requester),
    }
    for name, (verb, data, needs) in clicks.items():
        if needs is None:
            continue  # allowed (a requester may cancel a case nothing was done for yet)
        status, body = await live.teams.click_as(user, card_id, verb, data, locale)
        refusals += 1
        assert status == 200, (name, status, body)
        assert told(needs) in card_text(body["value"]), (name, body)

    case = await live.store.get(case_id)
    assert case is not None and case.state is CaseState.AWAITING_APPROVAL
    assert all(item.decision is Decision.PENDING for item in case.to_decide)
    assert await live.writes() == []
    audited = [r for r in (await live.audit())[audit_before:] if r["action"].startswith("refused.")]
    assert len(audited) == refusals and all(r["result"] == "refused" and user.name in r["actor"] for r in audited)


async def test_four_eyes_is_on_by_default_for_what_cannot_be_undone_and_for_the_removal(live: Live) -> None:
    card_id, card = await _open_case(live)
    case_id = button_data(card, "decide", decision="approve")["caseId"]
    case = await live.store.get(case_id)
    irreversible = [item for item in case.to_decide if item.irreversible]
    reversible = [item for item in case.to_decide if not item.irreversible]
    assert irreversible and reversible, "Contoso Ltd has both kinds"

    # The requester (an approver) cannot approve an irreversible item...
    _, body = await live.teams.click_as(ANN, card_id, "decide", {"caseId": case_id, "itemKey": irreversible[0].key, "decision": "approve"})
    assert cards.t("en-US", "access.four_eyes_item.text", person=ANN.name) in card_text(body["value"])
    # ...and "approve all" approves only what can be undone, leaving the rest to a second approver.
    await live.teams.click_as(ANN, card_id, "approve_all", {"caseId": case_id})
    case = await live.store.get(case_id)
    assert {i.key for i in case.to_decide if i.decision is Decision.APPROVED} == {i.key for i in reversible}
    assert {i.key for i in case.to_decide if i.decision is Decision.PENDING} == {i.key for i in irreversible}
    assert case.state is CaseState.AWAITING_APPROVAL and await live.writes() == []
    # A second approver approves the rest: the work runs.
    await live.teams.click_as(BOB, card_id, "approve_all", {"caseId": case_id})
    await _until(live, case_id, CaseState.READY)

    final_id, final = card_with(live.connector, "confirm_removal")
    # Once Partner Center has changed, only the requester or an approver may stop the case.
    sent = len(live.connector.calls)
    await live.teams.say_as(CARL, "cancel")
    assert live.said_since(sent) == [cards.t("en-US", "access.not_canceller.text", person=CARL.name, customer="Contoso Ltd")]
    # The requester cannot give the final confirmation; the second approver can.
    _status, body = await live.teams.click_as(ANN, final_id, "confirm_removal", button_data(final, "confirm_removal"))
    assert cards.t("en-US", "access.four_eyes.text", person=ANN.name) in card_text(body["value"])
    assert await live.relationship("Contoso Ltd") is Relationship.RESELLER
    await live.teams.click_as(BOB, final_id, "confirm_removal", button_data(final, "confirm_removal"))
    await _until(live, case_id, CaseState.REMOVED)
    assert await live.relationship("Contoso Ltd") is Relationship.NONE
    actions = [r["action"] for r in await live.audit()]
    assert actions.count("refused.four_eyes") == 2 and actions.count("refused.not_canceller") == 1


async def test_a_protected_customer_is_never_planned(
    aiohttp_server: Any, tmp_path: Path, provider: OpenIdProvider, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: REPLY_TOKEN)
    async with aiohttp.ClientSession() as http:
        contoso = await sandbox_customer_id(http, sandbox, "Contoso Ltd")
    live, http = await _start(aiohttp_server, tmp_path, provider, sandbox, protected_customers=[contoso])
    async with http:
        for command in ("plan Contoso Ltd", "remove Contoso Ltd"):
            sent = len(live.connector.calls)
            assert await live.teams.say_as(ANN, command) == 201
            assert any(cards.t("en-US", "access.protected.text", customer=contoso) in text for text in live.said_since(sent))
        assert await live.app[STORE].list_keys("cases/") == [] and await live.writes() == []
        refused = [r for r in await live.audit() if r["action"] == "refused.protected_customer"]
        assert len(refused) == 2 and all(r["customer_id"] == contoso for r in refused)


async def test_health_says_degraded_without_partner_centers_words(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    await operator(live.teams.http, live.sandbox, "outage", {"on": True, "mode": "503"})
    async with live.teams.http.get(f"{live.teams.bot_url}/healthz") as response:
        text = await response.text()
    # Degraded, yet ready: Partner Center's outage is every replica's, and out of ingress they
    # would refuse Teams' messages and the webhooks too; this replica's storage answers.
    assert response.status == 200
    assert await response.json() == {
        "ready": True,
        "status": "degraded",
        # The token was redeemed at start-up, before the outage; Partner Center's outage leaves Entra ID answering.
        "checks": {"storage": "ok", "partnerCenter": "degraded", "partnerCenterToken": "ok"},
    }, text
    assert "health check: Partner Center unreachable" in caplog.text  # the detail is in the log


async def _until(live: Live, case_id: str, state: CaseState, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await live.app[BACKGROUND].drain()
        case = await live.store.get(case_id)
        if case is not None and case.state is state:
            return
        await asyncio.sleep(0.05)
    case = await live.store.get(case_id)
    raise AssertionError(f"case {case_id} is {case.state if case else None}, not {state}")


async def test_an_installation_from_another_tenant_writes_nothing(live: Live) -> None:
    foreign = {"tenantId": OTHER_TENANT, "id": "a:foreign-chat", "conversationType": "personal"}
    status, _, _ = await live.teams.post(
        live.teams._activity(
            type="installationUpdate",
            action="add",
            conversation=foreign,
            channelData={"tenant": {"id": OTHER_TENANT}},
        )
    )
    assert status == 201 and live.connector.calls == []
    assert await live.app[STORE].list_keys("installations") == []
    assert [r["action"] for r in await live.audit()] == ["refused.tenant"]


async def test_a_request_without_a_token_is_refused_unread_and_a_nested_body_is_not_a_500(live: Live) -> None:
    nested = b'{"type": "message", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    url, json_type = f"{live.teams.bot_url}/api/messages", {"Content-Type": "application/json"}
    async with live.teams.http.post(url, data=nested, headers=json_type) as response:
        assert response.status == 401  # no token: refused before the body is read
    garbage = {**json_type, "Authorization": "Bearer garbage"}
    async with live.teams.http.post(url, data=nested, headers=garbage) as response:
        assert response.status == 400  # a token of some sort: read, and refused as no activity
    async with live.teams.http.post(url, data=b"{" + b" " * (300 * 1024) + b"}", headers=garbage) as response:
        assert response.status == 413  # Teams' activities are a few KiB; 256 KiB at most
    assert live.connector.calls == [] and await sandbox_requests(live.teams.http, live.sandbox) == []


async def test_only_the_person_who_asked_chooses_the_customer_and_only_among_those_offered(live: Live) -> None:
    """Under four-eyes the requester is who typed the command: a second approver picking the
    customer would make the case theirs to approve alone."""
    assert await live.teams.say_as(ANN, "remove Contoso") == 201  # Contoso Ltd, Contoso Pharma: a choice
    choice_id, choice = card_with(live.connector, "choose_customer")
    offered = button_data(choice, "choose_customer")
    status, body = await live.teams.click_as(BOB, choice_id, "choose_customer", offered)
    assert status == 200
    assert cards.t("en-US", "access.not_the_requester.text", person=BOB.name, requester=ANN.name) in card_text(body["value"])
    # A customer that was not offered is not taken, even from the person who asked.
    forged = {**offered, "customerId": await sandbox_customer_id(live.teams.http, live.sandbox, "Tailspin Toys")}
    await live.teams.click_as(ANN, choice_id, "choose_customer", forged)
    assert await live.app[STORE].list_keys("cases/") == []
    # The person who asked chooses: the case is theirs.
    await live.teams.click_as(ANN, choice_id, "choose_customer", offered)
    [case] = [c for c in [await live.store.get(k.split("/", 1)[1]) for k in await live.app[STORE].list_keys("cases/")] if c]
    assert case.requested_by.aad_object_id == ANN.aad and case.customer.id == offered["customerId"]
    assert [r["action"] for r in await live.audit()].count("refused.not_the_requester") == 1
