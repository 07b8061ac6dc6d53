"""Graph ``GET /me/memberOf`` on the sandbox (learn.microsoft.com/graph/api/user-list-memberof):
the demo admin agent's groups in the partner tenant, and the operator switch that takes the
Admin agent role away."""

from __future__ import annotations

from ._graph import graph_error, graph_headers

MEMBER_OF = "/graph/v1.0/me/memberOf"


async def test_the_demo_user_is_an_admin_agent_and_not_a_sales_agent(client):
    response = await client.get(MEMBER_OF, headers=await graph_headers(client))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["@odata.context"].startswith("https://graph.microsoft.com/v1.0/$metadata#")
    names = [item["displayName"] for item in body["value"]]
    assert "AdminAgents" in names and "SalesAgents" not in names
    [group] = [item for item in body["value"] if item["displayName"] == "AdminAgents"]
    assert group["@odata.type"] == "#microsoft.graph.group" and group["id"]


async def test_select_keeps_only_the_named_properties(client):
    response = await client.get(MEMBER_OF, params={"$select": "displayName"}, headers=await graph_headers(client))
    assert response.status == 200
    [group] = (await response.json())["value"]
    assert set(group) == {"@odata.type", "id", "displayName"} and group["displayName"] == "AdminAgents"


async def test_the_operator_takes_the_admin_agent_role_away_and_a_reset_gives_it_back(client):
    headers = await graph_headers(client)
    switched = await client.put("/_sandbox/graph/adminAgent", json={"assigned": False})
    assert switched.status == 200 and (await switched.json()) == {"assigned": False}
    names = [item["displayName"] for item in (await (await client.get(MEMBER_OF, headers=headers)).json())["value"]]
    assert names == ["SalesAgents"]
    assert (await (await client.get("/_sandbox/graph/adminAgent")).json()) == {"assigned": False}
    await client.post("/_sandbox/reset")
    names = [item["displayName"] for item in (await (await client.get(MEMBER_OF, headers=headers)).json())["value"]]
    assert names == ["AdminAgents"]


async def test_an_app_only_token_has_no_me(client):
    response = await client.get(MEMBER_OF, headers=await graph_headers(client, app_only=True))
    assert response.status == 400
    assert graph_error(await response.json()) == "BadRequest"


async def test_a_partner_center_token_is_refused(client, user_headers):
    response = await client.get(MEMBER_OF, headers=user_headers)
    assert response.status == 401
    assert graph_error(await response.json()) == "InvalidAuthenticationToken"


async def test_without_a_directory_read_permission_graph_refuses(client):
    await client.put("/_sandbox/graph/permissions", json={"granted": ["DelegatedAdminRelationship.ReadWrite.All"]})
    response = await client.get(MEMBER_OF, headers=await graph_headers(client))
    assert response.status == 403
    assert graph_error(await response.json()) == "Authorization_RequestDenied"
