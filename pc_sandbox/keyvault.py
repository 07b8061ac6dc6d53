"""An Azure Key Vault stand-in: the secrets REST API, served by the sandbox over TLS.

Wire format from https://learn.microsoft.com/rest/api/keyvault/secrets (Set Secret, Get Secret,
Get Secret Versions) and the challenge flow from
https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses:

- ``PUT /secrets/{name}?api-version=...`` body ``{"value", "contentType"?, "tags"?,
  "attributes"?: {"enabled", "nbf", "exp"}}`` → 200 ``SecretBundle``;
- ``GET /secrets/{name}`` (also ``/secrets/{name}/``, which the Python SDK sends for "latest")
  and ``GET /secrets/{name}/{version}`` → ``SecretBundle``;
- ``GET /secrets/{name}/versions`` → ``{"value": [SecretItem], "nextLink": null}``;
- no bearer token → 401 with ``WWW-Authenticate: Bearer authorization="<authority>/<tenant>",
  resource="https://vault.azure.net"``: the Azure SDK's ``ChallengeAuthPolicy`` sends its first
  request without a token (and without the body), reads the tenant and the resource, asks its
  credential for ``https://vault.azure.net/.default`` and sends the request again. The SDK checks
  (``verify_challenge_resource``, on by default) that the vault's host name ends with
  ``.vault.azure.net``: a client keeps that check on by addressing the stand-in as
  ``https://<name>.vault.azure.net/`` and routing that name to the sandbox's socket (as
  ``LoopbackRouter`` does for the token endpoint); addressed by its loopback address, the check
  must be turned off. The authority is the sandbox's own (``<scheme>://<host>/<partner tenant>``);
  the SDK only takes the tenant from it.
- a token for another resource → 401 ``AKV10022: Invalid audience``; for another tenant → 401
  ``AKV10032: Invalid issuer``; an identity without a secrets role (``/_sandbox/keyvault/role``)
  → 403 ``Forbidden`` / ``ForbiddenByRbac`` (Azure RBAC for Key Vault,
  https://learn.microsoft.com/azure/key-vault/general/rbac-guide).
- an unknown secret or version → 404 ``SecretNotFound``; a disabled one → 403 ``Forbidden`` /
  ``SecretDisabled`` (about-secrets page).

Choices (assumptions): no ``api-version`` → 400 ``BadParameter`` before the token is looked at;
any non-empty api-version is accepted (7.x and the dated ones the SDK sends); plain HTTP is
refused with 400, because a real vault is never reached without TLS and the SDK refuses to send a
bearer token over HTTP; the versions list of an unknown secret is empty (200), not 404; one page.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .demo import DEMO
from .state import STATE, SandboxState
from .tokens import KEY_VAULT_AUDIENCE, IssuedToken
from .vault import MAX_VALUE_BYTES, valid_secret_name

__all__ = ("routes",)

routes = web.RouteTableDef()

_MAX_TAGS = 15  # "up to 15 tags" per secret (about-secrets page)
_NOT_FOUND_HELP = (
    "If you recently deleted this secret you may be able to recover it using the correct recovery command. "
    "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
)


class _VaultError(Exception):
    def __init__(self, status: int, code: str, message: str, *, inner: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner, self.headers = status, code, message, inner, headers

    def response(self) -> web.Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner is not None:
            error["innererror"] = {"code": self.inner}
        return web.json_response({"error": error}, status=self.status, headers=self.headers)


def _vault_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _challenge(request: web.Request) -> dict[str, str]:
    authority = f"{_vault_url(request)}/{DEMO.partner_tenant_id}"
    return {"WWW-Authenticate": f'Bearer authorization="{authority}", resource="{KEY_VAULT_AUDIENCE}"'}


def _admit(request: web.Request, action: str) -> SandboxState:
    """TLS, api-version, bearer token, audience, tenant, role: the checks before any vault work."""
    state = request.app[STATE]
    if request.scheme != "https":
        raise _VaultError(400, "BadParameter", "The sandbox's Key Vault is served over HTTPS only (start the sandbox with TLS).")
    if not request.query.get("api-version"):
        raise _VaultError(400, "BadParameter", "The request URI contains an invalid or missing api-version parameter.")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _VaultError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", headers=_challenge(request))
    issued = state.tokens.find(value.strip())
    if issued is None:
        raise _VaultError(401, "Unauthorized", "The access token is unknown or has expired.", headers=_challenge(request))
    if issued.audience.rstrip("/") != KEY_VAULT_AUDIENCE:
        raise _VaultError(
            401,
            "Unauthorized",
            f"AKV10022: Invalid audience. Expected {KEY_VAULT_AUDIENCE}, found: {issued.audience}.",
            headers=_challenge(request),
        )
    if issued.tenant_id != DEMO.partner_tenant_id:
        raise _VaultError(
            401,
            "Unauthorized",
            f"AKV10032: Invalid issuer. Expected one of the issuers of tenant {DEMO.partner_tenant_id}, found: tenant {issued.tenant_id}.",
            headers=_challenge(request),
        )
    if not state.vault.role_assigned:
        raise _forbidden_by_rbac(request, issued, action)
    return state


def _forbidden_by_rbac(request: web.Request, issued: IssuedToken, action: str) -> _VaultError:
    message = (
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"
        f"Caller: appid={issued.client_id};iss=https://sts.windows.net/{issued.tenant_id}/\r\n"
        f"Action: 'Microsoft.KeyVault/vaults/secrets/{action}'\r\n"
        f"Resource: '{_vault_url(request)}'\r\n"
        "Assignment: (not found)\r\n"
        "DecisionReason: 'DeniedWithNoValidRBAC' \r\n"
    )
    return _VaultError(403, "Forbidden", message, inner="ForbiddenByRbac")


def _secret_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not valid_secret_name(name):
        raise _VaultError(
            400,
            "BadParameter",
            f"The request URI contains an invalid name: {name}. Secret names are 1-127 characters: letters, digits and dashes.",
        )
    return name


async def _handle(request: web.Request, work: Any) -> web.Response:
    try:
        return await work(request)
    except _VaultError as error:
        return error.response()


# ---- Set ----


@routes.put("/secrets/{name}")
async def set_secret(request: web.Request) -> web.Response:
    return await _handle(request, _set_secret)


async def _set_secret(request: web.Request) -> web.Response:
    state = _admit(request, "setSecret/action")
    name = _secret_name(request)
    try:
        body = json.loads(await request.text() or "null")
    except ValueError:
        raise _VaultError(400, "BadParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _VaultError(400, "BadParameter", "The request body must be a JSON object with a 'value'.")
    value, content_type = body.get("value"), body.get("contentType")
    tags, attributes = body.get("tags") or {}, body.get("attributes") or {}
    if not isinstance(value, str):
        raise _VaultError(400, "BadParameter", "Property 'value' is required and must be a string.")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise _VaultError(400, "BadParameter", f"Secret value is too large: the limit is {MAX_VALUE_BYTES} bytes.")
    if content_type is not None and not isinstance(content_type, str):
        raise _VaultError(400, "BadParameter", "Property 'contentType' must be a string.")
    if not isinstance(tags, dict) or not all(isinstance(key, str) and isinstance(item, str) for key, item in tags.items()):
        raise _VaultError(400, "BadParameter", "Property 'tags' must map names to strings.")
    if len(tags) > _MAX_TAGS:
        raise _VaultError(400, "BadParameter", f"A secret has at most {_MAX_TAGS} tags.")
    if not isinstance(attributes, dict):
        raise _VaultError(400, "BadParameter", "Property 'attributes' must be an object.")
    enabled, not_before, expires = attributes.get("enabled", True), attributes.get("nbf"), attributes.get("exp")
    if not isinstance(enabled, bool) or any(item is not None and not isinstance(item, int) for item in (not_before, expires)):
        raise _VaultError(400, "BadParameter", "Attributes: 'enabled' is a boolean, 'nbf' and 'exp' Unix seconds.")
    version = state.vault.set(name, value, content_type=content_type, tags=tags, enabled=enabled, not_before=not_before, expires=expires)
    return web.json_response(version.bundle(_vault_url(request), with_value=True))


# ---- Get ----


@routes.get("/secrets/{name}")
async def get_latest(request: web.Request) -> web.Response:
    return await _handle(request, _get_secret)


@routes.get("/secrets/{name}/versions")
async def list_versions(request: web.Request) -> web.Response:
    return await _handle(request, _list_versions)


@routes.get("/secrets/{name}/{version:[^{}/]*}")
async def get_version(request: web.Request) -> web.Response:
    return await _handle(request, _get_secret)


async def _get_secret(request: web.Request) -> web.Response:
    state = _admit(request, "getSecret/action")
    name = _secret_name(request)
    version = request.match_info.get("version", "")
    found = state.vault.get(name, version)
    if found is None:
        shown = f"{name}/{version}" if version else name
        raise _VaultError(404, "SecretNotFound", f"A secret with (name/id) {shown} was not found in this key vault. {_NOT_FOUND_HELP}")
    if not found.enabled:
        raise _VaultError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled")
    return web.json_response(found.bundle(_vault_url(request), with_value=True))


async def _list_versions(request: web.Request) -> web.Response:
    # Listing reads metadata only: the data action of a reader of secret properties.
    state = _admit(request, "readMetadata/action")
    name = _secret_name(request)
    items = [version.bundle(_vault_url(request), with_value=False) for version in state.vault.versions(name)]
    return web.json_response({"value": items, "nextLink": None})
