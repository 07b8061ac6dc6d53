"""Teams' side of the wire for HTTP tests: posts Teams-shaped activities to the bot."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import aiohttp

from bench.buttons import button_data, buttons
from bench.connector import RecordingConnector
from partner_center.blockers import TEARDOWN_KINDS

TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
CHANNEL_THREAD = "19:offboarding@thread.tacv2;messageid=1700000000000"


class Teams:
    """Posts Teams-shaped activities to the bot, the way Teams' service would."""

    def __init__(self, http: aiohttp.ClientSession, bot_url: str, connector_url: str, connector: RecordingConnector) -> None:
        self.http, self.bot_url, self.connector_url, self.connector = http, bot_url, connector_url, connector
        self._ids = 0
        # The cards the bot answered clicks with (the card clicked is updated in place), with the id
        # of the message they replaced, latest last.
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def _activity(self, **fields: Any) -> dict[str, Any]:
        self._ids += 1
        return {
            "id": f"incoming-{self._ids}",
            "channelId": "msteams",
            "serviceUrl": self.connector_url,
            "from": {"id": "29:ann", "name": "Ann Admin", "aadObjectId": "00000000-0000-0000-0000-0000000000a1"},
            "recipient": {"id": "28:offboard", "name": "Offboard"},
            "conversation": {"id": CHANNEL_THREAD, "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
            "channelData": {
                "tenant": {"id": TENANT},
                "team": {"id": "19:team@thread.tacv2"},
                "channel": {"id": "19:offboarding@thread.tacv2"},
            },
            "locale": "en-US",
            **fields,
        }

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any, float]:
        started = time.perf_counter()
        # A stream, not bytes: the generated bad input can be megabytes, and aiohttp warns (an
        # error in this suite) when it is handed more than 1 MiB of raw bytes to send.
        sent = io.BytesIO(json.dumps(activity).encode())
        headers = {"Content-Type": "application/json"}
        async with self.http.post(f"{self.bot_url}/api/messages", data=sent, headers=headers) as response:
            text = await response.text()
            answer: Any
            try:
                answer = json.loads(text) if text else None
            except ValueError:
                answer = text
            self._note_answer(activity, answer)
            return response.status, answer, time.perf_counter() - started

    def _note_answer(self, activity: dict[str, Any], body: Any) -> None:
        card = body.get("value") if isinstance(body, dict) else None
        if activity.get("type") == "invoke" and isinstance(card, dict) and card.get("type") == "AdaptiveCard":
            self.answers.append((activity.get("replyToId", ""), card))

    def in_channel(self, channel_id: str, text: str) -> dict[str, Any]:
        """``@Offboard text`` posted in another channel of the team (a new thread there)."""
        mention = "<at>Offboard</at>"
        return self._activity(
            type="message",
            text=f"{mention} {text}",
            entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": mention}],
            conversation={"id": f"{channel_id};messageid=42", "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
            channelData={"tenant": {"id": TENANT}, "team": {"id": "19:team@thread.tacv2"}, "channel": {"id": channel_id}},
        )

    async def say(self, text: str) -> int:
        mention = "<at>Offboard</at>"
        status, _, _ = await self.post(
            self._activity(
                type="message",
                text=f"{mention} {text}",
                entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": mention}],
            )
        )
        return status

    async def click(
        self, card_activity_id: str, verb: str, data: dict[str, Any], *, by: dict[str, Any] | None = None
    ) -> tuple[int, Any, float]:
        """A click on a card's button, by Ann or by ``by`` (a Teams ``from``)."""
        sender = {"from": by} if by else {}
        return await self.post(
            self._activity(
                type="invoke",
                name="adaptiveCard/action",
                replyToId=card_activity_id,
                value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
                **sender,
            )
        )

    async def submit(self, verb: str, data: dict[str, Any]) -> int:
        status, _, _ = await self.post(self._activity(type="message", value={**data, "verb": verb}))
        return status


def card_with(connector: RecordingConnector, verb: str) -> tuple[str, dict[str, Any]]:
    for call in reversed(connector.calls):
        if call.card and any(b["verb"] == verb for b in buttons(call.card).values()):
            return call.activity_id, call.card
    raise AssertionError(f"no card with a {verb} button was sent")


async def approve_all(teams: Teams, *, by: dict[str, Any] | None = None) -> None:
    """ "Approve all" on the case's latest card: the blockers and the access teardown items (issue 19)
    alike. With the default timing the teardown items run after the relationship's removal."""
    card_id, card = card_with(teams.connector, "approve_all")
    status, _, _ = await teams.click(card_id, "approve_all", button_data(card, "approve_all"), by=by)
    assert status == 200, status


async def skip_the_access_teardown(teams: Teams, store: Any, case_id: str, *, by: dict[str, Any] | None = None) -> None:
    """Skip each access teardown item (issue 19: GDAP, DAP, partner guests, contacts, apps) still to
    decide, for a test about something else: the case then goes on as it did before they existed."""
    for key in await _teardown_keys_to_decide(store, case_id):
        card_id, card = _card_asking_about(teams, key)
        status, _, _ = await teams.click(card_id, "decide", button_data(card, "decide", itemKey=key, decision="skip"), by=by)
        assert status == 200, status


async def _teardown_keys_to_decide(store: Any, case_id: str) -> list[str]:
    items = (await store.read(f"cases/{case_id}")).document["items"]
    teardown = {kind.value for kind in TEARDOWN_KINDS}
    return [item["key"] for item in items if item["kind"] in teardown and item["decision"] == "pending"]


def _card_asking_about(teams: Teams, item_key: str) -> tuple[str, dict[str, Any]]:
    """The latest card with a button deciding ``item_key``: sent, or the answer to a click."""
    sent = [(call.activity_id, call.card) for call in teams.connector.calls if call.card]
    for card_id, card in reversed([*sent, *teams.answers]):
        if any(b["verb"] == "decide" and b["data"].get("itemKey") == item_key for b in buttons(card).values()):
            return card_id, card
    raise AssertionError(f"no card asks about {item_key}")


async def eventually(check: Any, *, timeout: float, what: str, every: float = 0.2) -> Any:
    """Call ``check()`` until it returns something true (returned); fail after ``timeout`` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)
