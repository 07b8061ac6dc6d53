"""Customer list, search filter, seek paging, get by id, relationship request."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from pc_sandbox import DEMO

from ._helpers import CONTOSO, FROMAGES, NORTHWIND, error_code


def _filter(field: str, value: str, operator: str = "starts_with") -> str:
    return quote(json.dumps({"Field": field, "Value": value, "Operator": operator}), safe="")


async def _names(client, headers, query: str) -> list[str]:
    response = await client.get(f"/v1/customers?{query}", headers=headers)
    assert response.status == 200, await response.text()
    return [item["companyProfile"]["companyName"] for item in (await response.json())["items"]]


async def test_company_name_filter_is_case_insensitive_starts_with(client, user_headers):
    names = await _names(client, user_headers, f"size=0&filter={_filter('CompanyName', 'cONTOSO')}")
    assert sorted(names) == ["Contoso Ltd", "Contoso Pharma", "Contoso Retail"]
    assert await _names(client, user_headers, f"filter={_filter('CompanyName', 'Tail')}") == [
        "Tailspin Toys",
        "Tailwind Traders",
    ]


async def test_domain_filter(client, user_headers):
    names = await _names(client, user_headers, f"filter={_filter('Domain', 'fromages.')}")
    assert names == ["Société Générale des Fromages"]


async def test_non_ascii_company_names_are_searchable(client, user_headers):
    assert await _names(client, user_headers, f"filter={_filter('CompanyName', 'ооо «ром')}") == ["ООО «Ромашка»"]


@pytest.mark.parametrize(
    "raw_filter",
    [
        _filter("CompanyName", "Con", "contains"),
        _filter("Email", "Con"),
        quote("not json", safe=""),
    ],
)
async def test_unsupported_filters_are_400(client, user_headers, raw_filter):
    response = await client.get(f"/v1/customers?filter={raw_filter}", headers=user_headers)
    assert response.status == 400
    error_code(await response.json())


async def test_customers_without_relationship_are_not_listed(client, user_headers):
    response = await client.get("/v1/customers", headers=user_headers)
    body = await response.json()
    ids = [item["id"] for item in body["items"]]
    assert NORTHWIND not in ids and CONTOSO in ids
    assert body["totalCount"] == len(ids) == 12
    assert "links" in body and "next" not in body["links"] and "continuationToken" not in body
    assert body["attributes"] == {"objectType": "Collection"}
    item = body["items"][0]
    assert set(item) >= {"id", "companyProfile", "relationshipToPartner", "links", "attributes"}
    assert "allowDelegatedAccess" not in item  # only get-by-id returns it


async def test_paging_follows_links_next_with_the_continuation_header(client, user_headers):
    seen: list[str] = []
    response = await client.get("/v1/customers?size=4", headers=user_headers)
    pages = 0
    while True:
        assert response.status == 200, await response.text()
        body = await response.json()
        pages += 1
        seen += [item["id"] for item in body["items"]]
        next_link = body["links"].get("next")
        if next_link is None:
            break
        assert next_link["uri"].startswith("/customers?size=4")
        assert next_link["uri"].endswith("&seekOperation=Next")
        assert next_link["method"] == "GET"
        assert next_link["headers"][0]["key"] == "MS-ContinuationToken"
        assert body["continuationToken"] == next_link["headers"][0]["value"]
        headers = {header["key"]: header["value"] for header in next_link["headers"]}
        response = await client.get("/v1" + next_link["uri"], headers={**user_headers, **headers})
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12


async def test_paging_keeps_the_filter(client, user_headers):
    contoso = _filter("CompanyName", "contoso")
    response = await client.get(f"/v1/customers?size=2&filter={contoso}", headers=user_headers)
    body = await response.json()
    next_link = body["links"]["next"]
    assert f"filter={_filter('CompanyName', 'contoso')}" in next_link["uri"]
    token = next_link["headers"][0]["value"]
    second = await client.get("/v1" + next_link["uri"], headers={**user_headers, "MS-ContinuationToken": token})
    assert [item["companyProfile"]["companyName"] for item in (await second.json())["items"]] == ["Contoso Retail"]


async def test_seek_next_without_continuation_header_is_400(client, user_headers):
    response = await client.get("/v1/customers?size=4&seekOperation=Next", headers=user_headers)
    assert response.status == 400
    error_code(await response.json())


async def test_seek_next_with_a_garbled_or_foreign_token_is_400(client, user_headers):
    garbled = await client.get("/v1/customers?size=4&seekOperation=Next", headers={**user_headers, "MS-ContinuationToken": "%%%"})
    assert garbled.status == 400
    body = await (await client.get("/v1/customers?size=4", headers=user_headers)).json()
    token = body["continuationToken"]
    foreign = await client.get(
        f"/v1/customers?size=4&filter={_filter('CompanyName', 'Con')}&seekOperation=Next",
        headers={**user_headers, "MS-ContinuationToken": token},
    )
    assert foreign.status == 400


async def test_get_customer_by_id(client, user_headers):
    response = await client.get(f"/v1/customers/{FROMAGES}", headers=user_headers)
    assert response.status == 200
    customer = await response.json()
    assert customer["id"] == FROMAGES
    assert customer["companyProfile"]["tenantId"] == FROMAGES
    assert customer["companyProfile"]["domain"] == "fromages.onmicrosoft.com"
    assert customer["companyProfile"]["companyName"] == "Société Générale des Fromages"
    assert customer["billingProfile"]["culture"] == "fr-FR"
    assert customer["billingProfile"]["language"] == "fr"
    assert customer["relationshipToPartner"] == "reseller"
    assert customer["allowDelegatedAccess"] is True
    assert customer["links"]["self"]["uri"] == f"/customers/{FROMAGES}"
    assert customer["attributes"] == {"objectType": "Customer"}
    assert customer["commerceId"]


async def test_customer_response_keeps_non_ascii_text_unescaped(client, user_headers):
    response = await client.get(f"/v1/customers/{FROMAGES}", headers=user_headers)
    assert "Société" in await response.text()
    assert response.content_type == "application/json"


async def test_unknown_customer_is_404_60003(client, user_headers):
    response = await client.get("/v1/customers/00000000-0000-0000-0000-000000000000", headers=user_headers)
    assert response.status == 404
    assert error_code(await response.json()) == 60003


async def test_removed_customer_still_answers_get_with_none(client, user_headers):
    response = await client.get(f"/v1/customers/{NORTHWIND}", headers=user_headers)
    assert response.status == 200
    assert (await response.json())["relationshipToPartner"] == "none"


async def test_relationship_request_url(client, user_headers):
    response = await client.get("/v1/customers/relationshiprequests", headers=user_headers)
    assert response.status == 200
    assert await response.json() == {
        "url": "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship"
        f"&partnerId={DEMO.partner_tenant_id}&msppId=0&DAP=false#/BillingAccounts/partner-invitation",
        "attributes": {"objectType": "RelationshipRequest"},
    }
