"""The sandbox's Azure-plan cancellation as Microsoft documents it (../shared/reference/fidelity-audit.md #1, #2, #3, #17).

- body ``{"cancellationReason": "compromise"}``, the only documented value; others 400/900307
  (learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription);
- app+user only: "Partners must be Global Administrators with Admin Agent roles to cancel";
- "Expect about 10 mins for the status to be reflected (that is, active to inactive)": the
  entitlement reads ``active`` for ``azure_cancel_delay`` (10 minutes by default) on the sandbox
  clock, and meanwhile the plan cannot be suspended (403/900115, developer/error-codes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pc_sandbox import SandboxOptions

from ._helpers import CONTOSO, error_code, patch_subscription, subscription_where, user_headers_for


async def _plan_and_url(client, headers):
    plan = await subscription_where(client, headers, CONTOSO, productType="Azure")
    return plan, f"/v1/customers/{CONTOSO}/subscriptions/{plan['id']}/azureEntitlements"


async def _statuses(client, headers, url) -> list[str]:
    return [item["status"] for item in (await (await client.get(url, headers=headers)).json())["items"]]


async def _cancel(client, headers, url, entitlement_id, body):
    return await client.post(f"{url}/{entitlement_id}/cancel", json=body, headers=headers)


@pytest.mark.parametrize("body", [{"cancellationReason": "Reseller relationship removal"}, {"cancellationReason": ""}, {}])
async def test_a_reason_other_than_compromise_is_refused_400_900307(client, user_headers, body):
    _, url = await _plan_and_url(client, user_headers)
    items = (await (await client.get(url, headers=user_headers)).json())["items"]
    response = await _cancel(client, user_headers, url, items[0]["id"], body)
    assert response.status == 400
    assert error_code(await response.json()) == 900307
    assert await _statuses(client, user_headers, url) == ["active", "active"]


async def test_an_app_only_token_is_refused(client, user_headers, app_headers):
    _, url = await _plan_and_url(client, user_headers)
    items = (await (await client.get(url, headers=user_headers)).json())["items"]
    response = await _cancel(client, app_headers, url, items[0]["id"], {"cancellationReason": "compromise"})
    assert response.status == 403
    assert await _statuses(client, user_headers, url) == ["active", "active"]


async def test_cancelled_subscriptions_stay_active_for_ten_minutes_and_the_plan_cannot_be_suspended_meanwhile(client, user_headers, clock):
    plan, url = await _plan_and_url(client, user_headers)
    items = (await (await client.get(url, headers=user_headers)).json())["items"]
    for item in items:
        assert (await _cancel(client, user_headers, url, item["id"], {"cancellationReason": "compromise"})).status == 202
    clock.advance(timedelta(minutes=9, seconds=59))
    assert await _statuses(client, user_headers, url) == ["active", "active"]
    plan = await subscription_where(client, user_headers, CONTOSO, productType="Azure")
    refused = await patch_subscription(client, user_headers, CONTOSO, plan, status="suspended")
    assert refused.status == 403 and error_code(await refused.json()) == 900115
    clock.advance(timedelta(seconds=1))
    assert await _statuses(client, user_headers, url) == ["inactive", "inactive"]
    plan = await subscription_where(client, user_headers, CONTOSO, productType="Azure")
    suspended = await patch_subscription(client, user_headers, CONTOSO, plan, status="suspended")
    assert suspended.status == 200 and (await suspended.json())["status"] == "suspended"


async def test_the_delay_is_a_knob(make_client):
    client = await make_client(azure_cancel_delay=timedelta(0))
    headers = await user_headers_for(client)
    _, url = await _plan_and_url(client, headers)
    items = (await (await client.get(url, headers=headers)).json())["items"]
    assert (await _cancel(client, headers, url, items[0]["id"], {"cancellationReason": "compromise"})).status == 202
    assert await _statuses(client, headers, url) == ["inactive", "active"]


def test_the_default_delay_is_ten_minutes():
    assert SandboxOptions().azure_cancel_delay == timedelta(minutes=10)
    with pytest.raises(ValueError, match="azure_cancel_delay"):
        SandboxOptions(azure_cancel_delay=timedelta(seconds=-1))


async def test_the_plan_can_be_cancelled_once_no_azure_subscription_is_active(client, user_headers, clock):
    # "Partners can cancel the Azure plan when there are no active Azure subscriptions under it"
    # (azure-plan-manage; ../shared/reference/fidelity-audit.md #16).
    _, url = await _plan_and_url(client, user_headers)
    for item in (await (await client.get(url, headers=user_headers)).json())["items"]:
        assert (await _cancel(client, user_headers, url, item["id"], {"cancellationReason": "compromise"})).status == 202
    clock.advance(timedelta(minutes=10))
    plan = await subscription_where(client, user_headers, CONTOSO, productType="Azure")
    cancelled = await patch_subscription(client, user_headers, CONTOSO, plan, status="deleted")
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "deleted"
