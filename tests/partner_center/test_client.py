"""The client against the sandbox over real loopback HTTP: every operation and every error."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest

from partner_center import (
    Action,
    CancellationWindowPassedError,
    NoRelationshipError,
    NotFoundError,
    PartnerCenterClient,
    PartnerCenterError,
    Relationship,
    SubscriptionStatus,
    carry_out,
    plan_removal,
    resolve_customers,
)
from partner_center.actions import AzureCancellationPending
from partner_center.blockers import is_azure_plan, is_new_commerce
from partner_center.models import OrderStatus
from tests._helpers import customer_named, operator, sandbox_customer_id, sandbox_requests


async def _subscriptions(client: PartnerCenterClient, customer_id: str) -> dict[str, Any]:
    """The customer's subscriptions by role: legacy, nce, plan."""
    found: dict[str, Any] = {}
    for sub in await client.list_subscriptions(customer_id):
        role = "plan" if is_azure_plan(sub) else "nce" if is_new_commerce(sub) else "legacy"
        found.setdefault(role, sub)
    return found


# ---- Customers ----


async def test_get_customer_reads_profile_and_relationship(client: PartnerCenterClient) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    again = await client.get_customer(contoso.id)
    assert again.name == "Contoso Ltd" and again.domain == "contoso.onmicrosoft.com"
    assert again.relationship_to_partner is Relationship.RESELLER


async def test_unknown_customer_is_not_found_with_partner_center_ids(client: PartnerCenterClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.get_customer("00000000-0000-0000-0000-000000000404")
    error = caught.value
    assert error.status == 404 and error.code and error.correlation_id and error.request_id


async def test_search_follows_next_links_with_the_continuation_header(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    names = [c.name for c in await client.find_customers("CompanyName", "contoso", page_size=1)]
    assert len(names) >= 3 and all(n.lower().startswith("contoso") for n in names)
    log = [r for r in await sandbox_requests(http, sandbox) if r["path"] == "/v1/customers"]
    assert len(log) == len(names) + 1 or len(log) == len(names)
    assert sum("seekOperation=Next" in unquote(r["query"]) for r in log) >= 2
    assert all(r["status"] == 200 for r in log)
    # The filter travels as URL-encoded JSON, the way Partner Center's SDK sends it.
    first = log[0]["query"]
    assert "%7B" in first and "starts_with" in unquote(first)
    condition = json.loads(unquote(first.split("filter=")[1].split("&")[0]))
    assert condition == {"Field": "CompanyName", "Value": "contoso", "Operator": "starts_with"}


async def test_search_by_domain_prefix(client: PartnerCenterClient) -> None:
    found = await client.find_customers("Domain", "contosoph")
    assert [c.name for c in found] == ["Contoso Pharma"]


async def test_resolving_a_customer_by_tenant_id_domain_name_or_nothing(client: PartnerCenterClient) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    assert [c.id for c in await resolve_customers(client, contoso.id)] == [contoso.id]
    assert [c.name for c in await resolve_customers(client, "contoso.onmicrosoft.com")] == ["Contoso Ltd"]
    assert len(await resolve_customers(client, "Contoso")) >= 3
    assert [c.name for c in await resolve_customers(client, "ооо «ром")] == ["ООО «Ромашка»"]
    assert [c.name for c in await resolve_customers(client, "romashka")] == ["ООО «Ромашка»"]
    assert await resolve_customers(client, "Nobody Like This") == []
    assert await resolve_customers(client, "00000000-0000-0000-0000-000000000404") == []


# ---- Subscriptions ----


async def test_list_subscriptions_of_the_customer_with_a_thousand(client: PartnerCenterClient) -> None:
    tailspin = await customer_named(client, "Tailspin Toys")
    subscriptions = await client.list_subscriptions(tailspin.id)
    assert len(subscriptions) == 1000
    assert all(s.status is SubscriptionStatus.ACTIVE for s in subscriptions)


async def test_suspend_sends_if_match_and_is_idempotent(client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    legacy = (await _subscriptions(client, contoso.id))["legacy"]
    fresh = await client.get_subscription(contoso.id, legacy.id)
    assert fresh.etag
    suspended = await client.suspend_subscription(contoso.id, legacy.id)
    assert suspended.status is SubscriptionStatus.SUSPENDED and suspended.etag != fresh.etag
    again = await client.suspend_subscription(contoso.id, legacy.id)
    assert again.status is SubscriptionStatus.SUSPENDED
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert len(patches) == 1, "the second suspend must read, see it done, and not write"


async def test_stale_etag_is_read_again_and_retried_once(sandbox: Any, http: aiohttp.ClientSession) -> None:
    from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, connect
    from tests._helpers import FAST_RETRY

    touched: list[str] = []

    async def make_etag_stale(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        # Someone else changes the subscription between our GET and our PATCH, once.
        if params.method == "GET" and "/subscriptions/" in params.url.path and not touched:
            touched.append(params.url.path)
            customer_id, subscription_id = params.url.path.split("/")[3], params.url.path.split("/")[5]
            await operator(http, sandbox, f"customers/{customer_id}/subscriptions/{subscription_id}/touch")

    tracing = aiohttp.TraceConfig()
    tracing.on_request_end.append(make_etag_stale)
    async with aiohttp.ClientSession(trace_configs=[tracing]) as traced:
        client = connect(
            PartnerCenterConfig.sandbox(sandbox.base_url), session=traced, limits=PartnerLimits(RateSettings()), retry=FAST_RETRY
        )
        contoso = await customer_named(client, "Contoso Ltd")
        legacy = (await _subscriptions(client, contoso.id))["legacy"]
        touched.clear()
        result = await client.suspend_subscription(contoso.id, legacy.id)
    assert result.status is SubscriptionStatus.SUSPENDED and touched
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [400, 200]


async def test_cancel_new_commerce_inside_its_window(client: PartnerCenterClient) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    nce = (await _subscriptions(client, contoso.id))["nce"]
    cancelled = await client.cancel_subscription(contoso.id, nce.id)
    assert cancelled.status is SubscriptionStatus.DELETED


async def test_cancel_past_the_window_says_so_and_auto_renew_can_be_turned_off(client: PartnerCenterClient) -> None:
    pharma = await customer_named(client, "Contoso Pharma")
    nce = (await _subscriptions(client, pharma.id))["nce"]
    with pytest.raises(CancellationWindowPassedError) as caught:
        await client.cancel_subscription(pharma.id, nce.id)
    assert caught.value.code == "900117" and caught.value.status == 400
    assert nce.auto_renew_enabled is True
    assert (await client.turn_off_auto_renew(pharma.id, nce.id)).auto_renew_enabled is False


async def test_a_deleted_subscription_needs_no_suspending_and_is_not_written(client: PartnerCenterClient) -> None:
    # Partner Center refuses any change to a deleted subscription (400 / 2011, tests/sandbox);
    # there is nothing left to suspend, so the client does not try (cancelled in the portal
    # meanwhile is done, not an error).
    contoso = await customer_named(client, "Contoso Ltd")
    nce = (await _subscriptions(client, contoso.id))["nce"]
    cancelled = await client.cancel_subscription(contoso.id, nce.id)
    assert cancelled.status is SubscriptionStatus.DELETED
    assert (await client.suspend_subscription(contoso.id, nce.id)).status is SubscriptionStatus.DELETED
    assert (await client.cancel_subscription(contoso.id, nce.id)).status is SubscriptionStatus.DELETED
    assert (await client.turn_off_auto_renew(contoso.id, nce.id)).status is SubscriptionStatus.DELETED


async def test_azure_plan_needs_its_azure_subscriptions_cancelled_before_suspension(
    client: PartnerCenterClient, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    plan = (await _subscriptions(client, contoso.id))["plan"]
    with pytest.raises(PartnerCenterError) as caught:
        await client.suspend_subscription(contoso.id, plan.id)
    assert (caught.value.status, caught.value.code) == (403, "900115")
    azure = await client.list_azure_entitlements(contoso.id, plan.id)
    assert sum(e.is_active for e in azure) == 2
    for entitlement in azure:
        await client.cancel_azure_entitlement(contoso.id, plan.id, entitlement.id)
    # Was: inactive at once. Microsoft: "Expect about 10 mins for the status to be reflected"
    # (developer/cancel-an-azure-subscription); meanwhile the plan still cannot be suspended.
    assert all(e.is_active for e in await client.list_azure_entitlements(contoso.id, plan.id))
    with pytest.raises(PartnerCenterError) as still:
        await client.suspend_subscription(contoso.id, plan.id)
    assert (still.value.status, still.value.code) == (403, "900115")
    await operator(http, sandbox, "clock", {"advanceHours": 10 / 60})
    assert {e.status for e in await client.list_azure_entitlements(contoso.id, plan.id)} == {"inactive"}
    assert (await client.suspend_subscription(contoso.id, plan.id)).status is SubscriptionStatus.SUSPENDED


# ---- Entitlements and orders ----


async def test_entitlements_list_reservations_and_software(client: PartnerCenterClient) -> None:
    fromages = await customer_named(client, "Société Générale des Fromages")
    reservations = await client.list_entitlements(fromages.id, "reservedinstance")
    assert reservations and all(e.is_reservation for e in reservations)
    assert reservations[0].entitled_artifacts[0].artifact_type.lower() == "reservedinstance"
    software = await client.list_entitlements(fromages.id, "software")
    assert software and all(e.is_software for e in software)


async def test_software_order_cancelled_inside_its_window_and_refused_past_it(client: PartnerCenterClient) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    [software] = await client.list_entitlements(contoso.id, "software")
    cancelled = await client.cancel_order(contoso.id, software.reference_order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert (await client.cancel_order(contoso.id, software.reference_order.id)).status is OrderStatus.CANCELLED
    fromages = await customer_named(client, "Société Générale des Fromages")
    [old] = await client.list_entitlements(fromages.id, "software")
    with pytest.raises(CancellationWindowPassedError):
        await client.cancel_order(fromages.id, old.reference_order.id)
    orders = {o.id: o for o in await client.list_orders(fromages.id)}
    assert orders[old.reference_order.id].status is not OrderStatus.CANCELLED


# ---- Removal ----


async def test_removal_is_refused_while_blocked_then_done_and_verified(
    client: PartnerCenterClient, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    with pytest.raises(PartnerCenterError) as refused:
        await client.remove_relationship(contoso.id)
    assert refused.value.status == 400 and refused.value.description

    from datetime import datetime

    plan = await plan_removal(client, contoso, now=datetime.now(UTC))
    assert {b.action for b in plan.blockers} == {
        Action.SUSPEND,
        Action.CANCEL_SUBSCRIPTION,
        Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN,
        Action.CANCEL_ORDER,
    }
    for blocker in plan.actionable:
        try:
            await carry_out(client, contoso.id, blocker)
        except AzureCancellationPending:
            # Was: the plan suspended right after the cancels. The cancels take ~10 minutes to
            # show (developer/cancel-an-azure-subscription): move the clock, then carry on.
            await operator(http, sandbox, "clock", {"advanceHours": 10 / 60})
            await carry_out(client, contoso.id, blocker)
    assert (await plan_removal(client, contoso, now=datetime.now(UTC))).can_remove_now

    result = await client.remove_relationship(contoso.id)
    assert not result.already_removed and result.request_id
    assert await client.read_relationship(contoso.id) is Relationship.NONE
    with pytest.raises(NoRelationshipError) as gone:
        await client.list_subscriptions(contoso.id)
    assert gone.value.code == "20002"
    assert (await client.remove_relationship(contoso.id)).already_removed
    assert "Contoso Ltd" not in [c.name for c in await client.find_customers("CompanyName", "Contoso")]


async def test_relationship_request_url_to_re_establish(client: PartnerCenterClient) -> None:
    url = await client.get_relationship_request_url()
    assert url.startswith("https://admin.microsoft.com/") and "invType=ResellerRelationship" in url


async def test_already_removed_customer_reads_as_none(client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession) -> None:
    # Removed customers leave the customer list, so the bot finds them by tenant id.
    assert await resolve_customers(client, "Northwind Traders") == []
    northwind_id = await sandbox_customer_id(http, sandbox, "Northwind Traders")
    assert await client.read_relationship(northwind_id) is Relationship.NONE
    [northwind] = await resolve_customers(client, northwind_id)
    assert northwind.relationship_to_partner is Relationship.NONE
