"""A recording Bot Connector: stands for Teams' serviceUrl on loopback.

It speaks the Bot Framework v3 REST shapes the bot uses: send and reply
(``POST /v3/conversations/{id}/activities[/{replyToId}]``), update
(``PUT /v3/conversations/{id}/activities/{activityId}``), and member lookup
(``GET /v3/conversations/{id}/members/{memberId}``, which TeamsActivityHandler calls).
Every request is recorded; sends return fresh activity ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    conversation_id: str
    activity_id: str
    body: dict[str, Any]

    @property
    def card(self) -> dict[str, Any] | None:
        attachments = self.body.get("attachments") or []
        return attachments[0]["content"] if attachments else None


@dataclass
class RecordingConnector:
    calls: list[Recorded] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
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
        return web.json_response({"id": member, "name": member, "aadObjectId": "00000000-0000-0000-0000-000000000001"})

    @property
    def sent(self) -> list[Recorded]:
        return [c for c in self.calls if c.method == "send"]

    @property
    def updated(self) -> list[Recorded]:
        return [c for c in self.calls if c.method == "update"]
