"""Read everything that may block a removal, in parallel, and classify it.

Subscriptions, reservations, software entitlements and orders are independent reads; the Azure
entitlements of each Azure plan depend on the subscription list, so they follow, also in
parallel. The client's per-tenant limiter keeps the fan-out within Partner Center's rate.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from .blockers import CustomerSnapshot, RemovalPlan, classify, is_azure_plan
from .client import PartnerCenterClient
from .models import Customer, SubscriptionStatus

__all__ = ("gather_snapshot", "plan_removal")


async def gather_snapshot(client: PartnerCenterClient, customer: Customer) -> CustomerSnapshot:
    customer_id = customer.id or (customer.company_profile.tenant_id if customer.company_profile else "")
    subscriptions, reservations, software, orders = await asyncio.gather(
        client.list_subscriptions(customer_id),
        client.list_entitlements(customer_id, "reservedinstance"),
        client.list_entitlements(customer_id, "software"),
        client.list_orders(customer_id),
    )
    plans = [s for s in subscriptions if is_azure_plan(s) and s.status not in (SubscriptionStatus.DELETED, SubscriptionStatus.EXPIRED)]
    entitlement_lists = await asyncio.gather(*(client.list_azure_entitlements(customer_id, plan.id) for plan in plans))
    return CustomerSnapshot(
        customer=customer,
        subscriptions=tuple(subscriptions),
        azure_entitlements={plan.id: tuple(found) for plan, found in zip(plans, entitlement_lists, strict=True)},
        reservations=tuple(e for e in reservations if e.is_reservation),
        software=tuple(e for e in software if e.is_software),
        orders=tuple(orders),
    )


async def plan_removal(client: PartnerCenterClient, customer: Customer, *, now: datetime) -> RemovalPlan:
    """Read fresh from Partner Center and classify: never trust an older plan."""
    return classify(await gather_snapshot(client, customer), now)
