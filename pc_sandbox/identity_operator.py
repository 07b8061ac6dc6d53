"""``/_sandbox/entra`` and ``/_sandbox/keyvault``: what an Entra or Azure administrator does.

- ``GET /_sandbox/entra``: the demo user's refresh tokens (dates only, never values), when they
  were last revoked and since when MFA is asked again.
- ``POST /_sandbox/entra/revokeSignInSessions``: as Graph's ``revokeSignInSessions`` (an admin
  after a password reset, https://learn.microsoft.com/graph/api/user-revokesigninsessions):
  every refresh token from an earlier sign-in answers ``invalid_grant`` ``AADSTS50173``.
- ``POST /_sandbox/entra/requireMfa``: as a Conditional Access change asking for MFA again: the
  next grants answer ``interaction_required`` ``AADSTS50076`` until the user signs in with MFA.
- ``GET``/``PUT /_sandbox/keyvault/role`` ``{"assigned": bool}``: the bot's identity holds a
  secrets role on the vault (or not: 403 ``ForbiddenByRbac``).
- ``GET``/``PUT /_sandbox/graph/adminAgent`` ``{"assigned": bool}``: the demo user is in the
  partner tenant's ``AdminAgents`` group (Graph ``me/memberOf``), or only in ``SalesAgents``.
- ``GET /_sandbox/keyvault/secrets``: names, versions, tags and content types (no values).

``/_sandbox/reset`` undoes the revocation, the MFA demand and a removed role or agent role (``state.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .clock import format_iso
from .state import STATE

__all__ = ("routes",)

routes = web.RouteTableDef()


@routes.get("/_sandbox/entra")
async def entra_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].refresh_tokens.to_json())


@routes.post("/_sandbox/entra/revokeSignInSessions")
async def revoke_sign_in_sessions(request: web.Request) -> web.Response:
    valid_from = request.app[STATE].refresh_tokens.revoke_all()
    return web.json_response({"refreshTokensValidFrom": format_iso(valid_from)})


@routes.post("/_sandbox/entra/requireMfa")
async def require_mfa(request: web.Request) -> web.Response:
    since = request.app[STATE].refresh_tokens.demand_mfa()
    return web.json_response({"mfaRequiredSince": format_iso(since)})


async def _assigned(request: web.Request) -> bool:
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError:
        body = None
    assigned = body.get("assigned") if isinstance(body, dict) else None
    if not isinstance(assigned, bool):
        raise web.HTTPBadRequest(text=json.dumps({"error": 'expected {"assigned": true|false}'}), content_type="application/json")
    return assigned


@routes.get("/_sandbox/keyvault/role")
async def get_role(request: web.Request) -> web.Response:
    return web.json_response({"assigned": request.app[STATE].vault.role_assigned})


@routes.put("/_sandbox/keyvault/role")
async def set_role(request: web.Request) -> web.Response:
    assigned = await _assigned(request)
    request.app[STATE].vault.role_assigned = assigned
    return web.json_response({"assigned": assigned})


@routes.get("/_sandbox/graph/adminAgent")
async def get_admin_agent(request: web.Request) -> web.Response:
    return web.json_response({"assigned": request.app[STATE].admin_agent})


@routes.put("/_sandbox/graph/adminAgent")
async def set_admin_agent(request: web.Request) -> web.Response:
    """As a Partner Center admin changing the user's role in User management."""
    assigned = await _assigned(request)
    request.app[STATE].admin_agent = assigned
    return web.json_response({"assigned": assigned})


@routes.get("/_sandbox/keyvault/secrets")
async def list_secrets(request: web.Request) -> web.Response:
    vault = request.app[STATE].vault
    items: list[dict[str, Any]] = []
    for name in vault.names():
        versions = vault.versions(name)
        latest = versions[-1]
        items.append(
            {
                "name": name,
                "versions": len(versions),
                "contentType": latest.content_type,
                "tags": dict(latest.tags),
                "updated": format_iso(datetime.fromtimestamp(latest.updated, UTC)),
            }
        )
    return web.json_response({"items": items})
