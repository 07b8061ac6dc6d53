"""Read everything that may block a removal, in parallel, and classify it.

Subscriptions, reservations, software entitlements, savings plans, orders (with their prices)
and transfer requests are independent reads; the Azure entitlements of each Azure plan depend on
the subscription list, so they follow, also in parallel, as do the single-order reads of orders
the priced list did not price. The client's per-tenant limiter keeps the fan-out within Partner
Center's rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Final, TypeVar

from .blockers import CustomerSnapshot, RemovalPlan, classify, is_azure_plan
from .client import PartnerCenterClient
from .errors import NotFoundError
from .models import Customer, Entitlement, Order, SubscriptionStatus
from .transfers import Transfer

__all__ = ("MAX_SINGLE_PRICE_READS", "gather_snapshot", "plan_removal")

# At most this many orders are read one by one for their prices when the order list came back
# without them (assumption: the list may not honour includePrice). Beyond it, items show "no
# price" rather than a 1,000-subscription customer's plan waiting on 1,000 reads.
MAX_SINGLE_PRICE_READS: Final = 200

T = TypeVar("T")


async def gather_snapshot(client: PartnerCenterClient, customer: Customer) -> CustomerSnapshot:
    customer_id = customer.id or (customer.company_profile.tenant_id if customer.company_profile else "")
    subscriptions, reservations, software, savings_plans, orders, transfers = await asyncio.gather(
        client.list_subscriptions(customer_id),
        client.list_entitlements(customer_id, "reservedinstance"),
        client.list_entitlements(customer_id, "software"),
        _or_none_found(client.list_savings_plans(customer_id), list[Entitlement]()),
        client.list_orders(customer_id, include_price=True),
        _or_none_found(client.list_transfers(customer_id), list[Transfer]()),
    )
    plans = [s for s in subscriptions if is_azure_plan(s) and s.status not in (SubscriptionStatus.DELETED, SubscriptionStatus.EXPIRED)]
    wanted_orders = {s.order_id for s in subscriptions if s.order_id} | {
        e.reference_order.id for e in (*reservations, *software, *savings_plans) if e.reference_order.id
    }
    to_price = _orders_to_price(orders, wanted_orders)
    entitlement_lists, priced = await asyncio.gather(
        asyncio.gather(*(client.list_azure_entitlements(customer_id, plan.id) for plan in plans)),
        asyncio.gather(*(_or_none_found(client.get_order(customer_id, order_id, include_price=True), None) for order_id in to_price)),
    )
    by_id = {order.id: order for order in orders}
    by_id.update({order.id: order for order in priced if order is not None})
    return CustomerSnapshot(
        customer=customer,
        subscriptions=tuple(subscriptions),
        azure_entitlements={plan.id: tuple(found) for plan, found in zip(plans, entitlement_lists, strict=True)},
        reservations=tuple(e for e in reservations if e.is_reservation),
        software=tuple(e for e in software if e.is_software),
        orders=tuple(by_id.values()),
        savings_plans=tuple(savings_plans),
        transfers=tuple(transfers),
    )


def _orders_to_price(orders: list[Order], wanted: set[str]) -> list[str]:
    """Orders an item needs whose price the list did not give: missing from the list, or, when
    no order of the list carries a price at all (the list ignored includePrice), every wanted
    one; at most :data:`MAX_SINGLE_PRICE_READS`, in a stable order."""
    listed = {order.id: order for order in orders}
    list_priced = any(order.priced for order in orders)
    missing = [order_id for order_id in sorted(wanted) if order_id not in listed or (not list_priced and listed[order_id].line_items)]
    return missing[:MAX_SINGLE_PRICE_READS]


async def _or_none_found(read: Awaitable[T], empty: T) -> T:
    """A read whose 404 means "none here": a Partner Center (or sandbox) that does not serve
    transfers or savings plans for this customer (assumption), or an order gone since the list."""
    try:
        return await read
    except NotFoundError:
        return empty


async def plan_removal(client: PartnerCenterClient, customer: Customer, *, now: datetime) -> RemovalPlan:
    """Read fresh from Partner Center and classify: never trust an older plan."""
    return classify(await gather_snapshot(client, customer), now)
