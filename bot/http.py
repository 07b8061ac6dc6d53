"""``POST /api/messages``: activities in, invoke answers out — the one place that works round
botbuilder 4.17.1's invoke bug.

4.17.1's ``CloudAdapter.process`` serialises an invoke answer's body a second time and fails with
HTTP 500 on every invoke that has a body (every Action.Execute click). This handler does what
``process`` should: read the activity (400 if the body is not one), authenticate the caller, let
the adapter run the turn, and write ``invoke_response.body`` as it is.

Authentication is done here, before the turn, so that its failures are told apart from the turn's.
botbuilder 4.17.1 refuses a token with many exception types (tests/bot/test_bot_auth.py has one
case each): ``PermissionError`` (no header, wrong issuer, audience or serviceurl), PyJWT's errors
(malformed, expired, not yet valid, bad signature), a bare ``Exception`` (``alg`` none or HS256,
signing key not endorsed for the activity's channel), ``KeyError`` (no ``iss``),
``AttributeError`` (not "Bearer <token>", with a configured metadata URL); and
:mod:`bot.signing_keys`, which holds the signing keys in the SDK's stead, refuses an unknown or
missing ``kid`` with ``PermissionError``. Every one of them is a 401, never a 500. The
one failure that is ours, not the caller's, is holding no signing keys because they cannot be
fetched (:class:`SigningKeysUnavailable`): 503, so that the channel retries.

Live mode fails closed here too (security review, findings 1, 11 and 14):

- with authentication on, a request without a ``Bearer`` token is refused before its body is
  read or decoded, so an anonymous caller cannot make the bot parse a large or deeply nested body;
- an anonymous activity (botbuilder accepts one when the app id is empty) is refused with 401
  whenever the bot is not on the sandbox, whatever else is configured;
- an activity naming a ``serviceUrl`` the bot may not send to is refused before the turn.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, AuthenticationConstants
from msrest.serialization import Model

from removal.background import BackgroundTasks

from .service_urls import ServiceUrlPolicy
from .signing_keys import SigningKeysUnavailable

__all__ = ("messages_handler",)

_log = logging.getLogger(__name__)


# Refused requests have a logger of their own, so that an operator facing a flood of forged
# requests can quieten it (or route it to a SIEM) without losing the bot's other warnings.
_refusals = logging.getLogger(f"{__name__}.refusals")
_MAX_ID_LENGTH = 512


def messages_handler(
    adapter: CloudAdapter,
    bot: Bot,
    background: BackgroundTasks,
    *,
    authenticates: bool = False,
    anonymous_allowed: bool = True,
    service_urls: ServiceUrlPolicy | None = None,
) -> Any:
    """:param authenticates: the bot has an app id (botbuilder checks tokens).
    :param anonymous_allowed: anonymous activities are accepted (the sandbox only).
    :param service_urls: where replies may go (default: anywhere)."""
    fence = service_urls or ServiceUrlPolicy(None)

    async def messages(request: web.Request) -> web.StreamResponse:
        if (authenticates or not anonymous_allowed) and not _bearer(request.headers.get("Authorization")):
            _refusals.warning("refused an activity without a bearer token (body not read)")
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise web.HTTPUnsupportedMediaType(text="expected application/json")
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError, RecursionError):
            raise web.HTTPBadRequest(text="the body is not an activity") from None
        if not isinstance(body, dict) or not _is_complete(activity):
            raise web.HTTPBadRequest(text="the body is not an activity")
        authenticated = await _authenticate(adapter, activity, request.headers.get("Authorization"))
        if not anonymous_allowed and _is_anonymous(authenticated):
            _refusals.warning("refused an anonymous activity: the bot is not on the sandbox")
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
        if not fence.allows(activity.service_url):
            _refusals.warning("refused an activity whose serviceUrl is not allowed: %.120r", activity.service_url)
            raise web.HTTPForbidden(text="serviceUrl not allowed")
        # Background work started by this turn waits until Teams has our answer.
        with background.holding() as release:
            invoke_response = await adapter.process_activity(authenticated, activity, bot.on_turn)
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


def _bearer(header: str | None) -> bool:
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _is_anonymous(authenticated: AuthenticateRequestResult) -> bool:
    identity = authenticated.claims_identity
    return identity is None or identity.authentication_type == AuthenticationConstants.ANONYMOUS_AUTH_TYPE or not identity.claims


async def _authenticate(adapter: CloudAdapter, activity: Activity, auth_header: str | None) -> AuthenticateRequestResult:
    """The caller's identity, or 401 (503 when the signing keys cannot be fetched)."""
    try:
        # None, not "", when there is no header: botbuilder's parameterized authentication (a
        # configured OpenID metadata URL) reads only None as "no header" when auth is disabled.
        return await adapter.bot_framework_authentication.authenticate_request(activity, auth_header)
    except SigningKeysUnavailable as error:
        _log.error("refused an activity for now: %s", error)
        raise web.HTTPServiceUnavailable(headers={"Retry-After": "10"}) from None
    except Exception as error:  # noqa: BLE001 (the SDK refuses with bare Exception too: see above)
        _refusals.warning("refused an activity: %s: %.200s", type(error).__name__, error)
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"}) from None


def _is_complete(activity: Activity) -> bool:
    """What every activity from a channel carries; without it no reply could be addressed (and
    without ``channelId`` botbuilder would skip the signing key's endorsement check)."""
    return bool(
        activity.type
        and activity.channel_id
        and activity.service_url
        and activity.conversation is not None
        and activity.conversation.id
        and activity.recipient is not None
        and activity.from_property is not None
        and _addressable(activity)
    )


def _addressable(activity: Activity) -> bool:
    """The ids a reply is addressed with and state is stored under are printable strings of a
    length Teams uses (its ids are tens to a few hundred characters); the serviceUrl is http(s)."""
    ids = (activity.service_url, activity.conversation.id, activity.id, activity.recipient.id, activity.from_property.id)
    return activity.service_url.startswith(("https://", "http://")) and all(
        value is None or (isinstance(value, str) and len(value) <= _MAX_ID_LENGTH and value.isprintable()) for value in ids
    )
