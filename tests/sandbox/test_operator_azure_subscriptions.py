"""/_sandbox: a customer creates an Azure subscription under its Azure plan (Azure portal)."""

from __future__ import annotations

from ._helpers import CONTOSO, WINGTIP, patch_subscription, subscription_where


async def _azure_plan(client, headers, customer: str) -> dict:
    return await subscription_where(client, headers, customer, productType="Azure")


async def _entitlements(client, headers, customer: str, plan_id: str) -> list[dict]:
    response = await client.get(f"/v1/customers/{customer}/subscriptions/{plan_id}/azureEntitlements", headers=headers)
    assert response.status == 200
    return (await response.json())["items"]


async def test_an_azure_subscription_created_under_a_plan_is_active_and_blocks_its_suspension(client, user_headers):
    plan = await _azure_plan(client, user_headers, WINGTIP)
    assert [e["status"] for e in await _entitlements(client, user_headers, WINGTIP, plan["id"])] == ["cancelled"]
    response = await client.post(
        f"/_sandbox/customers/{WINGTIP}/subscriptions/{plan['id']}/azureEntitlements",
        json={"id": "9E1F0000-0000-4000-8000-00000000A2B1", "friendlyName": "Wingtip Analytics"},
    )
    assert response.status == 201
    added = await response.json()
    assert (added["id"], added["friendlyName"], added["status"]) == ("9e1f0000-0000-4000-8000-00000000a2b1", "Wingtip Analytics", "active")
    assert added in await _entitlements(client, user_headers, WINGTIP, plan["id"])
    # Partner Center now refuses to suspend the plan (403), as for any plan with an active one.
    refused = await patch_subscription(client, user_headers, WINGTIP, plan, status="suspended")
    assert refused.status == 403
    # Without an id, one is made up; a second one with the same id is refused.
    again = await client.post(f"/_sandbox/customers/{WINGTIP}/subscriptions/{plan['id']}/azureEntitlements")
    assert again.status == 201 and (await again.json())["id"] != added["id"]
    duplicate = await client.post(f"/_sandbox/customers/{WINGTIP}/subscriptions/{plan['id']}/azureEntitlements", json={"id": added["id"]})
    assert duplicate.status == 400


async def test_only_an_azure_plan_takes_azure_subscriptions(client, user_headers):
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    response = await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions/{legacy['id']}/azureEntitlements", json={})
    assert response.status == 400
    missing = await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions/nope/azureEntitlements", json={})
    assert missing.status == 404
    bad = await client.post(f"/_sandbox/customers/{WINGTIP}/subscriptions/x/azureEntitlements", json={"id": 7})
    assert bad.status == 400
