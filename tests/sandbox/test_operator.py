"""The /_sandbox controls: reset, summary, adding/reactivating/touching subscriptions."""

from __future__ import annotations

from ._helpers import CONTOSO, FABRIKAM, NORTHWIND, WINGTIP, error_code, patch_subscription, subscription_where


async def test_reset_restores_the_seed_clears_the_log_and_keeps_tokens(client, user_headers):
    body = {"relationshipToPartner": "none", "attributes": {"objectType": "Customer"}}
    assert (await client.patch(f"/v1/customers/{FABRIKAM}", json=body, headers=user_headers)).status == 200
    reset = await client.post("/_sandbox/reset")
    assert reset.status == 200
    assert (await (await client.get("/_sandbox/requests")).json())["items"] == []
    customer = await client.get(f"/v1/customers/{FABRIKAM}", headers=user_headers)
    assert customer.status == 200  # the old token still works
    assert (await customer.json())["relationshipToPartner"] == "reseller"


async def test_summary_lists_every_customer(client):
    body = await (await client.get("/_sandbox/customers")).json()
    assert len(body["items"]) == 13
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[CONTOSO]["companyName"] == "Contoso Ltd"
    assert by_id[CONTOSO]["blockers"] == 6
    assert by_id[NORTHWIND]["relationshipToPartner"] == "none"
    assert by_id[FABRIKAM]["subscriptionsByStatus"] == {"suspended": 1, "deleted": 1, "expired": 1}


def _without_attributes(item: dict) -> dict:
    return {key: value for key, value in item.items() if key != "attributes"}


async def test_touch_makes_a_held_etag_stale(client, user_headers):
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    touched = await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions/{legacy['id']}/touch")
    assert touched.status == 200
    fresh = await touched.json()
    assert fresh["attributes"]["etag"] != legacy["attributes"]["etag"]
    assert _without_attributes(fresh) == _without_attributes(legacy)  # nothing but the etag changed
    response = await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")
    assert response.status == 400 and error_code(await response.json()) == 2055


async def test_add_subscription_with_defaults(client, user_headers):
    response = await client.post(
        f"/_sandbox/customers/{WINGTIP}/subscriptions",
        json={"offer": "M365_BP_NCE", "quantity": 3, "creationDate": "now-1d"},
    )
    assert response.status == 201
    added = await response.json()
    assert added["productType"]["id"] == "OnlineServicesNCE"
    assert added["status"] == "active" and added["quantity"] == 3
    assert added["cancellationAllowedUntilDate"] == "2026-03-08T09:00:00Z"
    assert await subscription_where(client, user_headers, WINGTIP, id=added["id"]) == added
    explicit = await client.post(
        f"/_sandbox/customers/{WINGTIP}/subscriptions",
        json={"offerName": "Visio Plan 2", "productType": {"id": "OnlineServices"}, "quantity": 2},
    )
    assert explicit.status == 201
    assert (await explicit.json())["offerName"] == "Visio Plan 2"
    assert (await client.post(f"/_sandbox/customers/{WINGTIP}/subscriptions", json={"offer": "NOPE"})).status == 400
    assert (await client.post("/_sandbox/customers/unknown/subscriptions", json={})).status == 404


async def test_reactivate_brings_back_a_deleted_subscription(client, user_headers):
    deleted = await subscription_where(client, user_headers, FABRIKAM, status="deleted")
    response = await client.post(f"/_sandbox/customers/{FABRIKAM}/subscriptions/{deleted['id']}/reactivate")
    assert response.status == 200
    assert (await response.json())["status"] == "active"


async def test_fault_requests_are_validated_and_listed(client):
    assert (await client.post("/_sandbox/faults", json={"status": 418})).status == 400
    assert (await client.post("/_sandbox/faults", json={"count": 0})).status == 400
    assert (await client.post("/_sandbox/faults", json={"when": "during"})).status == 400
    await client.post("/_sandbox/faults", json={"count": 2, "status": 500})
    listed = await (await client.get("/_sandbox/faults")).json()
    assert listed["items"] == [{"count": 2, "status": 500, "when": "before", "pathContains": None, "method": None}]
    await client.delete("/_sandbox/faults")
    assert (await (await client.get("/_sandbox/faults")).json())["items"] == []
