"""``POST /api/messages``: activities in, invoke answers out — the one place that works round
botbuilder 4.17.1's invoke bug.

4.17.1's ``CloudAdapter.process`` serialises an invoke answer's body a second time and fails with
HTTP 500 on every invoke that has a body (every Action.Execute click). This handler does what
``process`` should: read the activity, let the adapter authenticate and run the turn, and write
``invoke_response.body`` as it is. It also answers 401 (not 500) to a request whose bearer token
cannot be read, and 400 to a body that is not an activity.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import jwt
from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from msrest.serialization import Model

from removal.background import BackgroundTasks

__all__ = ("messages_handler",)

_log = logging.getLogger(__name__)


def messages_handler(adapter: CloudAdapter, bot: Bot, background: BackgroundTasks) -> Any:
    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise web.HTTPUnsupportedMediaType(text="expected application/json")
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
            raise web.HTTPBadRequest(text="the body is not an activity") from None
        if not isinstance(body, dict) or not _is_complete(activity):
            raise web.HTTPBadRequest(text="the body is not an activity")
        auth_header = request.headers.get("Authorization", "")
        # Background work started by this turn waits until Teams has our answer.
        with background.holding() as release:
            try:
                invoke_response = await adapter.process_activity(auth_header, activity, bot.on_turn)
            except (PermissionError, jwt.PyJWTError) as error:
                _log.warning("refused an activity: %s", type(error).__name__)
                raise web.HTTPUnauthorized() from None
            if invoke_response is None:
                response: web.StreamResponse = web.Response(status=201)
            else:
                payload = invoke_response.body
                if isinstance(payload, Model):
                    payload = payload.serialize()
                response = web.json_response(payload, status=invoke_response.status or 200)
            await response.prepare(request)
            await response.write_eof()
            release()
        return response

    return messages


def _is_complete(activity: Activity) -> bool:
    """What every activity from a channel carries; without it no reply could be addressed."""
    return bool(
        activity.type
        and activity.service_url
        and activity.conversation is not None
        and activity.conversation.id
        and activity.recipient is not None
        and activity.from_property is not None
    )
