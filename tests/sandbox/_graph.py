"""Graph helpers for the sandbox tests: tokens for the partner or a customer tenant, and the
ids of the Graph demo data (seed.json → "graph")."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from pc_sandbox import DEMO

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
RELATIONSHIPS = "/graph/v1.0/tenantRelationships/delegatedAdminRelationships"
PARTNER_DOMAIN = "sandbox-partner.onmicrosoft.com"


async def graph_token(client: TestClient, *, tenant: str = DEMO.tenant, app_only: bool = False, scope: str = GRAPH_SCOPE) -> str:
    form = {"client_id": DEMO.client_id, "client_secret": DEMO.client_secret, "scope": scope}
    if app_only:
        form["grant_type"] = "client_credentials"
    else:
        form.update(grant_type="refresh_token", refresh_token=DEMO.refresh_token)
    response = await client.post(f"/{tenant}/oauth2/v2.0/token", data=form)
    assert response.status == 200, await response.text()
    return (await response.json())["access_token"]


async def graph_headers(client: TestClient, *, tenant: str = DEMO.tenant, app_only: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {await graph_token(client, tenant=tenant, app_only=app_only)}"}


def graph_error(body: dict[str, Any]) -> str:
    """The Graph error code, after checking the whole error shape."""
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "innerError"}, error
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}, error
    return error["code"]


async def relationships_of(client: TestClient, headers: dict[str, str], tenant_id: str) -> list[dict[str, Any]]:
    response = await client.get(RELATIONSHIPS, params={"$filter": f"customer/tenantId eq '{tenant_id}'"}, headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["value"]


async def relationship_named(client: TestClient, headers: dict[str, str], tenant_id: str, name: str) -> dict[str, Any]:
    found = [item for item in await relationships_of(client, headers, tenant_id) if item["displayName"] == name]
    assert len(found) == 1, found
    return found[0]
