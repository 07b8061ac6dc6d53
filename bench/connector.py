"""A recording Bot Connector: stands for Teams' serviceUrl on loopback (for the benchmarks and
the HTTP tests).

It speaks the Bot Framework v3 REST shapes the bot uses: send and reply
(``POST /v3/conversations/{id}/activities[/{replyToId}]``), update
(``PUT /v3/conversations/{id}/activities/{activityId}``), and member lookup
(``GET /v3/conversations/{id}/members/{memberId}``, which TeamsActivityHandler calls), and
create conversation (``POST /v3/conversations``, a 1:1 chat). Every request is recorded with when
it arrived; sends return fresh activity ids. :meth:`RecordingConnector.fail` makes the next sends
to a conversation answer like Teams does when throttling (429 + Retry-After) or when the bot was
removed (403 BotNotInConversationRoster, 404 ConversationNotFound).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ("ROSTER_TENANT", "Recorded", "RecordingConnector")

# The partner's tenant in the HTTP tests (tests.bot.teams.TENANT) and the benchmarks.
ROSTER_TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"


@dataclass
class Recorded:
    method: str
    conversation_id: str
    activity_id: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def card(self) -> dict[str, Any] | None:
        attachments = self.body.get("attachments") or []
        return attachments[0]["content"] if attachments else None


@dataclass
class RecordingConnector:
    calls: list[Recorded] = field(default_factory=list)
    refused: list[Recorded] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    _failures: dict[str, list[tuple[int, str, str | None]]] = field(default_factory=dict)
    # Roster entries by Teams user id, as Teams answers them (TeamsChannelAccount); anyone not
    # listed is a member ("user") of ROSTER_TENANT.
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    roster_reads: list[Recorded] = field(default_factory=list)

    def fail(self, conversation_id: str, status: int, code: str, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next ``times`` sends to ``conversation_id`` get this error, as Teams words it."""
        self._failures.setdefault(conversation_id, []).extend([(status, code, retry_after)] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        return app

    async def _create(self, request: web.Request) -> web.Response:
        """A 1:1 chat with ``members[0]``, or (with channelData.channel and an activity) a new
        thread in that channel, recorded as a send to the channel."""
        body = await request.json()
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if channel and body.get("activity"):
            refused = self._refuse(channel, body)
            if refused is not None:
                return refused
            new_id = f"activity-{next(self._ids)}"
            self.calls.append(Recorded("send", channel, new_id, body["activity"]))
            return web.json_response({"id": f"{channel};messageid={new_id}", "activityId": new_id}, status=201)
        member = (body.get("members") or [{}])[0].get("id", "")
        conversation_id = f"a:1:1-{member}"
        self.calls.append(Recorded("create", conversation_id, "", body))
        return web.json_response({"id": conversation_id}, status=201)

    def _refuse(self, conversation: str, body: dict[str, Any]) -> web.Response | None:
        failures = self._failures.get(conversation)
        if not failures:
            return None
        status, code, retry_after = failures.pop(0)
        self.refused.append(Recorded(f"refused {status}", conversation, "", body))
        headers = {"Retry-After": retry_after} if retry_after else {}
        return web.json_response({"error": {"code": code, "message": code}}, status=status, headers=headers)

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refuse(request.match_info["conversation"], body)
        if refused is not None:
            return refused
        new_id = f"activity-{next(self._ids)}"
        self.calls.append(Recorded("send", request.match_info["conversation"], new_id, body))
        return web.json_response({"id": new_id})

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        activity_id = request.match_info["activity"]
        self.calls.append(Recorded("update", request.match_info["conversation"], activity_id, body))
        return web.json_response({"id": activity_id})

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        self.roster_reads.append(Recorded("member", request.match_info["conversation"], member, {}))
        entry = {
            "id": member,
            "name": member,
            "aadObjectId": "00000000-0000-0000-0000-000000000001",
            "userRole": "user",
            "tenantId": ROSTER_TENANT,
        }
        return web.json_response({**entry, **self.members.get(member, {})})

    @property
    def sent(self) -> list[Recorded]:
        return [c for c in self.calls if c.method == "send"]

    @property
    def updated(self) -> list[Recorded]:
        return [c for c in self.calls if c.method == "update"]
