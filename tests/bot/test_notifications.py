"""Notifications over real HTTP: channel threads and 1:1 chats on a recording connector, pruning,
pacing, the notification API, Partner Center webhooks, and waiting cases under the sandbox clock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app import BACKGROUND, SANDBOX, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bot.notify_api import _UsedSignatures, signed_headers
from bot.settings import Settings
from tests.bot.teams import CHANNEL_THREAD, Teams, approve_all, card_with, eventually, skip_the_access_teardown
from tests.bot.webhook_pki import Credentials, serve_certificates
from tests.cards.markdown import EVIL_NAME, as_read, live_bold, live_link, markdown_texts
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

CHANNEL = CHANNEL_THREAD.split(";", 1)[0]  # the channel the removal is asked in
TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
SECRET = "a-shared-secret-for-tests-only"


@pytest.fixture(scope="module")
def pki() -> dict[str, Credentials]:
    # As Microsoft's: a root, Microsoft's issuing intermediate (O=Microsoft Corporation), the leaf it
    # issues. The impostor's leaf chains to the same root through another company's intermediate.
    ca = Credentials("Test Root CA")
    intermediate = Credentials("Microsoft Corporation", ca=ca, authority=True, common_name="Test Microsoft Issuing CA")
    contoso = Credentials("Contoso Ltd", ca=ca, authority=True, common_name="Contoso Issuing CA")
    return {
        "ca": ca,
        "intermediate": intermediate,
        "contoso": contoso,
        "microsoft": Credentials(ca=intermediate),
        "impostor": Credentials("Microsoft Corporation", ca=contoso),
        "self_signed": Credentials(),
    }


@pytest.fixture
async def bot(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> AsyncIterator[tuple[Teams, Any, str]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    served = {f"{name}.cer": credentials.der() for name, credentials in pki.items()}
    certificates, ca_file = await serve_certificates(
        aiohttp_server, served, ca=pki["ca"], folder=tmp_path, intermediates=[pki["intermediate"], pki["contoso"]]
    )
    settings = Settings(
        _env_file=None,
        sandbox_port=0,
        notify_channels=[CHANNEL],
        notify_secret=SECRET,
        recheck_interval_seconds=0.3,
        events_certificate_hosts=["127.0.0.1"],
        events_ca_file=ca_file,
    )
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        teams = Teams(http, str(server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
        yield teams, app, certificates
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)


def _threads(connector: RecordingConnector, conversation_id: str) -> list[Any]:
    """New posts in a channel (sent to the channel id itself, not to a thread)."""
    return [c for c in connector.sent if c.conversation_id == conversation_id]


async def _remove_fabrikam(teams: Teams, app: Any) -> None:
    await _ask_to_remove_fabrikam(teams, app)
    await _confirm_the_removal(teams, app)


async def _ask_to_remove_fabrikam(teams: Teams, app: Any) -> None:
    """Nothing blocks the removal; the access the partner still has (issue 19) is approved, to be
    torn down after it. The case is then ready, and that is announced ("can now be removed")."""
    await teams.say("remove Fabrikam Inc")
    await approve_all(teams)
    await app[BACKGROUND].drain()


async def _confirm_the_removal(teams: Teams, app: Any) -> None:
    final_id, final = card_with(teams.connector, "confirm_removal")
    status, _, _ = await teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
    assert status == 200
    await app[BACKGROUND].drain()


async def test_a_completed_removal_is_announced_in_the_channel_and_to_the_requester(bot: tuple[Teams, Any, str]) -> None:
    teams, app, _ = bot
    await _remove_fabrikam(teams, app)
    # Two announcements: the case ready once its access teardown (issue 19) was approved, then the removal.
    ready, thread = _threads(teams.connector, CHANNEL)
    assert "Fabrikam Inc can now be removed" in card_text(ready.card)
    assert "Fabrikam Inc" in card_text(thread.card) and "removed" in card_text(thread.card)
    # The requester is @mentioned in the thread, and gets a 1:1 chat (each announcement in the same one).
    assert "<at>Ann Admin</at>" in thread.body["text"]
    assert thread.body["entities"][0]["mentioned"]["id"] == "29:ann"
    created_calls = [c for c in teams.connector.calls if c.method == "create"]
    assert len(created_calls) == 2 and len({c.conversation_id for c in created_calls}) == 1, created_calls
    for created in created_calls:
        assert created.body["members"][0]["id"] == "29:ann", created.body
        assert TENANT in (created.body.get("tenantId"), created.body.get("channelData", {}).get("tenant", {}).get("id")), created.body
    personal_ready, personal = [c for c in teams.connector.sent if c.conversation_id == created.conversation_id]
    assert "can now be removed" in card_text(personal_ready.card)
    assert "Fabrikam Inc" in card_text(personal.card) and "removed" in card_text(personal.card)
    # The card leads back to the case: a Teams link to the removal's message, and a status button.
    actions = thread.card.get("actions", [])
    assert any(a["type"] == "Action.OpenUrl" and CHANNEL in a["url"] for a in actions)
    assert any(a.get("verb") == "status_page" for a in actions)


async def test_notify_here_subscribes_a_channel(bot: tuple[Teams, Any, str]) -> None:
    teams, app, _ = bot
    other = "19:approvers@thread.tacv2"
    here = teams.in_channel(other, "notify here")
    await teams.post(here)
    assert "will get Offboard's notifications" in teams.connector.sent[-1].body["text"]
    await teams.post({**here, "id": "again"})
    assert "already" in teams.connector.sent[-1].body["text"]
    await _remove_fabrikam(teams, app)
    # Each channel once per announcement: the case ready (its access teardown approved, issue 19), then removed.
    assert len(_threads(teams.connector, other)) == 2 and len(_threads(teams.connector, CHANNEL)) == 2


@pytest.mark.parametrize(("status", "code"), [(403, "BotNotInConversationRoster"), (404, "ConversationNotFound")])
async def test_a_channel_the_bot_was_removed_from_is_forgotten(bot: tuple[Teams, Any, str], status: int, code: str) -> None:
    teams, app, _ = bot
    await teams.say("help")  # the bot is installed in the channel
    key = f"installations/{TENANT}/team/19:team@thread.tacv2/channel/{CHANNEL}"
    assert await app[STORE].read(key) is not None
    # Up to the final confirmation while the bot is still in the channel (the case's ready
    # announcement, issue 19, reaches it); then the bot is removed from it.
    await _ask_to_remove_fabrikam(teams, app)
    announced = len(_threads(teams.connector, CHANNEL))
    teams.connector.fail(CHANNEL, status, code)
    await _confirm_the_removal(teams, app)
    assert len(_threads(teams.connector, CHANNEL)) == announced  # the removal's announcement did not reach it
    assert await app[STORE].read(key) is None and [r.method for r in teams.connector.refused] == [f"refused {status}"]


async def test_uninstalling_forgets_the_place(bot: tuple[Teams, Any, str]) -> None:
    teams, app, _ = bot
    await teams.say("help")
    key = f"installations/{TENANT}/team/19:team@thread.tacv2/channel/{CHANNEL}"
    assert await app[STORE].read(key) is not None
    status, _, _ = await teams.post(teams._activity(type="installationUpdate", action="remove"))  # noqa: SLF001
    assert status in (200, 201) and await app[STORE].read(key) is None


async def test_a_burst_of_fifty_notifications_is_paced_and_survives_throttling(bot: tuple[Teams, Any, str]) -> None:
    teams, _, _ = bot
    await teams.say("help")
    teams.connector.fail(CHANNEL, 429, "Throttled", times=3, retry_after="1")
    teams.connector.fail(CHANNEL, 502, "BadGateway")
    started = time.monotonic()
    statuses = await asyncio.gather(*(_notify(teams, {"title": f"Ticket {n}"}) for n in range(50)))
    assert {status for status, _ in statuses} == {202}
    threads = _threads(teams.connector, CHANNEL)
    assert sorted(card_text(t.card).split("\n")[0] for t in threads) == sorted(f"Ticket {n}" for n in range(50))
    # Paced under Teams' limit per bot and thread (7 a second; the notifier sends at most 6): unpaced, all 50 arrive within a few
    # tenths of a second. Arrival times here jitter on a loaded machine, hence 0.7 s, not 1 s.
    times = sorted(t.at for t in threads)
    assert all(times[i + 7] - times[i] >= 0.7 for i in range(len(times) - 7)), times
    assert times[-1] - times[0] >= (50 - 7) / 7
    assert len(teams.connector.refused) == 4
    print(f"\n50 notifications in {time.monotonic() - started:.1f} s, 4 throttled or failed sends retried")


async def _notify(
    teams: Teams, payload: Any, *, secret: str = SECRET, timestamp: str | None = None, raw: bytes | None = None
) -> tuple[int, Any]:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = signed_headers(secret, body, timestamp=timestamp)
    async with teams.http.post(f"{teams.bot_url}/api/notifications", data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_the_notification_api_needs_the_signature_and_a_valid_body(bot: tuple[Teams, Any, str]) -> None:
    teams, _, _ = bot
    await teams.say("help")
    before = len(teams.connector.sent)
    ticket = {
        "title": "Ticket 4711: offboard Contoso",
        "text": "Approved by the account manager.",
        "url": "https://tickets.example.com/4711",
    }
    assert (await _notify(teams, ticket, secret="wrong"))[0] == 401
    assert (await _notify(teams, ticket, timestamp=str(int(time.time()) - 3600)))[0] == 401
    async with teams.http.post(f"{teams.bot_url}/api/notifications", json=ticket) as unsigned:
        assert unsigned.status == 401
    assert (await _notify(teams, None, raw=b"{not json"))[0] == 400
    assert (await _notify(teams, {"text": "no title"}))[0] == 400
    assert (await _notify(teams, {**ticket, "url": "javascript:alert(1)"}))[0] == 400
    assert len(teams.connector.sent) == before, "nothing is sent for a refused request"
    status, body = await _notify(teams, ticket)
    assert status == 202 and body == {"sent": 1}
    [thread] = _threads(teams.connector, CHANNEL)[-1:]
    assert "Ticket 4711" in card_text(thread.card) and "https://tickets.example.com/4711" in json.dumps(thread.card)


async def test_a_replayed_notification_is_refused_and_announced_once(bot: tuple[Teams, Any, str]) -> None:
    """Within the five minutes its timestamp is good for, a captured request sent again is refused."""
    teams, _, _ = bot
    await teams.say("help")
    body = json.dumps({"title": "Ticket 4712: offboard Fabrikam"}).encode()
    headers = signed_headers(SECRET, body)

    async def post() -> tuple[int, Any]:
        async with teams.http.post(f"{teams.bot_url}/api/notifications", data=body, headers=headers) as response:
            return response.status, await response.json()

    first, *replays = await asyncio.gather(post(), post(), post())  # copies arriving together, too
    statuses = sorted(status for status, _ in (first, *replays))
    assert statuses == [202, 409, 409]
    assert next(body for status, body in (first, *replays) if status == 409)["detail"].startswith("this notification")
    later_replay, _ = await post()
    assert later_replay == 409
    assert [card_text(t.card).split("\n")[0] for t in _threads(teams.connector, CHANNEL)].count("Ticket 4712: offboard Fabrikam") == 1

    # Sent again on purpose: signed again, with another timestamp, it is a new notification.
    resent = signed_headers(SECRET, body, timestamp=str(int(headers["X-Offboard-Timestamp"]) - 1))
    async with teams.http.post(f"{teams.bot_url}/api/notifications", data=body, headers=resent) as response:
        assert response.status == 202


async def test_a_notification_link_must_be_https(bot: tuple[Teams, Any, str]) -> None:
    teams, _, _ = bot
    await teams.say("help")
    before = len(teams.connector.sent)
    status, body = await _notify(teams, {"title": "Ticket 4713", "url": "http://tickets.example.com/4713"})
    assert status == 400 and body["detail"] == "url: URL scheme should be 'https'"
    assert len(teams.connector.sent) == before


async def test_a_notification_is_shown_as_written_not_as_markdown(bot: tuple[Teams, Any, str]) -> None:
    """Another system's title and text cannot put a link or bold text in the bot's voice."""
    teams, _, _ = bot
    await teams.say("help")
    status, _ = await _notify(teams, {"title": f"Ticket 4714 {EVIL_NAME}", "text": f"Approve: {EVIL_NAME}"})
    assert status == 202
    [thread] = _threads(teams.connector, CHANNEL)[-1:]
    texts = markdown_texts(thread.card)
    assert not [text for text in texts if live_link(text) or live_bold(text)]
    read = [as_read(text) for text in texts]
    assert f"Ticket 4714 {EVIL_NAME}" in read and f"Approve: {EVIL_NAME}" in read


def test_used_signatures_are_forgotten_once_their_timestamp_leaves_the_window() -> None:
    """What the replay check keeps is bounded by the window: the timestamp check refuses the rest."""
    used = _UsedSignatures(limit=2)
    used.add("sha256=aa", expires=1_000.0)
    used.add("sha256=bb", expires=1_300.0)
    assert used.full and "sha256=aa" in used
    used.forget_expired(1_000.0)  # still inside the window at its last second
    assert "sha256=aa" in used
    used.forget_expired(1_000.5)
    assert "sha256=aa" not in used and "sha256=bb" in used and not used.full


# ---- Partner Center webhooks ----


async def _event(
    teams: Teams,
    certificates: str,
    event: dict[str, Any],
    *,
    signer: Credentials,
    certificate: str = "microsoft",
    headers: dict[str, str] | None = None,
) -> int:
    body = json.dumps(event).encode()
    sent = {
        "Authorization": f"Signature {signer.signature(body)}",
        "x-ms-certificate-url": f"{certificates}/{certificate}.cer",
        "x-ms-signature-algorithm": "rsa-sha256",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    async with teams.http.post(f"{teams.bot_url}/api/partnercenter/events", data=body, headers=sent) as response:
        return response.status


async def test_webhook_signatures_are_verified(bot: tuple[Teams, Any, str], pki: dict[str, Credentials]) -> None:
    teams, app, certificates = bot
    await teams.say("help")
    customer = "3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f06"
    back = {
        "EventName": "reseller-relationship-accepted-by-customer",
        "ResourceUri": f"https://api.partnercenter.microsoft.com/v1/customers/{customer}",
        "ResourceName": "customer",
        "ResourceChangeUtcDate": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }  # an event more than three days old is not acted on
    microsoft = pki["microsoft"]
    assert await _event(teams, certificates, back, signer=pki["impostor"]) == 401  # signed with another key
    assert await _event(teams, certificates, back, signer=pki["impostor"], certificate="impostor") == 401  # not Microsoft's
    assert await _event(teams, certificates, back, signer=pki["self_signed"], certificate="self_signed") == 401  # not from the CA
    assert (
        await _event(
            teams, certificates, back, signer=microsoft, headers={"x-ms-certificate-url": "https://evil.example.com/microsoft.cer"}
        )
        == 401
    )
    assert await _event(teams, certificates, back, signer=microsoft, headers={"Authorization": ""}) == 401
    assert await _event(teams, certificates, back, signer=microsoft, headers={"x-ms-signature-algorithm": "rsa-sha1"}) == 401
    await app[BACKGROUND].drain()
    assert not _threads(teams.connector, CHANNEL), "nothing happens for a refused callback"

    assert await _event(teams, certificates, back, signer=microsoft) == 200
    await app[BACKGROUND].drain()
    [thread] = _threads(teams.connector, CHANNEL)
    assert "Relationship re-established with Tailspin Toys" in card_text(thread.card)


async def test_a_subscription_updated_event_rechecks_the_waiting_case(bot: tuple[Teams, Any, str], pki: dict[str, Credentials]) -> None:
    teams, app, certificates = bot
    await teams.say("remove Adatum Corporation")  # one reservation: waits for someone in the Azure portal
    sandbox = app[SANDBOX]
    case_id = button_data(card_with(teams.connector, "cancel_case")[1], "cancel_case")["caseId"]
    cases = app[STORE]
    stored = (await cases.read(f"cases/{case_id}")).document
    customer, [reservation] = stored["customer"]["id"], stored["items"]
    async with teams.http.post(
        f"{sandbox.base_url}/_sandbox/customers/{customer}/reservations/{reservation['item_id']}/cancel", json={}
    ) as response:
        assert response.status == 200
    event = {
        "EventName": "subscription-updated",
        "ResourceUri": f"https://api.partnercenter.microsoft.com/webhooks/v1/customers/{customer}/subscriptions/x",
        "ResourceName": "subscription",
    }
    assert await _event(teams, certificates, event, signer=pki["microsoft"]) == 200
    await app[BACKGROUND].drain()
    assert (await cases.read(f"cases/{case_id}")).document["state"] == "ready"
    ready = [t for t in _threads(teams.connector, CHANNEL) if "can now be removed" in card_text(t.card)]
    assert len(ready) == 1 and "Adatum Corporation" in card_text(ready[0].card)
    assert any(c.card and "confirm_removal" in json.dumps(c.card) for c in teams.connector.sent if c.conversation_id == CHANNEL_THREAD)


# ---- Waiting cases under the sandbox clock ----


@pytest.mark.slow
async def test_a_reminder_then_a_now_ready_notification_as_the_term_ends(bot: tuple[Teams, Any, str]) -> None:
    teams, app, _ = bot
    sandbox = app[SANDBOX]
    await teams.say("remove Contoso Pharma")  # one new-commerce subscription past its window, 200 days left
    card_id, card = card_with(teams.connector, "decide")
    status, _, _ = await teams.click(card_id, "decide", button_data(card, "decide", decision="approve"))  # turn off auto-renew
    assert status == 200
    # Its GDAP request never sent (issue 19) is not what this test is about: skipped.
    await skip_the_access_teardown(teams, app[STORE], button_data(card, "decide")["caseId"])
    await app[BACKGROUND].drain()

    async def announced(words: str) -> list[Any]:
        return [t for t in _threads(teams.connector, CHANNEL) if words in card_text(t.card)]

    async def announcement(words: str) -> list[Any]:
        return await eventually(lambda: announced(words), timeout=10, what=f"a notification saying {words!r}", every=0.1)

    assert not await announced("term ends soon")
    async with teams.http.post(f"{sandbox.base_url}/_sandbox/clock", json={"advanceDays": 195}) as response:
        assert response.status == 200
    [reminder] = await announcement("term ends soon")
    assert "Microsoft 365 E3" in card_text(reminder.card)  # the seeded offer's name
    await asyncio.sleep(1.0)  # several scheduler rounds: the reminder is sent once
    assert len(await announced("term ends soon")) == 1

    async with teams.http.post(f"{sandbox.base_url}/_sandbox/clock", json={"advanceDays": 10}) as response:
        assert response.status == 200
    [ready] = await announcement("can now be removed")
    assert "Contoso Pharma" in card_text(ready.card)
    # And the final confirmation is offered in the removal's own thread.
    assert any(c.card and "confirm_removal" in json.dumps(c.card) for c in teams.connector.sent if c.conversation_id == CHANNEL_THREAD)
