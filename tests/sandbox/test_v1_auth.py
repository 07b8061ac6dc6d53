"""Bearer checks on /v1, App+User-only operations, and the correlation headers."""

from __future__ import annotations

import pytest

from ._helpers import CONTOSO, FABRIKAM, error_code


async def test_missing_token_is_401_800001_with_challenge(client):
    response = await client.get("/v1/customers")
    assert response.status == 401
    assert error_code(await response.json()) == 800001
    assert response.headers["WWW-Authenticate"].startswith("OAuth realm=")


@pytest.mark.parametrize("header", ["Bearer not-issued-here", "Bearer ", "Basic c2FuZGJveDpzZWNyZXQ="])
async def test_invalid_token_is_401(client, header):
    response = await client.get("/v1/customers", headers={"Authorization": header})
    assert response.status == 401
    body = await response.json()
    expected = 400 if header == "Bearer not-issued-here" else 800001
    assert error_code(body) == expected
    assert "WWW-Authenticate" in response.headers


async def test_app_only_token_cannot_remove_a_relationship(client, app_headers):
    response = await client.patch(
        f"/v1/customers/{FABRIKAM}",
        json={"relationshipToPartner": "none", "attributes": {"objectType": "Customer"}},
        headers=app_headers,
    )
    assert response.status == 403
    body = await response.json()
    assert error_code(body) == 2032
    assert "App+User" in body["description"]
    assert (await (await client.get(f"/v1/customers/{FABRIKAM}", headers=app_headers)).json())["relationshipToPartner"] == "reseller"


async def test_app_only_token_cannot_get_the_relationship_request(client, app_headers):
    response = await client.get("/v1/customers/relationshiprequests", headers=app_headers)
    assert response.status == 403
    assert error_code(await response.json()) == 2032


async def test_app_only_token_cannot_list_entitlements(client, app_headers):
    response = await client.get(f"/v1/customers/{CONTOSO}/entitlements", headers=app_headers)
    assert response.status == 403
    assert error_code(await response.json()) == 2032


async def test_app_only_token_can_read_and_write_subscriptions(client, app_headers):
    response = await client.get(f"/v1/customers/{CONTOSO}/subscriptions", headers=app_headers)
    assert response.status == 200


async def test_request_and_correlation_ids_are_echoed(client, user_headers):
    response = await client.get(
        "/v1/customers",
        headers={**user_headers, "MS-RequestId": "req-1", "MS-CorrelationId": "corr-1"},
    )
    assert response.headers["MS-RequestId"] == "req-1"
    assert response.headers["MS-CorrelationId"] == "corr-1"
    assert response.headers["MS-CV"]


async def test_fresh_ids_are_generated_when_absent_even_on_errors(client):
    response = await client.get("/v1/customers")
    assert len(response.headers["MS-RequestId"]) == 36
    assert len(response.headers["MS-CorrelationId"]) == 36
    assert response.headers["MS-CV"]


async def test_unknown_v1_route_is_a_partner_center_404(client, user_headers):
    response = await client.get("/v1/nothing-here", headers=user_headers)
    assert response.status == 404
    assert error_code(await response.json()) == 1000
