"""The sandbox's stand-in for Entra ID, and the bearer-token checks on ``/v1``.

Routes (what MSAL 1.39 calls, read from its ``authority.py`` and ``oauth2cli``):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` - tenant discovery;
  MSAL requires ``authorization_endpoint`` and ``token_endpoint``.
- ``POST /{tenant}/oauth2/v2.0/token`` - ``client_credentials`` (app-only),
  ``authorization_code`` (App+User, after the sign-in pages of ``signin.py``, with PKCE) and
  ``refresh_token`` (App+User, rotating: ``refresh_tokens.py``), with a client secret or a
  certificate assertion. ``{tenant}`` is the partner's (``sandbox`` or its GUID) or a customer
  tenant of the world (GDAP calls); the token's ``tid`` is that tenant, its ``aud`` the resource
  of the requested scope: Partner Center (the default), Microsoft Graph
  (``https://graph.microsoft.com/...``) or Key Vault (``https://vault.azure.net/...``).
- ``GET /common/discovery/instance`` - for clients that point MSAL's
  ``instance_discovery`` here instead of turning it off.

MSAL insists on an ``https`` authority, so a client using MSAL needs the
sandbox served over TLS (``running_sandbox(ssl_context=...)``, ``--certfile``).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from . import errors
from .auth_codes import pkce_challenge
from .client_auth import ClientAuthError, authenticate_client
from .demo import DEMO
from .errors import ApiFault
from .refresh_tokens import RefreshRefused, SignIn
from .state import CALLER, STATE, SandboxState
from .tokens import ACCESS_TOKEN_LIFETIME, GRAPH_AUDIENCE, KEY_VAULT_AUDIENCE, PARTNER_CENTER_AUDIENCE, IssuedToken

__all__ = ("authenticate_bearer", "require_app_user", "routes", "tenant_id_for")

routes = web.RouteTableDef()

_PARTNER_CENTER = PARTNER_CENTER_AUDIENCE
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
_APP_ONLY_SCOPE = f"{_PARTNER_CENTER}/.default"
_DELEGATED_SCOPE = f"{_PARTNER_CENTER}/user_impersonation"
# chosen: the realm Partner Center puts in WWW-Authenticate is documented only
# as "urn:cpsvc:cpid:{some cid}" (reference §12).
_WWW_AUTHENTICATE = f"OAuth realm=urn:cpsvc:cpid:{DEMO.partner_tenant_id}"


def tenant_id_for(state: SandboxState, tenant: str) -> str | None:
    """The ``tid`` for the tenant segment of the URL: the partner's, a customer's, or ``None``."""
    tenant = tenant.lower()
    if tenant in (DEMO.tenant.lower(), DEMO.partner_tenant_id):
        return DEMO.partner_tenant_id
    # A partner user signs in to a customer tenant through GDAP (authority /{customer tenant id}).
    if state.graph.is_customer_tenant(tenant):
        return tenant
    return None


def _audience(scopes: list[str]) -> str | None:
    """The one resource the scopes name (Entra: one resource per token); ``None`` if several.

    ``https://graph.microsoft.com/...`` and bare Graph permission names (``User.Read``) are
    Graph; ``https://vault.azure.net/...`` is Key Vault; anything else stays Partner Center, as
    the sandbox always answered.
    """
    audiences = {_scope_audience(scope) for scope in scopes}
    if len(audiences) > 1:
        return None
    return audiences.pop() if audiences else _PARTNER_CENTER


def _scope_audience(scope: str) -> str:
    lowered = scope.lower()
    if lowered.startswith(GRAPH_AUDIENCE) or "://" not in scope:
        return GRAPH_AUDIENCE
    if lowered.startswith(KEY_VAULT_AUDIENCE):
        return KEY_VAULT_AUDIENCE
    return _PARTNER_CENTER


def _base_url(request: web.Request) -> str:
    """Scheme and host as the client reached us, so advertised URLs work from its side."""
    return f"{request.scheme}://{request.host}"


def _oauth_error(request: web.Request, status: int, error: str, code: int, description: str, *, prefixed: bool = True) -> web.Response:
    body = {
        "error": error,
        "error_description": description if prefixed else f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": request.headers.get("client-request-id", str(uuid.uuid4())),
    }
    return web.json_response(body, status=status)


def _tenant_not_found(request: web.Request, tenant: str) -> web.Response:
    return _oauth_error(
        request,
        400,
        "invalid_request",
        90002,
        f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud.",
    )


@routes.get("/{tenant}/v2.0/.well-known/openid-configuration")
async def openid_configuration(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    if tenant_id_for(request.app[STATE], tenant) is None:
        return _tenant_not_found(request, tenant)
    root = f"{_base_url(request)}/{tenant}"
    return web.json_response(
        {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "tenant_region_scope": "WW",
            "cloud_instance_name": "sandbox.local",
        }
    )


@routes.get("/common/discovery/instance")
async def instance_discovery(request: web.Request) -> web.Response:
    authorize = request.query.get("authorization_endpoint", "")
    tenant = authorize.split("/")[3] if authorize.count("/") >= 4 else DEMO.tenant
    return web.json_response(
        {
            "tenant_discovery_endpoint": f"{_base_url(request)}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [],
        }
    )


@routes.post("/{tenant}/oauth2/v2.0/token")
async def token(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    state = request.app[STATE]
    tenant_id = tenant_id_for(state, tenant)
    if tenant_id is None:
        return _tenant_not_found(request, tenant)
    form = {key: str(value) for key, value in (await request.post()).items()}
    secrets = {DEMO.client_id: DEMO.client_secret}
    try:
        client_id = authenticate_client(
            form,
            request.headers.get("Authorization"),
            secrets=secrets,
            certificates=state.options.client_certificates,
        )
    except ClientAuthError as exc:
        return _oauth_error(request, exc.status, exc.error, exc.code, exc.description)
    grant_type = form.get("grant_type", "")
    audience = _audience(_requested_scopes(form))
    if audience is None:
        return _oauth_error(
            request,
            400,
            "invalid_scope",
            28000,
            "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource.",
        )
    if grant_type == "client_credentials":
        issued = state.tokens.issue(client_id=client_id, tenant_id=tenant_id, app_only=True, audience=audience)
        return web.json_response(_token_body(issued, _granted_scope(form, _APP_ONLY_SCOPE)))
    if grant_type == "refresh_token":
        try:
            sign_in, mfa, rotated = state.refresh_tokens.redeem(
                form.get("refresh_token", ""), client_id=client_id, seeded_mfa=state.options.user_mfa
            )
        except RefreshRefused as refused:
            return _oauth_error(request, 400, refused.error, refused.code, refused.description, prefixed=True)
        issued = state.tokens.issue(client_id=client_id, tenant_id=tenant_id, app_only=False, mfa=mfa, audience=audience)
        body = _token_body(issued, _granted_scope(form, _DELEGATED_SCOPE))
        body.update(_user_tokens(request, client_id, tenant_id, sign_in, mfa=mfa, refresh_token=rotated.value, nonce=None))
        return web.json_response(body)
    if grant_type == "authorization_code":
        return _redeem_code(request, state, form, client_id, tenant_id)
    return _oauth_error(
        request,
        400,
        "unsupported_grant_type",
        70003,
        f"AADSTS70003: The app requested an unsupported grant type '{grant_type}'.",
    )


def _requested_scopes(form: Mapping[str, str]) -> list[str]:
    return [scope for scope in form.get("scope", "").split() if scope not in _RESERVED_SCOPES]


def _granted_scope(form: Mapping[str, str], default: str) -> str:
    return " ".join(_requested_scopes(form)) or default


def _token_body(issued: IssuedToken, scope: str) -> dict[str, Any]:
    lifetime = int(ACCESS_TOKEN_LIFETIME.total_seconds())
    return {
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": issued.value,
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _user_tokens(
    request: web.Request,
    client_id: str,
    tenant_id: str,
    sign_in: SignIn,
    *,
    mfa: bool,
    refresh_token: str,
    nonce: str | None,
) -> dict[str, str]:
    """What MSAL needs to file an account in its cache: ``id_token``, ``client_info``, and the
    new (rotated) ``refresh_token``.

    The id_token is unsigned (``alg: none``): MSAL only decodes it (oidc.py). Its ``tid`` is
    the tenant signed in to (a customer's, for GDAP); ``client_info`` names the user's home
    tenant, the partner's, as Entra does for a partner user in a customer tenant. ``auth_time``
    is the interactive sign-in the tokens descend from; ``nonce`` is echoed after ``/authorize``
    (OpenID Connect Core §2).
    """
    issued_at = int(request.app[STATE].clock.now().timestamp())
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": f"{_base_url(request)}/{tenant_id}/v2.0",
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "auth_time": int(sign_in.auth_time.timestamp()),
        "name": DEMO.display_name,
        "oid": DEMO.user_object_id,
        "preferred_username": DEMO.username,
        "sub": DEMO.user_object_id,
        "tid": tenant_id,
        "ver": "2.0",
        # No "amr": Entra's v2.0 ID tokens do not carry it (the ID token claims reference,
        # https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference, has no
        # amr row); whether the sign-in had MFA is in the access token's amr (pc_sandbox/tokens.py).
    }
    if nonce is not None:
        claims["nonce"] = nonce
    header = {"typ": "JWT", "alg": "none"}
    id_token = ".".join((_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()), ""))
    client_info = _b64url(json.dumps({"uid": DEMO.user_object_id, "utid": DEMO.partner_tenant_id}).encode())
    return {"refresh_token": refresh_token, "id_token": id_token, "client_info": client_info}


def _redeem_code(request: web.Request, state: SandboxState, form: Mapping[str, str], client_id: str, tenant_id: str) -> web.Response:
    """``grant_type=authorization_code``: the code from ``/authorize``, once, with its PKCE verifier.

    Codes: ``AADSTS70008`` expired, ``AADSTS54005`` already redeemed, ``AADSTS501481`` verifier
    mismatch (reference-error-codes page); a wrong redirect_uri, client or tenant is the generic
    ``AADSTS70000`` invalid grant (assumption: Entra's exact code for each is not relied on).
    """
    code, redeemed = state.signin.take(form.get("code", ""))
    if redeemed:
        return _oauth_error(
            request,
            400,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            prefixed=False,
        )
    if code is None:
        return _oauth_error(request, 400, "invalid_grant", 70000, "Provided grant is invalid or malformed.", prefixed=False)
    if code.expires_at <= state.clock.now():
        return _oauth_error(
            request,
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive "
            "authorization request for this user and resource.",
            prefixed=False,
        )
    if code.client_id != client_id or code.tenant_id != tenant_id:
        return _oauth_error(
            request,
            400,
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed: the code was issued to another client or tenant.",
            prefixed=False,
        )
    if form.get("redirect_uri", "") != code.redirect_uri:
        return _oauth_error(
            request,
            400,
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed: the redirect_uri does not match the one of the authorization request.",
            prefixed=False,
        )
    verifier = form.get("code_verifier", "")
    if not verifier or pkce_challenge(verifier) != code.code_challenge:
        return _oauth_error(
            request,
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            prefixed=False,
        )
    if state.refresh_tokens.mfa_required_for(code.sign_in):
        return _oauth_error(
            request,
            400,
            "interaction_required",
            50076,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use "
            "multi-factor authentication to access 'https://api.partnercenter.microsoft.com'.",
            prefixed=False,
        )
    scopes = _requested_scopes(form) or [scope for scope in code.scope.split() if scope not in _RESERVED_SCOPES]
    audience = _audience(scopes)
    if audience is None:
        return _oauth_error(
            request,
            400,
            "invalid_scope",
            28000,
            "Provided value for the input parameter scope is not valid because it contains more than one resource.",
            prefixed=False,
        )
    mfa = bool(code.sign_in.mfa)
    issued = state.tokens.issue(client_id=client_id, tenant_id=tenant_id, app_only=False, mfa=mfa, audience=audience)
    refresh = state.refresh_tokens.issue(code.sign_in)
    body = _token_body(issued, " ".join(scopes) or _DELEGATED_SCOPE)
    body.update(_user_tokens(request, client_id, tenant_id, code.sign_in, mfa=mfa, refresh_token=refresh.value, nonce=code.nonce))
    return web.json_response(body)


def authenticate_bearer(request: web.Request, state: SandboxState) -> IssuedToken:
    """The caller's token, or the 401 Partner Center answers (reference §12)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    challenge = {"WWW-Authenticate": _WWW_AUTHENTICATE}
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiFault(401, errors.TOKEN_MISSING, "Partner Token missing in request context", headers=challenge)
    issued = state.tokens.find(value.strip())
    if issued is None:
        raise ApiFault(401, errors.ACCESS_DENIED, "Access denied", headers=challenge)
    if issued.audience != PARTNER_CENTER_AUDIENCE or issued.tenant_id != DEMO.partner_tenant_id:
        # A Graph token, or one issued in a customer tenant: not Partner Center's. The exact
        # answer is undocumented; the same 401 as an unknown token (ASSUMPTION).
        raise ApiFault(401, errors.ACCESS_DENIED, "Access denied", headers=challenge)
    if state.options.mfa_enforced and not issued.app_only and not issued.mfa:
        # App+user calls without an MFA claim: "a 401 response code and 900421 error code"
        # (Microsoft's 2026 enforcement as summarised by cloudcockpit.com/blog/
        # mfa-enforcement-partner-center-apis; to be confirmed on learn.microsoft.com).
        raise ApiFault(
            401,
            errors.MFA_REQUIRED,
            "Multi-factor authentication is required: the app+user token has no MFA claim.",
            headers=challenge,
        )
    return issued


def require_app_user(request: web.Request) -> None:
    """Refuse app-only tokens for the operations Partner Center allows only to App+User."""
    issued = request[CALLER]
    if issued.app_only:
        raise ApiFault(
            403,
            errors.APP_USER_REQUIRED,
            "Access denied. This operation requires App+User authentication; app-only (client credentials) tokens are not supported.",
        )
