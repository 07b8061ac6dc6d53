"""Throttling, injected faults, idempotent replay, latency and the request log."""

from __future__ import annotations

import asyncio
import time

from ._helpers import CONTOSO, FABRIKAM, error_code, patch_subscription, subscription_where, user_headers_for


async def test_rate_limit_answers_429_with_retry_after(make_client):

    client = await make_client(rate_limit=3, rate_window_seconds=60)
    headers = await user_headers_for(client)
    for _ in range(3):
        assert (await client.get("/v1/customers", headers=headers)).status == 200
    throttled = await client.get(f"/v1/customers/{CONTOSO}", headers=headers)
    assert throttled.status == 429
    retry_after = int(throttled.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert await throttled.json() == {
        "statusCode": 429,
        "message": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
    }
    # Another resource family has its own budget.
    assert (await client.get(f"/v1/customers/{CONTOSO}/subscriptions", headers=headers)).status == 200
    log = (await (await client.get("/_sandbox/requests")).json())["items"]
    assert [entry["status"] for entry in log] == [200, 200, 200, 429, 200]


async def test_rate_window_slides_in_real_time(make_client):

    client = await make_client(rate_limit=1, rate_window_seconds=0.5)
    headers = await user_headers_for(client)
    assert (await client.get("/v1/customers", headers=headers)).status == 200
    throttled = await client.get("/v1/customers", headers=headers)
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "1"
    await asyncio.sleep(0.6)
    assert (await client.get("/v1/customers", headers=headers)).status == 200


async def test_fault_before_processing_leaves_the_world_unchanged(client, user_headers):
    queued = await client.post(
        "/_sandbox/faults",
        json={"count": 1, "status": 503, "pathContains": "/subscriptions/", "method": "patch", "when": "before"},
    )
    assert queued.status == 201
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    response = await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")
    assert response.status == 503
    body = await response.json()
    assert error_code(body) == 800003 and body["description"] == "Injected fault"
    assert (await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")) == legacy
    # The fault is used up: the retry goes through.
    assert (await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")).status == 200


async def test_fault_after_processing_and_idempotent_replay(client, user_headers):
    await client.post("/_sandbox/faults", json={"count": 1, "status": 502, "method": "PATCH", "when": "after"})
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    headers = {**user_headers, "MS-RequestId": "8d4e1c0e-0000-4000-8000-000000000001"}
    lost = await patch_subscription(client, headers, CONTOSO, legacy, status="suspended")
    assert lost.status == 502
    after_write = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    assert after_write["status"] == "suspended"  # the write happened

    # Same MS-RequestId, same (now stale) etag: the stored answer is replayed, not re-applied.
    retry = await patch_subscription(client, headers, CONTOSO, legacy, status="suspended")
    assert retry.status == 200
    assert await retry.json() == after_write
    assert retry.headers["MS-RequestId"] == headers["MS-RequestId"]
    assert await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices") == after_write

    # A new MS-RequestId is a new write: the stale etag is refused.
    fresh = await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")
    assert fresh.status == 400 and error_code(await fresh.json()) == 2055


async def test_removal_is_idempotent_by_request_id(client, user_headers):
    await client.post("/_sandbox/faults", json={"count": 1, "status": 504, "pathContains": FABRIKAM, "when": "after"})
    headers = {**user_headers, "MS-RequestId": "remove-fabrikam-1"}
    body = {"relationshipToPartner": "none", "attributes": {"objectType": "Customer"}}
    assert (await client.patch(f"/v1/customers/{FABRIKAM}", json=body, headers=headers)).status == 504
    retry = await client.patch(f"/v1/customers/{FABRIKAM}", json=body, headers=headers)
    assert retry.status == 200
    assert (await retry.json())["RelationshipToPartner"] == "none"


async def test_random_faults_hit_every_request_at_rate_one(make_client):
    client = await make_client(fault_rate=1.0)
    statuses = {(await client.get("/v1/customers")).status for _ in range(10)}
    assert statuses <= {500, 503} and statuses
    assert (await client.get("/_sandbox/customers")).status == 200  # operator routes are never faulted


async def test_random_faults_are_reproducible_with_a_seed(make_client):
    async def statuses(random_seed: int) -> list[int]:
        client = await make_client(fault_rate=0.5, random_seed=random_seed)
        return [(await client.get("/v1/customers")).status for _ in range(20)]

    first, second = await statuses(7), await statuses(7)
    assert first == second
    assert 401 in first and any(status >= 500 for status in first)


async def test_latency_is_added_to_v1_only(make_client):
    client = await make_client(latency_ms=150)
    started = time.monotonic()
    await client.get("/v1/customers")
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    await client.get("/_sandbox/clock")
    assert time.monotonic() - started < 0.15


async def test_request_log_records_every_v1_request(client, user_headers):
    await client.get("/v1/customers?size=2")  # 401
    await client.get(f"/v1/customers/{CONTOSO}", headers={**user_headers, "MS-RequestId": "r-1", "MS-CorrelationId": "c-1"})
    await client.get("/_sandbox/customers")  # not logged
    items = (await (await client.get("/_sandbox/requests")).json())["items"]
    assert items[0]["method"] == "GET" and items[0]["path"] == "/v1/customers"
    assert items[0]["query"] == "size=2" and items[0]["status"] == 401
    assert items[1] == {
        "method": "GET",
        "path": f"/v1/customers/{CONTOSO}",
        "query": "",
        "status": 200,
        "requestId": "r-1",
        "correlationId": "c-1",
        "at": "2026-03-02T09:00:00Z",
    }
    assert len(items) == 2
    assert (await client.delete("/_sandbox/requests")).status == 200
    assert (await (await client.get("/_sandbox/requests")).json())["items"] == []
