"""Partner Center callbacks over HTTP: a replayed event is acted on once (and audited once), a
stale one not at all; forged callbacks cannot make the bot fetch a certificate URL more than once.
Also audited: verified events, `notify here`, and the notification API's calls, accepted or not."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509

from app import BACKGROUND, STORE, create_app
from bench.connector import RecordingConnector
from bot.events_api import SeenEvents
from bot.notify_api import _RefusalBudget, notifications_handler, signed_headers
from bot.settings import Settings
from partner_center.webhooks import CertificateCache, InvalidCallback, PartnerCenterEvent
from removal.audit import AuditTrail
from storage import SqliteStore
from tests.bot.teams import CHANNEL_THREAD, Teams
from tests.bot.webhook_pki import Credentials
from tests.dialogs.harness import card_text

CHANNEL = CHANNEL_THREAD.split(";", 1)[0]
TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
SECRET = "a-shared-secret-for-tests-only"
TAILSPIN = "3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f06"  # a sandbox customer
FORGED_SIGNATURE = "Signature " + base64.b64encode(b"\x00" * 256).decode()


@pytest.fixture(scope="module")
def pki() -> dict[str, Credentials]:
    ca = Credentials("Microsoft Corporation", common_name="Test Root CA")  # the leaf's issuer names Microsoft
    return {"ca": ca, "microsoft": Credentials(ca=ca)}


class CertificateServer:
    """Partner Center's certificate URL, on loopback, counting what it is asked for."""

    def __init__(self, served: dict[str, bytes]) -> None:
        self.served = served
        self.fetches: list[str] = []

    def app(self) -> web.Application:
        async def certificate(request: web.Request) -> web.Response:
            self.fetches.append(request.path_qs)
            await asyncio.sleep(0.05)  # slow enough for callbacks arriving together to overlap
            if request.match_info["name"] not in self.served:
                raise web.HTTPNotFound()
            return web.Response(body=self.served[request.match_info["name"]])

        app = web.Application()
        app.router.add_get("/{name}", certificate)
        return app


@pytest.fixture
async def bot(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> AsyncIterator[tuple[Teams, Any, str, CertificateServer]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    certificates = CertificateServer({"microsoft.cer": pki["microsoft"].der()})
    certificate_server = await aiohttp_server(certificates.app())
    (tmp_path / "ca.pem").write_bytes(pki["ca"].pem())
    settings = Settings(
        _env_file=None,
        sandbox_port=0,
        storage="sqlite",
        sqlite_path=tmp_path / "offboard.db",
        notify_channels=[CHANNEL],
        notify_secret=SECRET,
        events_certificate_hosts=["127.0.0.1"],
        events_ca_file=tmp_path / "ca.pem",
    )
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        teams = Teams(http, str(server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
        yield teams, app, str(certificate_server.make_url("")).rstrip("/"), certificates


def _now(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def _relationship_back(changed: str) -> dict[str, str]:
    return {
        "EventName": "reseller-relationship-accepted-by-customer",
        "ResourceUri": f"https://api.partnercenter.microsoft.com/v1/customers/{TAILSPIN}",
        "ResourceName": "customer",
        "ResourceChangeUtcDate": changed,
    }


async def _send(teams: Teams, url: str, event: dict[str, Any], *, signer: Credentials | None) -> tuple[int, Any]:
    body = json.dumps(event).encode()
    headers = {
        "Authorization": f"Signature {signer.signature(body)}" if signer else FORGED_SIGNATURE,
        "x-ms-certificate-url": url,
        "x-ms-signature-algorithm": "rsa-sha256",
        "Content-Type": "application/json",
    }
    async with teams.http.post(f"{teams.bot_url}/api/partnercenter/events", data=body, headers=headers) as response:
        return response.status, await response.json()


def _announced(teams: Teams) -> list[str]:
    return [
        card_text(c.card) for c in teams.connector.sent if c.conversation_id == CHANNEL and c.card and "re-established" in card_text(c.card)
    ]


async def _audited(app: Any, action: str) -> list[dict[str, Any]]:
    return [record for _, record in await app[STORE].read_stream("audit") if record["action"] == action]


async def test_a_replayed_event_is_acted_on_and_audited_once(
    bot: tuple[Teams, Any, str, CertificateServer], pki: dict[str, Credentials]
) -> None:
    teams, app, certificates, _ = bot
    await teams.say("help")  # the bot is installed in the notification channel
    url = f"{certificates}/microsoft.cer"
    event = _relationship_back(_now(-timedelta(minutes=5)))
    first = await asyncio.gather(*(_send(teams, url, event, signer=pki["microsoft"]) for _ in range(3)))  # copies arriving together
    later = await _send(teams, url, event, signer=pki["microsoft"])
    await app[BACKGROUND].drain()
    assert [status for status, _ in (*first, later)] == [200] * 4
    assert (
        sorted(body.get("detail", "") for _, body in (*first, later))[1:]
        == ["not acted on: already received (changed " + event["ResourceChangeUtcDate"] + ")"] * 3
    )
    assert len(_announced(teams)) == 1
    [record] = await _audited(app, "partnercenter.event")
    assert record["actor"] == "Partner Center" and record["customer_id"] == TAILSPIN
    assert record["detail"].startswith("reseller-relationship-accepted-by-customer, changed ")
    assert record["extra"]["fingerprint"] == PartnerCenterEvent.model_validate(event).fingerprint

    # Another change of the same resource is another event.
    assert (await _send(teams, url, _relationship_back(_now()), signer=pki["microsoft"]))[0] == 200
    await app[BACKGROUND].drain()
    assert len(_announced(teams)) == 2 and len(await _audited(app, "partnercenter.event")) == 2


async def test_an_event_older_than_three_days_is_not_acted_on(
    bot: tuple[Teams, Any, str, CertificateServer], pki: dict[str, Credentials]
) -> None:
    """Its record of having been seen may be gone: a replay that late must not count as new."""
    teams, app, certificates, _ = bot
    await teams.say("help")
    status, body = await _send(
        teams, f"{certificates}/microsoft.cer", _relationship_back(_now(-timedelta(hours=73))), signer=pki["microsoft"]
    )
    await app[BACKGROUND].drain()
    assert status == 200 and "more than 72 hours ago" in body["detail"]
    assert not _announced(teams) and not await _audited(app, "partnercenter.event")


async def test_twenty_forged_callbacks_naming_one_certificate_url_fetch_it_once(bot: tuple[Teams, Any, str, CertificateServer]) -> None:
    teams, _, certificates, served = bot
    event = _relationship_back(_now())
    # The same URL, the query varied to dodge a cache keyed by the whole URL: one fetch, no query.
    answers = await asyncio.gather(*(_send(teams, f"{certificates}/microsoft.cer?n={n}", event, signer=None) for n in range(20)))
    assert [status for status, _ in answers] == [401] * 20
    assert served.fetches == ["/microsoft.cer"]
    # A URL that fails is remembered too.
    answers = await asyncio.gather(*(_send(teams, f"{certificates}/missing.cer?n={n}", event, signer=None) for n in range(20)))
    assert [status for status, _ in answers] == [401] * 20
    assert served.fetches == ["/microsoft.cer", "/missing.cer"]


async def test_certificate_failures_are_kept_a_minute_and_the_cache_is_bounded(pki: dict[str, Credentials]) -> None:
    now = [0.0]
    fetched: list[str] = []

    async def fetch(url: str) -> x509.Certificate:
        fetched.append(url)
        if "missing" in url:
            raise InvalidCallback("fetching the certificate answered 404")
        return pki["microsoft"].certificate

    cache = CertificateCache(fetch, size=2, clock=lambda: now[0])
    for _ in range(2):
        with pytest.raises(InvalidCallback, match="404"):
            await cache.get("https://host/missing.cer")
    now[0] = 61.0
    with pytest.raises(InvalidCallback):
        await cache.get("https://host/missing.cer")
    assert fetched == ["https://host/missing.cer"] * 2
    for name in ("a", "b", "a", "c", "a", "b"):  # two kept: "b" is the least recently used when "c" comes
        await cache.get(f"https://host/{name}.cer")
    assert fetched[2:] == ["https://host/a.cer", "https://host/b.cer", "https://host/c.cer", "https://host/b.cer"]


async def test_two_instances_claim_an_event_once_and_forget_it_after_three_days(tmp_path: Path) -> None:
    one, two = SqliteStore(tmp_path / "shared.db"), SqliteStore(tmp_path / "shared.db")
    try:
        event = PartnerCenterEvent.model_validate(_relationship_back("2026-12-01T10:00:00+00:00"))
        now = datetime(2026, 12, 1, 10, 1, tzinfo=UTC)
        claims = await asyncio.gather(*(SeenEvents(store).claim(event, now) for store in (one, two, one, two)))
        assert sum(claim is not None for claim in claims) == 1
        assert await SeenEvents(one).forget_expired(now + timedelta(hours=71)) == 0
        assert await SeenEvents(two).claim(event, now + timedelta(hours=71)) is None
        assert await SeenEvents(one).forget_expired(now + timedelta(hours=72, minutes=1)) == 1
        assert await one.list_keys("pcevents/") == []
    finally:
        await one.close()
        await two.close()


async def test_notify_here_is_audited(bot: tuple[Teams, Any, str, CertificateServer]) -> None:
    teams, app, _, _ = bot
    other = "19:approvers@thread.tacv2"
    here = teams.in_channel(other, "notify here")
    await teams.post(here)
    await teams.post({**here, "id": "again"})
    first, again = await _audited(app, "notify.subscribed")
    assert "Ann Admin" in first["actor"] and first["item"].endswith(f"/channel/{other}") and first["result"] == "ok"
    assert again["result"] == "unchanged" and again["item"] == first["item"]


async def test_notification_api_calls_are_audited_accepted_or_refused(bot: tuple[Teams, Any, str, CertificateServer]) -> None:
    teams, app, _, _ = bot
    await teams.say("help")
    body = json.dumps({"title": "=Ticket 4711", "url": "https://tickets.example.com/4711"}).encode()
    async with teams.http.post(f"{teams.bot_url}/api/notifications", data=body, headers=signed_headers("wrong", body)) as response:
        assert response.status == 401
    async with teams.http.post(f"{teams.bot_url}/api/notifications", data=body, headers=signed_headers(SECRET, body)) as response:
        assert response.status == 202
    [refused] = await _audited(app, "refused.notify_api")
    assert (
        refused["result"] == "refused"
        and refused["extra"] == {"status": 401}
        and refused["detail"] == "bad or missing X-Offboard-Signature"
    )
    assert refused["actor"] == "notification API caller 127.0.0.1"
    [accepted] = await _audited(app, "notify.api")
    assert accepted["detail"] == "=Ticket 4711" and accepted["item"] == "https://tickets.example.com/4711"


async def test_a_notification_that_cannot_be_audited_is_not_sent_and_may_be_sent_again(aiohttp_server: Any, tmp_path: Path) -> None:
    database = tmp_path / "audit.db"
    store = SqliteStore(database)
    delivered: list[dict[str, Any]] = []

    async def deliver(card: dict[str, Any]) -> int:
        delivered.append(card)
        return 1

    app = web.Application()
    app.router.add_post("/api/notifications", notifications_handler(SECRET, deliver, audit=AuditTrail(store)))
    server = await aiohttp_server(app)
    body = json.dumps({"title": "Ticket 4712"}).encode()
    headers = signed_headers(SECRET, body)
    with sqlite3.connect(database) as db:  # the audit trail's storage refusing writes, as a full disk would
        db.execute(
            "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, number INTEGER NOT NULL, record TEXT NOT NULL, UNIQUE (stream, number))"
        )
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(server.make_url("/api/notifications"), data=body, headers=headers) as response:
                assert response.status == 503 and not delivered
            with sqlite3.connect(database) as db:
                db.execute("DROP TRIGGER refuse")
            async with http.post(server.make_url("/api/notifications"), data=body, headers=headers) as response:
                assert response.status == 202 and len(delivered) == 1
        assert [record["action"] for _, record in await store.read_stream("audit")] == ["notify.api"]
    finally:
        await store.close()


def test_refusals_audited_are_bounded_and_the_rest_counted() -> None:
    budget = _RefusalBudget(limit=3, window=600.0)
    assert [budget.take(float(n)) for n in range(5)] == [0, 0, 0, None, None]
    assert budget.take(600.0) == 2  # a new window: the two not recorded go with the next one
    assert budget.take(601.0) == 0


def test_fingerprints_tell_events_apart() -> None:
    def fingerprint(name: str, uri: str, changed: str) -> str:
        return PartnerCenterEvent.model_validate({"EventName": name, "ResourceUri": uri, "ResourceChangeUtcDate": changed}).fingerprint

    assert fingerprint("a", "b", "c") == fingerprint("a", "b", "c")
    assert len({fingerprint("a", "b", "c"), fingerprint("a", "bc", ""), fingerprint("ab", "", "c"), fingerprint("a", "b", "d")}) == 4
