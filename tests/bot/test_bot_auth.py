"""Who may talk to the bot: Bot Framework tokens on ``/api/messages`` (signed here with a local key,
its OpenID metadata served on loopback), HMAC signatures on ``/api/notifications``, Partner Center
signatures on ``/api/partnercenter/events``. A refused request gets 401 (413 when too large, never
500) and leaves no trace: no reply, no Partner Center request, nothing stored.

Replies need a token from Entra ID (login.microsoftonline.com, unreachable here): the tests put a
fixed one in its place (``MicrosoftAppCredentials.get_access_token``) and check that the connector
received every reply with it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botframework.connector.auth import MicrosoftAppCredentials

from app import BACKGROUND, SANDBOX, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bench.ports import free_port
from bot import signing_keys
from bot.notify_api import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from bot.settings import Settings
from bot.token_health import TOKEN_HEALTH
from tests._helpers import sandbox_requests
from tests._openid import OpenIdProvider, SigningKey, hs256_token
from tests.bot.teams import CHANNEL_THREAD, Teams, card_with
from tests.bot.webhook_pki import Credentials, serve_certificates
from tests.dialogs.harness import card_text

APP_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
APP_PASSWORD = "bot-password-for-tests"
REPLY_TOKEN = "token-from-entra-for-the-replies"
SECRET = "notify-secret-for-tests"
CHANNEL = CHANNEL_THREAD.split(";", 1)[0]


class SignedTeams(Teams):
    """Teams, sending ``authorization`` as the Authorization header (none when it is None)."""

    authorization: str | None = None

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any, float]:
        started = time.perf_counter()
        headers = {} if self.authorization is None else {"Authorization": self.authorization}
        async with self.http.post(f"{self.bot_url}/api/messages", json=activity, headers=headers) as response:
            text = await response.text()
            return response.status, text, time.perf_counter() - started

    def mention(self, text: str, **fields: Any) -> dict[str, Any]:
        """``@Offboard text`` in the channel thread (any field replaced)."""
        return self._activity(
            **{
                "type": "message",
                "text": f"<at>Offboard</at> {text}",
                "entities": [{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": "<at>Offboard</at>"}],
                **fields,
            }
        )


@dataclass
class Bot:
    teams: SignedTeams
    app: web.Application
    provider: OpenIdProvider
    connector_requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Authorization

    def token(self, **options: Any) -> str:
        return self.provider.token(audience=APP_ID, service_url=self.teams.connector_url, **options)

    async def footprint(self) -> tuple[Any, ...]:
        """What a processed turn leaves: Partner Center requests, stored documents, audit events."""
        store = self.app[STORE]
        return (
            await sandbox_requests(self.teams.http, self.app[SANDBOX]),
            await store.list_keys(""),
            await store.read_stream("audit"),
        )


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    with OpenIdProvider([SigningKey("teams-key", ("msteams", "webchat")), SigningKey("webchat-key", ("webchat",))]) as running:
        yield running


async def _start(aiohttp_server: Any, settings: Settings, provider: OpenIdProvider) -> Bot:
    connector = RecordingConnector()
    connector_app = connector.app()
    seen: list[tuple[str, str, str | None]] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append((request.method, request.path, request.headers.get("Authorization")))
        return await handler(request)

    connector_app.middlewares.append(record)
    connector_server = await aiohttp_server(connector_app)
    app = create_app(settings)
    bot_server = await aiohttp_server(app)
    http = aiohttp.ClientSession()
    teams = SignedTeams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
    # The start-up token-health check (a redemption, its notice in the store) is the bot's own
    # doing, not a request's: done before any test measures what a request leaves behind.
    await app[TOKEN_HEALTH].current()
    return Bot(teams, app, provider, seen)


@pytest.fixture
async def bot(aiohttp_server: Any, tmp_path: Path, provider: OpenIdProvider, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: REPLY_TOKEN)
    settings = Settings(
        _env_file=None,
        sandbox_port=0,
        storage="sqlite",
        sqlite_path=tmp_path / "offboard.db",
        app_id=APP_ID,
        sandbox=True,
        app_password=APP_PASSWORD,
        bot_openid_metadata_url=provider.metadata_url,
    )
    started = await _start(aiohttp_server, settings, provider)
    async with started.teams.http:
        yield started


def _bearer(token: str) -> str:
    return f"Bearer {token}"


# ---- /api/messages ----


@pytest.mark.parametrize("expired_seconds_ago", [None, 120], ids=["fresh", "expired 2 min ago (5 min clock skew)"])
async def test_a_valid_token_is_processed_and_replies_carry_the_bots_token(bot: Bot, expired_seconds_ago: int | None) -> None:
    lifetime = 3600 if expired_seconds_ago is None else -expired_seconds_ago
    bot.teams.authorization = _bearer(bot.token(lifetime=lifetime))
    assert await bot.teams.say("remove Wingtip Toys") == 201
    plan = [c.card for c in bot.teams.connector.sent if c.card]
    assert plan and "Wingtip Toys" in card_text(plan[0])
    assert bot.connector_requests and {auth for _, _, auth in bot.connector_requests} == {_bearer(REPLY_TOKEN)}
    requests, documents, audit = await bot.footprint()
    assert requests and documents and audit
    # An Action.Execute click, signed the same way, is answered with the next card.
    card_id, card = card_with(bot.teams.connector, "decide")
    status, body, _ = await bot.teams.click(card_id, "decide", button_data(card, "decide", decision="approve"))
    assert status == 200 and json.loads(body)["statusCode"] == 200


def _no_kid(bot: Bot) -> str:
    return _bearer(bot.token(headers={"kid": None}))


def _hs256_with_the_public_key(bot: Bot) -> str:
    claims = json.loads(base64.urlsafe_b64decode(bot.token().split(".")[1] + "=="))
    return _bearer(hs256_token(bot.provider.key("teams-key").public_pem(), claims, kid="teams-key"))


@dataclass(frozen=True)
class Refusal:
    """A request botbuilder must refuse: its Authorization header (None: no header), the reason
    it is refused for (in the logged message: each case fails the check it is meant to), and the
    activity's fields that differ."""

    authorization: Callable[[Bot], str | None]
    reason: str
    fields: dict[str, Any] = field(default_factory=dict)


_REFUSED = {
    # No bearer token at all: refused before the body is read (bot/http.py), not by botbuilder.
    "no Authorization header": Refusal(lambda b: None, "without a bearer token (body not read)"),
    "Bearer garbage": Refusal(lambda b: "Bearer garbage", "DecodeError"),
    "Bearer without a token": Refusal(lambda b: "Bearer", "without a bearer token (body not read)"),
    "Bearer, token, and more": Refusal(lambda b: f"{_bearer(b.token())} more", "AttributeError"),
    "not a bearer scheme": Refusal(
        lambda b: "Basic " + base64.b64encode(b"offboard:password").decode(), "without a bearer token (body not read)"
    ),
    "expired": Refusal(lambda b: _bearer(b.token(lifetime=-600)), "Signature has expired"),
    "not yet valid": Refusal(lambda b: _bearer(b.token(not_before=time.time() + 600)), "not yet valid"),
    "another bot's audience": Refusal(
        lambda b: _bearer(b.token(claims={"aud": "another-bot"})), "Invalid AppId passed on token: another-bot"
    ),
    "another issuer": Refusal(lambda b: _bearer(b.token(claims={"iss": "https://evil.example.com"})), "Identity missing"),
    "no issuer": Refusal(lambda b: _bearer(b.token(claims={"iss": None})), "KeyError: 'iss'"),
    "another serviceurl": Refusal(
        lambda b: _bearer(b.token(claims={"serviceurl": "https://evil.example.com/"})), "Invalid 'serviceurl' claim"
    ),
    "no serviceurl": Refusal(lambda b: _bearer(b.token(claims={"serviceurl": None})), "'serviceurl' claim missing"),
    "signed by another key, same kid": Refusal(lambda b: _bearer(b.token(key=SigningKey("teams-key"))), "Signature verification failed"),
    "unknown kid": Refusal(lambda b: _bearer(b.token(key=SigningKey("unpublished-key"))), "unknown signing key 'unpublished-key'"),
    "no kid": Refusal(lambda b: _no_kid(b), "names no signing key"),
    "alg none": Refusal(lambda b: _bearer(b.token(algorithm="none")), "algorithm not in allowed list"),
    "HS256 keyed with the public key": Refusal(lambda b: _hs256_with_the_public_key(b), "algorithm not in allowed list"),
    "key not endorsed for msteams": Refusal(
        lambda b: _bearer(b.token(key=b.provider.key("webchat-key"))), "Could not validate endorsement key"
    ),
    "channel the key is not endorsed for": Refusal(
        lambda b: _bearer(b.token()), "Could not validate endorsement key", {"channelId": "skype"}
    ),
}


@pytest.mark.parametrize("case", list(_REFUSED))
async def test_a_request_without_a_valid_token_is_refused_and_leaves_no_trace(
    bot: Bot, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = _REFUSED[case]
    before = await bot.footprint()
    bot.teams.authorization = refusal.authorization(bot)
    status, body, _ = await bot.teams.post(bot.teams.mention("remove Wingtip Toys", **refusal.fields))
    await bot.app[BACKGROUND].drain()
    assert status == 401, body
    assert "Traceback" not in body
    assert [r.getMessage() for r in caplog.records if "refused an activity" in r.getMessage() and refusal.reason in r.getMessage()], (
        caplog.text
    )
    assert bot.connector_requests == [], "nothing is sent for a refused request"
    assert await bot.footprint() == before


async def test_signing_keys_that_cannot_be_fetched_are_a_503_not_a_401(aiohttp_server: Any, provider: OpenIdProvider) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/v1/.well-known/openidconfiguration"
    settings = Settings(
        _env_file=None,
        sandbox_port=0,
        storage="memory",
        app_id=APP_ID,
        sandbox=True,
        app_password=APP_PASSWORD,
        bot_openid_metadata_url=unreachable,
    )
    bot = await _start(aiohttp_server, settings, provider)
    async with bot.teams.http:
        before = await bot.footprint()
        bot.teams.authorization = _bearer(bot.token())
        status, _, _ = await bot.teams.post(bot.teams.mention("remove Wingtip Toys"))
        assert status == 503  # Teams retries
        assert bot.connector_requests == [] and await bot.footprint() == before


async def test_a_key_microsoft_starts_signing_with_after_the_bots_last_fetch_is_accepted(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key rollover: botbuilder 4.17.1 refused such tokens until its daily refresh (a deaf bot)."""
    monkeypatch.setattr(signing_keys, "UNKNOWN_KEY_INTERVAL_SECONDS", 1.0)
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: REPLY_TOKEN)
    with OpenIdProvider([SigningKey("teams-key")]) as own_provider:
        settings = Settings(
            _env_file=None,
            sandbox_port=0,
            storage="memory",
            app_id=APP_ID,
            sandbox=True,
            app_password=APP_PASSWORD,
            bot_openid_metadata_url=own_provider.metadata_url,
        )
        bot = await _start(aiohttp_server, settings, own_provider)
        async with bot.teams.http:
            bot.teams.authorization = _bearer(bot.token())
            assert await bot.teams.say("help") == 201
            # Later (here 1 s; in production a token naming an unknown key fetches at most every
            # five minutes: tests/bot/test_signing_keys.py), Microsoft signs with a new key.
            await asyncio.sleep(1.1)
            own_provider.keys.append(SigningKey("rolled-key"))
            bot.teams.authorization = _bearer(bot.token(key=own_provider.key("rolled-key")))
            assert await bot.teams.say("help") == 201
            assert len(bot.teams.connector.sent) == 2
            assert sum(path.endswith("openidconfiguration") for path in own_provider.fetches) == 2


async def test_a_hanging_key_host_is_a_503_after_the_timeout_and_stalls_nothing_else(
    aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botbuilder 4.17.1 fetched the keys with a blocking ``requests.get`` without a timeout, in
    the event loop: one hanging host stopped every conversation of the bot."""
    monkeypatch.setattr(signing_keys, "FETCH_TIMEOUT_SECONDS", 1.5)
    with OpenIdProvider() as hanging:
        hanging.stall_seconds = 4
        settings = Settings(
            _env_file=None,
            sandbox_port=0,
            storage="memory",
            app_id=APP_ID,
            sandbox=True,
            app_password=APP_PASSWORD,
            bot_openid_metadata_url=hanging.metadata_url,
        )
        bot = await _start(aiohttp_server, settings, hanging)
        async with bot.teams.http:
            bot.teams.authorization = _bearer(bot.token())
            waiting = asyncio.create_task(bot.teams.post(bot.teams.mention("remove Wingtip Toys")))
            await asyncio.sleep(0.3)
            assert not waiting.done() and hanging.fetches, "the key fetch is under way"
            started = time.perf_counter()
            async with bot.teams.http.get(f"{bot.teams.bot_url}/healthz") as health:
                assert health.status == 200
            assert time.perf_counter() - started < 0.5, "the bot answers other requests meanwhile"
            status, _, took = await waiting
            assert status == 503 and took < 5
            assert bot.connector_requests == []


async def test_without_an_app_id_the_metadata_setting_keeps_anonymous_local_use(aiohttp_server: Any, provider: OpenIdProvider) -> None:
    settings = Settings(_env_file=None, sandbox_port=0, storage="memory", bot_openid_metadata_url=provider.metadata_url)
    bot = await _start(aiohttp_server, settings, provider)
    async with bot.teams.http:
        assert await bot.teams.say("help") == 201
        assert bot.teams.connector.sent and {auth for _, _, auth in bot.connector_requests} == {None}


async def test_a_huge_activity_is_refused_before_anything_else(bot: Bot) -> None:
    huge = json.dumps(bot.teams.mention("remove " + "x" * (2 * 1024 * 1024))).encode()
    headers = {"Authorization": _bearer(bot.token()), "Content-Type": "application/json"}
    async with bot.teams.http.post(f"{bot.teams.bot_url}/api/messages", data=io.BytesIO(huge), headers=headers) as response:
        assert response.status == 413
    assert bot.connector_requests == []


# ---- /api/notifications and /api/partnercenter/events ----


@pytest.fixture(scope="module")
def pki() -> dict[str, Credentials]:
    ca = Credentials("Microsoft Corporation", common_name="Test Root CA")  # the leaf's issuer names Microsoft
    return {"ca": ca, "microsoft": Credentials(ca=ca)}


@dataclass
class Endpoints:
    teams: Teams
    app: web.Application
    certificates: str  # base URL of the certificate server


@pytest.fixture
async def endpoints(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> AsyncIterator[Endpoints]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    served = {"microsoft.cer": pki["microsoft"].der(), "garbage.cer": b"not a certificate"}
    certificates, ca_file = await serve_certificates(aiohttp_server, served, ca=pki["ca"], folder=tmp_path)
    settings = Settings(
        _env_file=None,
        sandbox_port=0,
        notify_channels=[CHANNEL],
        notify_secret=SECRET,
        events_certificate_hosts=["127.0.0.1"],
        events_ca_file=ca_file,
    )
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        teams = Teams(http, str(server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
        await teams.say("help")  # installed in the channel: notifications have somewhere to go
        yield Endpoints(teams, app, certificates)


async def _in_pieces(body: bytes) -> AsyncIterator[bytes]:
    """The body in two pieces a moment apart (chunked), as a slow network delivers it."""
    yield body[:10]
    await asyncio.sleep(0.1)
    yield body[10:]


_TICKET = json.dumps({"title": "Ticket 4711: offboard Contoso"}).encode()


def _arabic_indic(digits: str) -> str:
    return "".join(chr(0x0660 + int(d)) for d in digits)


# Each: the headers sent with the ticket (a fresh timestamp unless the case sets one), the body.
_REFUSED_NOTIFICATIONS: dict[str, Callable[[], tuple[dict[str, str], bytes]]] = {
    "no signature headers": lambda: ({"Content-Type": "application/json"}, _TICKET),
    "signed with another secret": lambda: (signed_headers("another-secret", _TICKET), _TICKET),
    "replayed an hour later": lambda: (signed_headers(SECRET, _TICKET, timestamp=str(int(time.time()) - 3600)), _TICKET),
    "timestamp an hour ahead": lambda: (signed_headers(SECRET, _TICKET, timestamp=str(int(time.time()) + 3600)), _TICKET),
    "timestamp of 5000 digits": lambda: (signed_headers(SECRET, _TICKET, timestamp="9" * 5000), _TICKET),
    "timestamp in superscript digits": lambda: ({**signed_headers(SECRET, _TICKET), TIMESTAMP_HEADER: "¹⁷⁰⁰⁰⁰⁰⁰⁰⁰"}, _TICKET),
    "timestamp in Arabic-Indic digits": lambda: (
        {**signed_headers(SECRET, _TICKET), TIMESTAMP_HEADER: _arabic_indic(str(int(time.time())))},
        _TICKET,
    ),
    "signature not hex, not ASCII": lambda: ({**signed_headers(SECRET, _TICKET), SIGNATURE_HEADER: "sha256=é"}, _TICKET),
    "signature scheme only": lambda: ({**signed_headers(SECRET, _TICKET), SIGNATURE_HEADER: "sha256="}, _TICKET),
}


@pytest.mark.parametrize("case", list(_REFUSED_NOTIFICATIONS))
async def test_a_notification_without_a_valid_signature_is_refused(endpoints: Endpoints, case: str) -> None:
    headers, body = _REFUSED_NOTIFICATIONS[case]()
    before = len(endpoints.teams.connector.sent)
    async with endpoints.teams.http.post(f"{endpoints.teams.bot_url}/api/notifications", data=body, headers=headers) as response:
        assert response.status == 401, await response.text()
        assert (await response.json())["status"] == 401
    assert len(endpoints.teams.connector.sent) == before


async def test_a_huge_notification_is_refused_unread(endpoints: Endpoints) -> None:
    huge = json.dumps({"title": "x", "text": "y" * 70_000}).encode()
    for headers in (signed_headers(SECRET, huge), {"Content-Type": "application/json"}):
        async with endpoints.teams.http.post(f"{endpoints.teams.bot_url}/api/notifications", data=huge, headers=headers) as response:
            assert response.status == 413
        # Chunked, so no Content-Length to refuse it by: the read stops at the limit.
        async with endpoints.teams.http.post(
            f"{endpoints.teams.bot_url}/api/notifications", data=_in_pieces(huge), headers=headers
        ) as response:
            assert response.status == 413


async def test_a_signed_notification_that_arrives_in_pieces_is_read_whole(endpoints: Endpoints) -> None:
    before = len(endpoints.teams.connector.sent)
    async with endpoints.teams.http.post(
        f"{endpoints.teams.bot_url}/api/notifications", data=_in_pieces(_TICKET), headers=signed_headers(SECRET, _TICKET)
    ) as response:
        assert response.status == 202, await response.text()
    assert len(endpoints.teams.connector.sent) == before + 1


_EVENT = json.dumps(
    {
        "EventName": "reseller-relationship-accepted-by-customer",
        "ResourceUri": "https://api.partnercenter.microsoft.com/v1/customers/3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f06",
        "ResourceName": "customer",
    }
).encode()


def _callback_headers(endpoints: Endpoints, pki: dict[str, Credentials], **replaced: str | None) -> dict[str, str]:
    headers = {
        "Authorization": f"Signature {pki['microsoft'].signature(_EVENT)}",
        "x-ms-certificate-url": f"{endpoints.certificates}/microsoft.cer",
        "x-ms-signature-algorithm": "rsa-sha256",
        "Content-Type": "application/json",
    }
    for name, value in replaced.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    return headers


# Each: the headers to replace (None: leave the header out), given the certificate server's URL.
_REFUSED_CALLBACKS: dict[str, Callable[[str], dict[str, str | None]]] = {
    "no signature": lambda _: {"Authorization": None},
    "signature not base64": lambda _: {"Authorization": "Signature not*base64!"},
    "Signature scheme only": lambda _: {"Authorization": "Signature "},
    "a bearer token instead": lambda _: {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."},
    "no certificate URL": lambda _: {"x-ms-certificate-url": None},
    "certificate URL that cannot be parsed": lambda _: {"x-ms-certificate-url": "http://[127.0.0.1/microsoft.cer"},
    "certificate URL answering 404": lambda base: {"x-ms-certificate-url": f"{base}/missing.cer"},
    "certificate URL nobody answers": lambda _: {"x-ms-certificate-url": f"http://127.0.0.1:{free_port()}/microsoft.cer"},
    "not a certificate": lambda base: {"x-ms-certificate-url": f"{base}/garbage.cer"},
}


@pytest.mark.parametrize("case", list(_REFUSED_CALLBACKS))
async def test_a_partner_center_callback_without_a_valid_signature_is_refused(
    endpoints: Endpoints, pki: dict[str, Credentials], case: str
) -> None:
    headers = _callback_headers(endpoints, pki, **_REFUSED_CALLBACKS[case](endpoints.certificates))
    async with endpoints.teams.http.post(f"{endpoints.teams.bot_url}/api/partnercenter/events", data=_EVENT, headers=headers) as response:
        assert response.status == 401, await response.text()
    await endpoints.app[BACKGROUND].drain()
    assert not [c for c in endpoints.teams.connector.sent if c.conversation_id == CHANNEL], "nothing happens"


async def test_a_huge_callback_is_refused_unread(endpoints: Endpoints, pki: dict[str, Credentials]) -> None:
    huge = _EVENT[:-1] + b', "Padding": "' + b"x" * 70_000 + b'"}'
    headers = {**_callback_headers(endpoints, pki), "Authorization": f"Signature {pki['microsoft'].signature(huge)}"}
    for data in (huge, _in_pieces(huge)):
        async with endpoints.teams.http.post(f"{endpoints.teams.bot_url}/api/partnercenter/events", data=data, headers=headers) as response:
            assert response.status == 413


async def test_a_genuine_callback_that_arrives_in_pieces_is_read_whole(endpoints: Endpoints, pki: dict[str, Credentials]) -> None:
    headers = _callback_headers(endpoints, pki)
    async with endpoints.teams.http.post(
        f"{endpoints.teams.bot_url}/api/partnercenter/events", data=_in_pieces(_EVENT), headers=headers
    ) as response:
        assert response.status == 200, await response.text()
    await endpoints.app[BACKGROUND].drain()
    [thread] = [c for c in endpoints.teams.connector.sent if c.conversation_id == CHANNEL]
    assert "Relationship re-established" in card_text(thread.card)
