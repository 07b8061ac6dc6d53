"""Notifications through the Microsoft 365 Agents Playground's own Bot Connector (not ours).

The Playground (npm, pinned) runs here without a browser, with both telemetry switches; the bot
learns the Playground's team channel and personal chat from activities shaped like the ones the
Playground sends, then posts notifications through ``http://127.0.0.1:<port>/_connector``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from app import BACKGROUND, STORE, create_app
from bench.ports import free_port
from bot.notify_api import signed_headers
from bot.settings import Settings
from tests._playground import running_playground

TENANT = "7d3a6c1e-0f0b-4c7e-9a51-0ff60a2d0001"  # .m365agentsplayground.yml
TEAM, CHANNEL, PERSONAL = "team-customer-offboarding", "channel-offboarding-requests", "personal-chat-offboard"
BOT = {"id": "28:00000000-0000-0000-0000-0000000000b0", "name": "Offboard"}
ALEX = {"id": "user-id-0", "name": "Alex Wilber (admin agent)", "aadObjectId": "00000000-0000-0000-0000-000000000020"}
SECRET = "playground-test-secret"


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Playground's connector URL (its bot endpoint is a port nobody listens on)."""
    with running_playground(tmp_path_factory.mktemp("playground"), f"http://127.0.0.1:{free_port()}/api/messages") as port:
        yield f"http://127.0.0.1:{port}/_connector"


@pytest.fixture
async def bot(aiohttp_server: Any) -> AsyncIterator[tuple[str, Any, aiohttp.ClientSession]]:
    app = create_app(Settings(_env_file=None, sandbox_port=0, notify_channels=[CHANNEL], notify_secret=SECRET))
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        yield str(server.make_url("")).rstrip("/"), app, http


def _from_playground(connector: str, conversation: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"pg-{time.monotonic_ns()}",
        "channelId": "msteams",
        "serviceUrl": connector,
        "from": ALEX,
        "recipient": BOT,
        "conversation": {"tenantId": TENANT, **conversation},
        "locale": "en-US",
        "channelData": {"tenant": {"id": TENANT}},
        **fields,
    }


async def _post(http: aiohttp.ClientSession, url: str, activity: dict[str, Any]) -> int:
    async with http.post(f"{url}/api/messages", json=activity) as response:
        return response.status


async def test_notifications_reach_the_playground_channel_and_personal_chat(
    playground: str, bot: tuple[str, Any, aiohttp.ClientSession]
) -> None:
    url, app, http = bot
    channel = {"id": CHANNEL, "conversationType": "channel", "isGroup": True}
    mention = "<at>Offboard</at>"
    said = _from_playground(
        playground,
        channel,
        text=f"{mention} help",
        entities=[{"type": "mention", "mentioned": BOT, "text": mention}],
        channelData={"tenant": {"id": TENANT}, "team": {"id": TEAM}, "channel": {"id": CHANNEL}},
    )
    assert await _post(http, url, said) in (200, 201)  # the help card went to the Playground's channel
    assert await app[STORE].read(f"installations/{TENANT}/team/{TEAM}/channel/{CHANNEL}") is not None

    body = json.dumps({"title": "Ticket 4711: offboard Contoso"}).encode()
    async with http.post(f"{url}/api/notifications", data=body, headers=signed_headers(SECRET, body)) as response:
        assert response.status == 202 and await response.json() == {"sent": 1}

    # A whole removal in the personal chat: the result is announced in the channel and 1:1.
    personal = {"id": PERSONAL, "conversationType": "personal"}
    assert await _post(http, url, _from_playground(playground, personal, text="remove Fabrikam Inc")) in (200, 201)
    store = app[STORE]
    [key] = [k for k in await store.list_keys("opencase/")]
    case_id = (await store.read(key)).document["caseId"]
    # Nothing blocks; the access the partner still has (issue 19) is approved (torn down after the
    # removal), then the removal is confirmed.
    for verb in ("approve_all", "confirm_removal"):
        click = _from_playground(
            playground,
            personal,
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": verb, "data": {"caseId": case_id}}, "trigger": "manual"},
        )
        async with http.post(f"{url}/api/messages", json=click) as response:
            assert response.status == 200
        await app[BACKGROUND].drain()
    case = (await store.read(f"cases/{case_id}")).document
    assert case["state"] == "removed"


async def test_a_playground_conversation_that_does_not_exist_is_pruned(
    playground: str, bot: tuple[str, Any, aiohttp.ClientSession]
) -> None:
    url, app, http = bot
    gone = "channel-that-was-deleted"
    said = _from_playground(
        playground,
        {"id": gone, "conversationType": "channel", "isGroup": True},
        text="<at>Offboard</at> notify here",
        entities=[{"type": "mention", "mentioned": BOT, "text": "<at>Offboard</at>"}],
        channelData={"tenant": {"id": TENANT}, "team": {"id": TEAM}, "channel": {"id": gone}},
    )
    await _post(http, url, said)  # the Playground refuses the answer (unknown conversation); the bot remembers the place
    key = f"installations/{TENANT}/team/{TEAM}/channel/{gone}"
    assert await app[STORE].read(key) is not None
    body = json.dumps({"title": "Anyone there?"}).encode()
    async with http.post(f"{url}/api/notifications", data=body, headers=signed_headers(SECRET, body)) as response:
        assert response.status == 202
    assert await app[STORE].read(key) is None, "the Playground said ConversationNotFound: forgotten"
