"""The Entra ID stand-in: discovery, grants, client authentication, token lifetime."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from pc_sandbox import DEMO

TOKEN_URL = f"/{DEMO.tenant}/oauth2/v2.0/token"


def _decode_segment(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


async def test_openid_configuration_advertises_endpoints_on_the_host_the_client_used(client):
    response = await client.get(f"/{DEMO.tenant}/v2.0/.well-known/openid-configuration")
    assert response.status == 200
    config = await response.json()
    root = f"http://{client.server.host}:{client.server.port}/{DEMO.tenant}"
    assert config["token_endpoint"] == f"{root}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{root}/oauth2/v2.0/authorize"
    assert config["issuer"] == f"{root}/v2.0"
    assert config["device_authorization_endpoint"].startswith(root)


async def test_client_credentials_issues_an_app_only_token(client):
    response = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "scope": "https://api.partnercenter.microsoft.com/.default",
        },
    )
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == 3600
    assert body["scope"] == "https://api.partnercenter.microsoft.com/.default"
    assert "refresh_token" not in body and "id_token" not in body
    customers = await client.get("/v1/customers", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert customers.status == 200


async def test_client_secret_in_basic_auth_is_accepted(client):
    basic = base64.b64encode(f"{DEMO.client_id}:{DEMO.client_secret}".encode()).decode()
    response = await client.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    assert response.status == 200


async def test_refresh_token_grant_returns_user_tokens_msal_can_cache(client):
    response = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "refresh_token": DEMO.refresh_token,
            "scope": "https://api.partnercenter.microsoft.com/user_impersonation offline_access openid profile",
            "client_info": "1",
        },
    )
    assert response.status == 200
    body = await response.json()
    # Refresh tokens rotate on every use (issue 20; Entra's refresh-tokens page): a new one comes back.
    assert body["refresh_token"] and body["refresh_token"] != DEMO.refresh_token
    assert body["scope"] == "https://api.partnercenter.microsoft.com/user_impersonation"
    claims = _decode_segment(body["id_token"].split(".")[1])
    assert claims["aud"] == DEMO.client_id
    assert claims["tid"] == DEMO.partner_tenant_id
    assert claims["preferred_username"] == "admin@sandbox-partner.onmicrosoft.com"
    assert {"iss", "sub", "oid", "name", "iat", "exp"} <= set(claims)
    assert _decode_segment(body["client_info"]) == {"uid": claims["oid"], "utid": DEMO.partner_tenant_id}
    assert "amr" not in claims  # v2.0 ID tokens carry no amr (Entra's ID token claims reference)


async def test_access_tokens_are_jwt_shaped_with_unique_values_and_still_work(client):
    """v1.0 resource tokens as Entra issues them: header.payload.signature, base64url JSON; the
    consent command reads amr, tid and oid from the payload."""
    form = {"grant_type": "refresh_token", "client_id": DEMO.client_id, "client_secret": DEMO.client_secret}
    user = [await (await client.post(TOKEN_URL, data={**form, "refresh_token": DEMO.refresh_token})).json() for _ in range(2)]
    app_form = {"grant_type": "client_credentials", "client_id": DEMO.client_id, "client_secret": DEMO.client_secret}
    app = await (await client.post(TOKEN_URL, data=app_form)).json()
    values = [body["access_token"] for body in (*user, app)]
    assert len(set(values)) == 3
    for value in values:
        header, payload, signature = value.split(".")
        assert _decode_segment(header)["typ"] == "JWT" and isinstance(_decode_segment(payload), dict) and len(signature) >= 32
    user_claims = _decode_segment(values[0].split(".")[1])
    assert user_claims["aud"] == "https://api.partnercenter.microsoft.com"
    assert user_claims["tid"] == DEMO.partner_tenant_id and user_claims["oid"] == DEMO.user_object_id
    assert "mfa" in user_claims["amr"] and user_claims["exp"] - user_claims["iat"] == 3600
    assert len({_decode_segment(value.split(".")[1])["jti"] for value in values}) == 3
    app_claims = _decode_segment(values[2].split(".")[1])
    assert "amr" not in app_claims and app_claims["oid"] != DEMO.user_object_id and app_claims["appid"] == DEMO.client_id
    # The sandbox still looks each one up by its whole value: a forged payload is refused.
    assert (await client.get("/v1/customers/relationshiprequests", headers={"Authorization": f"Bearer {values[0]}"})).status == 200
    forged = ".".join((values[2].split(".")[0], values[0].split(".")[1], values[2].split(".")[2]))
    assert (await client.get("/v1/customers", headers={"Authorization": f"Bearer {forged}"})).status == 401


async def test_bad_client_secret_is_invalid_client(client):
    response = await client.post(TOKEN_URL, data={"grant_type": "client_credentials", "client_id": DEMO.client_id, "client_secret": "nope"})
    assert response.status == 401
    body = await response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215")


async def test_unknown_client_is_invalid_client(client):
    response = await client.post(TOKEN_URL, data={"grant_type": "client_credentials", "client_id": "someone-else", "client_secret": "x"})
    assert response.status == 401
    assert (await response.json())["error"] == "invalid_client"


async def test_bad_refresh_token_is_invalid_grant(client):
    response = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "refresh_token": "stolen-or-revoked",
        },
    )
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_grant"


async def test_unknown_tenant_is_rejected_by_token_and_discovery_endpoints(client):
    token = await client.post(
        "/contoso-typo/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": DEMO.client_id, "client_secret": DEMO.client_secret},
    )
    assert token.status == 400
    body = await token.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"].startswith("AADSTS90002: Tenant 'contoso-typo' not found")
    discovery = await client.get("/contoso-typo/v2.0/.well-known/openid-configuration")
    assert discovery.status == 400


async def test_partner_tenant_guid_is_a_known_tenant(client):
    response = await client.post(
        f"/{DEMO.partner_tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": DEMO.client_id, "client_secret": DEMO.client_secret},
    )
    assert response.status == 200


async def test_unsupported_grant_type(client):
    response = await client.post(
        TOKEN_URL, data={"grant_type": "password", "client_id": DEMO.client_id, "client_secret": DEMO.client_secret}
    )
    assert response.status == 400
    assert (await response.json())["error"] == "unsupported_grant_type"


async def test_tokens_expire_by_the_sandbox_clock(client, clock, user_headers):
    assert (await client.get("/v1/customers", headers=user_headers)).status == 200
    clock.advance(timedelta(minutes=61))
    response = await client.get("/v1/customers", headers=user_headers)
    assert response.status == 401
    assert (await response.json())["code"] == 400
