"""Partner Center's webhook registration, ``/webhooks/v1/registration``: one per partner.

Sources: https://learn.microsoft.com/partner-center/developer/partner-center-webhooks ("Register
for events", "View a registration", "Update an event registration": a PascalCase body
``{"WebhookUrl", "WebhookEvents"}`` answered with ``{"SubscriberId", "WebhookUrl",
"WebhookEvents"}``) and the REST reference
https://learn.microsoft.com/rest/api/partner-center/webhook/create-registration-partner (the same
model in camelCase, plus ``signatureTokenToMsSignatureHeader``, ``properties`` and
``lastModifiedTimestamp``; "registration already exists, use PUT" for a second POST). The sandbox
answers in the conceptual page's PascalCase and accepts either casing in requests.

The same bearer token as the rest of Partner Center, app-only or app+user (the page's
"Appropriate roles" apply to app+user; the reference accepts both). Authentication, throttling,
errors and the request log are the ``/v1`` middleware's.

ASSUMPTIONS (undocumented): GET and PUT with no registration answer 404 (the reference lists 404
"not found or not available"); a second POST answers 409 (the reference names no code);
``DELETE`` (not in the reference) removes the registration with 204, 404 when there is none;
``SubscriberId`` is a fixed stand-in for the partner's id.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import errors
from .clock import format_iso
from .demo import DEMO
from .errors import ApiFault, json_response
from .state import STATE, SandboxState

__all__ = ("REGISTRATION_PATH", "routes")

REGISTRATION_PATH = "/webhooks/v1/registration"

routes = web.RouteTableDef()


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE]


def _none_registered() -> ApiFault:
    return ApiFault(404, errors.NOT_FOUND, "No webhook registration exists for this partner.")


async def _registration_body(request: web.Request) -> tuple[str, list[str]]:
    """``WebhookUrl`` and ``WebhookEvents`` from the body, in either casing (see the module doc)."""
    text = await request.text()
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        raise errors.invalid_input("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid_input("the body must be a JSON object")
    lowered = {str(key).lower(): value for key, value in body.items()}
    url, events = lowered.get("webhookurl"), lowered.get("webhookevents")
    if not isinstance(url, str) or not url.strip():
        raise errors.invalid_input("WebhookUrl is required")
    if not isinstance(events, list) or not events or not all(isinstance(event, str) and event.strip() for event in events):
        raise errors.invalid_input("WebhookEvents must be a non-empty list of event names")
    return url.strip(), [event.strip() for event in events]


def _registration(state: SandboxState, url: str, events: list[str]) -> dict[str, Any]:
    return {
        "SubscriberId": DEMO.partner_tenant_id,
        "WebhookUrl": url,
        "WebhookEvents": events,
        "SignatureTokenToMsSignatureHeader": False,
        "LastModifiedTimestamp": format_iso(state.clock.now()),
    }


@routes.get(REGISTRATION_PATH)
async def get_registration(request: web.Request) -> web.Response:
    registered = _state(request).webhook_registration
    if registered is None:
        raise _none_registered()
    return json_response(registered)


@routes.post(REGISTRATION_PATH)
async def create_registration(request: web.Request) -> web.Response:
    state = _state(request)
    url, events = await _registration_body(request)
    if state.webhook_registration is not None:
        raise ApiFault(409, 0, "A registration already exists for this partner; use PUT to update it.")
    state.webhook_registration = _registration(state, url, events)
    return json_response(state.webhook_registration)


@routes.put(REGISTRATION_PATH)
async def update_registration(request: web.Request) -> web.Response:
    state = _state(request)
    url, events = await _registration_body(request)
    if state.webhook_registration is None:
        raise _none_registered()
    state.webhook_registration = _registration(state, url, events)
    return json_response(state.webhook_registration)


@routes.delete(REGISTRATION_PATH)
async def delete_registration(request: web.Request) -> web.Response:
    state = _state(request)
    if state.webhook_registration is None:
        raise _none_registered()
    state.webhook_registration = None
    return web.Response(status=204)
