"""Customer-tenant Graph calls through GDAP: organization contacts, guests, service principals;
403 on a missing permission or GDAP role; audience and tenant checks on both APIs."""

from __future__ import annotations

import base64
import json

import pytest

from pc_sandbox import DEMO
from pc_sandbox.state import STATE

from ._graph import PARTNER_DOMAIN, RELATIONSHIPS, graph_error, graph_headers, graph_token, relationships_of
from ._helpers import CONTOSO, FABRIKAM, WINGTIP, fetch_token


@pytest.fixture
async def fabrikam(client) -> dict[str, str]:
    return await graph_headers(client, tenant=FABRIKAM)


async def test_organization_contacts_read_and_update(client, fabrikam):
    response = await client.get("/graph/v1.0/organization", headers=fabrikam)
    assert response.status == 200
    [organization] = (await response.json())["value"]
    assert organization["id"] == FABRIKAM
    assert f"support@{PARTNER_DOMAIN}" in organization["technicalNotificationMails"]
    assert organization["securityComplianceNotificationMails"] == [f"security@{PARTNER_DOMAIN}"]
    assert organization["privacyProfile"]["contactEmail"] == f"privacy@{PARTNER_DOMAIN}"
    change = {
        "technicalNotificationMails": ["it@fabrikam.com"],
        "securityComplianceNotificationMails": [],
        "privacyProfile": {"contactEmail": None, "statementUrl": "https://www.fabrikam.com/privacy"},
    }
    patched = await client.patch(f"/graph/v1.0/organization/{FABRIKAM}", json=change, headers=fabrikam)
    assert patched.status == 204
    [after] = (await (await client.get("/graph/v1.0/organization", headers=fabrikam)).json())["value"]
    assert after["technicalNotificationMails"] == ["it@fabrikam.com"]
    assert after["securityComplianceNotificationMails"] == []
    assert after["marketingNotificationEmails"] == ["marketing@fabrikam.com"]  # untouched
    assert after["privacyProfile"] == {"contactEmail": None, "statementUrl": "https://www.fabrikam.com/privacy"}
    other = await client.patch(f"/graph/v1.0/organization/{CONTOSO}", json=change, headers=fabrikam)
    assert other.status == 404 and graph_error(await other.json()) == "Request_ResourceNotFound"


async def test_guests_are_listed_and_deleted(client, fabrikam):
    response = await client.get(
        "/graph/v1.0/users", params={"$filter": "userType eq 'Guest'", "$select": "id,mail,userType"}, headers=fabrikam
    )
    assert response.status == 200
    guests = (await response.json())["value"]
    assert all(set(guest) == {"id", "mail", "userType"} and guest["userType"] == "Guest" for guest in guests)
    partner_guests = [guest for guest in guests if guest["mail"].endswith("@" + PARTNER_DOMAIN)]
    assert len(partner_guests) == 2 and len(guests) == 3
    full = (await (await client.get("/graph/v1.0/users", params={"$filter": "userType eq 'Guest'"}, headers=fabrikam)).json())["value"]
    assert {"id", "displayName", "mail", "userPrincipalName", "userType", "externalUserState"} == set(full[0])
    assert "#EXT#@fabrikam.onmicrosoft.com" in full[0]["userPrincipalName"]
    deleted = await client.delete(f"/graph/v1.0/users/{partner_guests[0]['id']}", headers=fabrikam)
    assert deleted.status == 204
    again = await client.delete(f"/graph/v1.0/users/{partner_guests[0]['id']}", headers=fabrikam)
    assert again.status == 404 and graph_error(await again.json()) == "Request_ResourceNotFound"
    left = (await (await client.get("/graph/v1.0/users", params={"$filter": "userType eq 'Guest'"}, headers=fabrikam)).json())["value"]
    assert len(left) == 2


async def test_partner_service_principals_are_listed_and_deleted(client, fabrikam):
    params = {"$filter": f"appOwnerOrganizationId eq {DEMO.partner_tenant_id}"}
    principals = (await (await client.get("/graph/v1.0/servicePrincipals", params=params, headers=fabrikam)).json())["value"]
    assert [item["appOwnerOrganizationId"] for item in principals] == [DEMO.partner_tenant_id]
    assert set(principals[0]) == {"id", "appId", "displayName", "appOwnerOrganizationId"}
    assert (await client.delete(f"/graph/v1.0/servicePrincipals/{principals[0]['id']}", headers=fabrikam)).status == 204
    assert (await (await client.get("/graph/v1.0/servicePrincipals", params=params, headers=fabrikam)).json())["value"] == []


async def test_missing_gdap_role_is_403(client):
    contoso = await graph_headers(client, tenant=CONTOSO)  # the MLT_ relationship: no GA, no app admin
    assert (await client.get("/graph/v1.0/users", headers=contoso)).status == 200
    refused = await client.patch(f"/graph/v1.0/organization/{CONTOSO}", json={"technicalNotificationMails": []}, headers=contoso)
    assert refused.status == 403
    body = await refused.json()
    assert graph_error(body) == "Authorization_RequestDenied"
    assert body["error"]["message"] == "Insufficient privileges to complete the operation."
    assert (await client.delete("/graph/v1.0/servicePrincipals/anything", headers=contoso)).status == 403
    wingtip = await graph_headers(client, tenant=WINGTIP)  # no GDAP at all
    response = await client.get("/graph/v1.0/organization", headers=wingtip)
    assert response.status == 403 and graph_error(await response.json()) == "Authorization_RequestDenied"


async def test_terminated_relationships_grant_nothing(client, fabrikam):
    partner = await graph_headers(client)
    for relationship in await relationships_of(client, partner, FABRIKAM):
        response = await client.post(f"{RELATIONSHIPS}/{relationship['id']}/requests", json={"action": "terminate"}, headers=partner)
        assert response.status == 201
    assert (await client.get("/graph/v1.0/organization", headers=fabrikam)).status == 403


async def test_missing_permission_is_403_until_granted_or_reset(client, fabrikam):
    revoked = await client.delete("/_sandbox/graph/permissions/User.ReadWrite.All")
    assert "User.ReadWrite.All" not in (await revoked.json())["granted"]
    guests = (await (await client.get("/graph/v1.0/users", headers=fabrikam)).json())["value"]  # Directory.Read.All still reads
    response = await client.delete(f"/graph/v1.0/users/{guests[0]['id']}", headers=fabrikam)
    assert response.status == 403 and graph_error(await response.json()) == "Authorization_RequestDenied"
    await client.delete("/_sandbox/graph/permissions/DelegatedAdminRelationship.ReadWrite.All")
    partner = await graph_headers(client)
    assert (await client.get(RELATIONSHIPS, headers=partner)).status == 403
    await client.post("/_sandbox/graph/permissions/DelegatedAdminRelationship.Read.All")
    assert (await client.get(RELATIONSHIPS, headers=partner)).status == 200
    await client.post("/_sandbox/reset")
    granted = (await (await client.get("/_sandbox/graph/permissions")).json())["granted"]
    assert "User.ReadWrite.All" in granted and "DelegatedAdminRelationship.ReadWrite.All" in granted
    assert (await client.delete(f"/graph/v1.0/users/{guests[0]['id']}", headers=fabrikam)).status == 204


async def test_replace_permissions_validates(client):
    assert (await client.put("/_sandbox/graph/permissions", json={"granted": "all"})).status == 400
    response = await client.put("/_sandbox/graph/permissions", json={"granted": ["Directory.Read.All"]})
    assert (await response.json()) == {"granted": ["Directory.Read.All"]}


# ---- Audience and tenant ----


async def test_partner_center_token_is_refused_by_graph(client, user_headers):
    response = await client.get(RELATIONSHIPS, headers=user_headers)
    assert response.status == 401
    assert graph_error(await response.json()) == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in response.headers
    assert (await client.get(RELATIONSHIPS)).status == 401
    assert (await client.get(RELATIONSHIPS, headers={"Authorization": "Bearer nope"})).status == 401


async def test_graph_token_is_refused_by_partner_center(client):
    for tenant in (DEMO.tenant, FABRIKAM):
        response = await client.get("/v1/customers", headers=await graph_headers(client, tenant=tenant))
        assert response.status == 401
        assert (await response.json())["code"] == 400


async def test_wrong_tenant_is_401(client, fabrikam):
    partner = await graph_headers(client)
    response = await client.get("/graph/v1.0/organization", headers=partner)
    assert response.status == 401 and graph_error(await response.json()) == "InvalidAuthenticationToken"
    response = await client.get(RELATIONSHIPS, headers=fabrikam)
    assert response.status == 401 and graph_error(await response.json()) == "InvalidAuthenticationToken"


async def test_customer_tenant_tokens_say_so(client):
    response = await client.post(
        f"/{FABRIKAM}/oauth2/v2.0/token",
        data={
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": DEMO.refresh_token,
            "scope": "https://graph.microsoft.com/.default offline_access openid profile",
        },
    )
    body = await response.json()
    assert body["scope"] == "https://graph.microsoft.com/.default"
    claims = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[1] + "=="))
    assert claims["tid"] == FABRIKAM
    issued = client.app[STATE].tokens.find(body["access_token"])
    assert (issued.tenant_id, issued.audience) == (FABRIKAM, "https://graph.microsoft.com")
    unknown = await client.post("/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token", data={"grant_type": "client_credentials"})
    assert unknown.status == 400


async def test_app_only_graph_token_is_403_and_mixed_scopes_are_refused(client):
    app_only = await graph_headers(client, app_only=True)
    response = await client.get(RELATIONSHIPS, headers=app_only)
    assert response.status == 403 and graph_error(await response.json()) == "Authorization_RequestDenied"
    mixed = await client.post(
        f"/{DEMO.tenant}/oauth2/v2.0/token",
        data={
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default https://api.partnercenter.microsoft.com/.default",
        },
    )
    assert mixed.status == 400 and (await mixed.json())["error"] == "invalid_scope"
    assert await graph_token(client)  # and the plain forms still work
    assert await fetch_token(client, app_only=True)
