"""GDAP relationships in the sandbox's Graph: list and filter, get, terminate and its progression
on the sandbox clock, delete while created, paging, throttling."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from pc_sandbox.clock import format_iso, parse_iso

from ._graph import RELATIONSHIPS, graph_error, graph_headers, relationship_named, relationships_of
from ._helpers import CONTOSO, CONTOSO_PHARMA, CONTOSO_RETAIL, FABRIKAM, START, WINGTIP

GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"


@pytest.fixture
async def partner(client) -> dict[str, str]:
    return await graph_headers(client)


async def test_list_filtered_by_customer_shows_the_documented_shape(client, partner):
    response = await client.get(RELATIONSHIPS, params={"$filter": f"customer/tenantId eq '{FABRIKAM}'"}, headers=partner)
    assert response.status == 200
    body = await response.json()
    assert body["@odata.context"].endswith("$metadata#tenantRelationships/delegatedAdminRelationships")
    assert "@odata.nextLink" not in body
    support = next(item for item in body["value"] if item["displayName"] == "Fabrikam - Offboard support")
    assert {
        "@odata.etag",
        "id",
        "displayName",
        "duration",
        "customer",
        "accessDetails",
        "status",
        "autoExtendDuration",
        "createdDateTime",
        "activatedDateTime",
        "lastModifiedDateTime",
        "endDateTime",
    } <= set(support)
    assert support["customer"] == {"tenantId": FABRIKAM, "displayName": "Fabrikam Inc"}
    assert support["status"] == "active" and support["autoExtendDuration"] == "P180D" and support["duration"] == "P730D"
    assert {"roleDefinitionId": GLOBAL_READER} in support["accessDetails"]["unifiedRoles"]
    assert [item["customer"]["tenantId"] for item in body["value"]] == [FABRIKAM, FABRIKAM]


async def test_demo_data_covers_every_case(client, partner):
    mlt = await relationships_of(client, partner, CONTOSO)
    assert len(mlt) == 1 and mlt[0]["displayName"].startswith("MLT_") and mlt[0]["status"] == "active"
    assert [item["status"] for item in await relationships_of(client, partner, CONTOSO_PHARMA)] == ["created"]
    assert sorted(item["status"] for item in await relationships_of(client, partner, CONTOSO_RETAIL)) == ["approvalPending", "terminated"]
    assert await relationships_of(client, partner, WINGTIP) == []


@pytest.mark.parametrize(
    "filter_text",
    [
        f"(status eq 'active') AND (customer/tenantId eq '{FABRIKAM}')",  # CIPP's form
        f"customer/tenantId eq '{FABRIKAM}' and status eq 'active'",
    ],
)
async def test_filter_with_status(client, partner, filter_text):
    response = await client.get(RELATIONSHIPS, params={"$filter": filter_text}, headers=partner)
    assert response.status == 200
    assert {item["status"] for item in (await response.json())["value"]} == {"active"}
    response = await client.get(RELATIONSHIPS, params={"$filter": filter_text.replace("active", "terminated")}, headers=partner)
    assert (await response.json())["value"] == []


@pytest.mark.parametrize(
    "filter_text", ["status eq 'active'", "displayName eq 'x'", f"customer/tenantId eq '{FABRIKAM}' or status eq 'active'"]
)
async def test_other_filters_are_400(client, partner, filter_text):
    response = await client.get(RELATIONSHIPS, params={"$filter": filter_text}, headers=partner)
    assert response.status == 400
    assert graph_error(await response.json()) == "BadRequest"


async def test_get_one_and_unknown_is_404(client, partner):
    support = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Offboard support")
    response = await client.get(f"{RELATIONSHIPS}/{support['id']}", headers=partner)
    assert response.status == 200
    assert await response.json() == support
    response = await client.get(f"{RELATIONSHIPS}/no-such-relationship", headers={**partner, "client-request-id": "c-1"})
    assert response.status == 404
    body = await response.json()
    assert graph_error(body) == "Request_ResourceNotFound"
    assert body["error"]["innerError"]["client-request-id"] == "c-1" and response.headers["client-request-id"] == "c-1"


async def test_terminate_progresses_on_the_sandbox_clock(client, clock, partner):
    support = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Offboard support")
    url = f"{RELATIONSHIPS}/{support['id']}"
    response = await client.post(f"{url}/requests", json={"action": "terminate"}, headers=partner)
    assert response.status == 201
    created = await response.json()
    assert created["action"] == "terminate" and created["status"] == "created"
    assert created["createdDateTime"] == format_iso(START)
    assert urlsplit(response.headers["Location"]).path == f"{url}/requests/{created['id']}"

    async def read() -> dict:
        return await (await client.get(url, headers=partner)).json()

    first = await read()
    assert first["status"] == "terminationRequested"
    assert first["@odata.etag"] != support["@odata.etag"]
    clock.advance(timedelta(minutes=5))
    assert (await read())["status"] == "terminating"
    clock.advance(timedelta(minutes=5))
    done = await read()
    assert done["status"] == "terminated"
    assert parse_iso(done["endDateTime"]) == START + timedelta(minutes=10)
    request = await (await client.get(urlsplit(response.headers["Location"]).path, headers=await graph_headers(client))).json()
    assert request["status"] == "succeeded"


async def test_terminate_twice_or_a_non_active_one_is_400(client, clock, partner):
    support = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Offboard support")
    url = f"{RELATIONSHIPS}/{support['id']}/requests"
    assert (await client.post(url, json={"action": "terminate"}, headers=partner)).status == 201
    again = await client.post(url, json={"action": "terminate"}, headers=partner)
    assert again.status == 400 and graph_error(await again.json()) == "BadRequest"
    clock.advance(timedelta(hours=1))
    partner = await graph_headers(client)  # the first token expired with the hour
    assert (await client.post(url, json={"action": "terminate"}, headers=partner)).status == 400
    proposed = (await relationships_of(client, partner, CONTOSO_PHARMA))[0]
    response = await client.post(f"{RELATIONSHIPS}/{proposed['id']}/requests", json={"action": "terminate"}, headers=partner)
    assert response.status == 400
    other = await client.post(url.replace(support["id"], proposed["id"]), json={"action": "approve"}, headers=partner)
    assert other.status == 400


async def test_delete_only_a_created_one_with_if_match(client, partner):
    proposed = (await relationships_of(client, partner, CONTOSO_PHARMA))[0]
    url = f"{RELATIONSHIPS}/{proposed['id']}"
    missing = await client.delete(url, headers=partner)
    assert missing.status == 400 and graph_error(await missing.json()) == "BadRequest"
    stale = await client.delete(url, headers={**partner, "If-Match": 'W/"stale"'})
    assert stale.status == 412
    deleted = await client.delete(url, headers={**partner, "If-Match": proposed["@odata.etag"]})
    assert deleted.status == 204
    assert (await client.get(url, headers=partner)).status == 404
    active = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Offboard support")
    refused = await client.delete(f"{RELATIONSHIPS}/{active['id']}", headers={**partner, "If-Match": active["@odata.etag"]})
    assert refused.status == 400 and graph_error(await refused.json()) == "BadRequest"


async def test_auto_extension_and_expiry_follow_the_clock(client, clock, partner):
    support = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Offboard support")
    clock.advance(timedelta(days=400))
    partner = await graph_headers(client)
    extended = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Offboard support")
    assert extended["status"] == "active"
    assert parse_iso(extended["endDateTime"]) == parse_iso(support["endDateTime"]) + timedelta(days=180)
    admin = await relationship_named(client, partner, FABRIKAM, "Fabrikam - Tenant administration")
    assert admin["status"] == "expired"


async def test_pages_follow_next_link(make_client):
    client = await make_client(graph_page_size=3)
    partner = await graph_headers(client)
    seen: list[str] = []
    url: str | None = RELATIONSHIPS
    pages = 0
    while url is not None:
        response = await client.get(url, headers=partner)
        assert response.status == 200, await response.text()
        body = await response.json()
        assert len(body["value"]) <= 3
        seen += [item["id"] for item in body["value"]]
        next_link = body.get("@odata.nextLink")
        url = None if next_link is None else next_link[next_link.index("/graph/") :]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 8


async def test_throttling_answers_graph_429(client, partner):
    assert (await client.post("/_sandbox/throttle", json={"seconds": 3})).status == 200
    response = await client.get(RELATIONSHIPS, headers=partner)
    assert response.status == 429
    assert graph_error(await response.json()) == "TooManyRequests"
    assert int(response.headers["Retry-After"]) >= 1
