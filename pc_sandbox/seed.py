"""Load the demo world from a JSON seed (default: the packaged ``seed.json``).

The seed is written for people: offers are declared once in ``offers`` and
referenced by key; dates are relative to the clock at load (``"now"``,
``"now+3d"``, ``"now-40d"``, ``"now+12h"``; absolute ISO 8601 also works); ids
may be omitted and are then derived deterministically from the customer id,
so they are the same on every load; and a large customer is described by a
``generate`` spec instead of a thousand entries.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from .clock import add_duration, parse_iso
from .models import (
    AzureEntitlement,
    BillingProfile,
    Customer,
    Order,
    OrderLineItem,
    Reservation,
    SavingsPlan,
    SeatTranche,
    Subscription,
    SubscriptionKind,
)
from .refund_rules import FULL_REFUND_PERIOD
from .subscription_rules import NEW_COMMERCE_CANCELLATION_WINDOW
from .transfers import build_transfer

__all__ = ("build_subscription", "derived_id", "load_customers", "parse_price", "read_seed", "resolve_date")

# Fixed namespace: derived ids must not change between runs or machines.
_ID_NAMESPACE = uuid.UUID("0f6b3c1e-9d2a-4f57-b8e4-5a1c7d9e2b60")
_RELATIVE_DATE = re.compile(r"^now(?:\s*([+-])\s*(\d+)\s*([dhm]))?$", re.IGNORECASE)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_GENERATED_PER_ORDER = 10  # generated subscriptions are bought 10 to an order


def read_seed(path: str | None = None) -> dict[str, Any]:
    """The seed document: ``path`` or the packaged ``seed.json``."""
    if path is None:
        text = resources.files(__package__).joinpath("seed.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return json.loads(text)


def resolve_date(value: str, now: datetime) -> datetime:
    """``"now+3d"`` -> an aware datetime (whole seconds, so the wire shows exactly it)."""
    match = _RELATIVE_DATE.match(value.strip())
    if match is None:
        return parse_iso(value)
    sign, amount, unit = match.groups()
    moment = now
    if amount:
        delta = timedelta(**{_UNITS[unit.lower()]: int(amount)})
        moment = now + delta if sign == "+" else now - delta
    return moment.replace(microsecond=0)


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


def _order_id(*parts: str) -> str:
    # Partner Center order ids are short opaque strings, not GUIDs.
    return uuid.uuid5(_ID_NAMESPACE, "/".join(("order", *parts))).hex[:12]


def parse_price(value: Any) -> Decimal | None:
    """A seeded price (number or string) as a Decimal; None/absent = no price."""
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"invalid price {value!r}") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"invalid price {value!r}")
    return price


def load_customers(seed: Mapping[str, Any], *, now: datetime) -> list[Customer]:
    offers = seed.get("offers", {})
    # The partner bills in one currency (ASSUMPTION: per partner, not per customer).
    currency = str(seed.get("partnerCurrency", "USD"))
    return [_customer(spec, offers, now, currency) for spec in seed.get("customers", [])]


def _customer(spec: Mapping[str, Any], offers: Mapping[str, Any], now: datetime, currency: str = "USD") -> Customer:
    customer_id = str(spec["id"]).lower()
    contact = spec.get("billing", {})
    customer = Customer(
        id=customer_id,
        commerce_id=str(spec.get("commerceId") or derived_id(customer_id, "commerce")),
        company_name=spec["companyName"],
        domain=spec["domain"],
        relationship=spec.get("relationshipToPartner", "reseller"),
        # DAP is the exception now: new relationships have come without it since the GDAP
        # transition, and Microsoft removed it where it was unused ("dap-admin-relationship-
        # terminated-by-microsoft", ../shared/reference/anchors.md §3.3). A demo customer that still
        # has it says so.
        allow_delegated_access=bool(spec.get("allowDelegatedAccess", False)),
        billing=BillingProfile(
            first_name=contact.get("firstName", "Alex"),
            last_name=contact.get("lastName", "Wilber"),
            email=contact.get("email", f"billing@{spec['domain']}"),
            culture=contact.get("culture", "en-US"),
            language=contact.get("language", "en"),
            country=contact.get("country", "US"),
            city=contact.get("city", "Redmond"),
            address_line1=contact.get("addressLine1", "1 Microsoft Way"),
            postal_code=contact.get("postalCode", "98052"),
        ),
        currency=str(spec.get("currency", currency)),
    )
    specs = list(spec.get("subscriptions", [])) + _generated_specs(customer_id, spec.get("generate", {}), offers)
    for index, sub_spec in enumerate(specs):
        subscription = build_subscription(customer_id, sub_spec, offers, now=now, index=index)
        customer.add_subscription(subscription)
    for index, order_spec in enumerate(spec.get("orders", [])):
        order = _order(customer_id, order_spec, index, now, customer.currency)
        customer.orders[order.id] = order
    for index, reservation_spec in enumerate(spec.get("reservations", [])):
        reservation, order = _reservation(customer_id, reservation_spec, index, now, customer.currency)
        customer.reservations[reservation.order_id] = reservation
        customer.orders[order.id] = order
    for index, plan_spec in enumerate(spec.get("savingsPlans", [])):
        plan, order = _savings_plan(customer, plan_spec, index, now)
        customer.savings_plans[plan.order_id] = plan
        customer.orders[order.id] = order
    for index, transfer_spec in enumerate(spec.get("transfers", [])):
        transfer = build_transfer(
            customer,
            transfer_spec,
            now=now,
            transfer_id=str(transfer_spec.get("id") or derived_id(customer_id, "transfer", str(index))),
            dates=lambda value: resolve_date(value, now),
        )
        customer.transfers[transfer.id] = transfer
    return customer


def build_subscription(customer_id: str, spec: Mapping[str, Any], offers: Mapping[str, Any], *, now: datetime, index: int) -> Subscription:
    """A subscription from a (partial) spec; an ``offer`` key pulls defaults from ``offers``.

    Also used by the operator endpoint that adds a subscription, so its
    defaults are the sandbox's idea of a freshly bought, active subscription.
    """
    offer_key = spec.get("offer")
    if offer_key is not None and offer_key not in offers:
        raise ValueError(f"unknown offer {offer_key!r}")
    merged: dict[str, Any] = {**(offers[offer_key] if offer_key is not None else {}), **spec}
    subscription_id = str(merged.get("id") or derived_id(customer_id, "subscription", str(index))).lower()
    product_type = merged.get("productType", "OnlineServices")
    if isinstance(product_type, Mapping):
        product_type = product_type.get("id", "OnlineServices")
    kind = SubscriptionKind.from_product_type(product_type)
    is_azure = kind is SubscriptionKind.AZURE_PLAN
    term = merged.get("termDuration", None if is_azure else "P1Y")

    def date(key: str, default: datetime) -> datetime:
        value = merged.get(key)
        return resolve_date(value, now) if isinstance(value, str) else default

    def optional_date(key: str, default: datetime | None) -> datetime | None:
        value = merged.get(key)
        return resolve_date(value, now) if isinstance(value, str) else default

    created = date("creationDate", resolve_date("now", now))
    started = date("effectiveStartDate", created)
    commitment_end = optional_date("commitmentEndDate", _default_term_end(kind, started, term, now))
    window_end = optional_date(
        "cancellationAllowedUntilDate",
        started + NEW_COMMERCE_CANCELLATION_WINDOW if kind.has_cancellation_window else None,
    )
    full_refund_until = optional_date("fullRefundUntil", started + FULL_REFUND_PERIOD if kind.has_cancellation_window else None)
    tranches = [
        SeatTranche(quantity=int(tranche["quantity"]), allowed_until=resolve_date(str(tranche["allowedUntil"]), now))
        for tranche in merged.get("seatTranches", [])
    ]
    if sum(tranche.quantity for tranche in tranches) > int(merged.get("quantity", 1)):
        raise ValueError("seatTranches add up to more seats than the subscription has")
    subscription = Subscription(
        id=subscription_id,
        offer_id=merged.get("offerId", derived_id("offer", str(offer_key)).upper()),
        offer_name=merged.get("offerName", "Office 365 E3"),
        friendly_name=merged.get("friendlyName", merged.get("offerName", "Office 365 E3")),
        product_type=product_type,
        quantity=int(merged.get("quantity", 1)),
        unit_type=merged.get("unitType", "Licenses"),
        creation_date=created,
        effective_start_date=started,
        commitment_end_date=commitment_end,
        cancellation_allowed_until=window_end,
        status=merged.get("status", "active"),
        auto_renew=bool(merged.get("autoRenewEnabled", not is_azure)),
        billing_cycle=merged.get("billingCycle", "monthly"),
        term_duration=term,
        order_id=str(merged.get("orderId") or _order_id(customer_id, subscription_id)),
        unit_price=parse_price(merged.get("unitPrice")),
        list_price=parse_price(merged.get("listPrice")),
        full_refund_until=full_refund_until,
        seat_tranches=tranches,
    )
    for position, entitlement in enumerate(merged.get("azureEntitlements", [])):
        entitlement_id = str(entitlement.get("id") or derived_id(subscription_id, "azure", str(position))).lower()
        subscription.azure_entitlements[entitlement_id] = AzureEntitlement(
            id=entitlement_id,
            friendly_name=entitlement.get("friendlyName", f"Azure subscription {position + 1}"),
            status=entitlement.get("status", "active"),
        )
    return subscription


def _default_term_end(kind: SubscriptionKind, started: datetime, term: str | None, now: datetime) -> datetime | None:
    if kind is SubscriptionKind.AZURE_PLAN or not term:
        return None
    end = add_duration(started, term)
    if kind is SubscriptionKind.LEGACY:
        while end <= now:  # legacy subscriptions renew silently: show the current term
            end = add_duration(end, term)
    return end


def _order(customer_id: str, spec: Mapping[str, Any], index: int, now: datetime, currency: str = "USD") -> Order:
    order_id = str(spec.get("id") or _order_id(customer_id, "seeded", str(index)))
    return Order(
        id=order_id,
        alternate_id=str(spec.get("alternateId", order_id)),
        kind=spec.get("kind", "software"),
        billing_cycle=spec.get("billingCycle", "one_time"),
        currency_code=spec.get("currencyCode", currency),
        creation_date=resolve_date(spec.get("creationDate", "now"), now),
        status=spec.get("status", "completed"),
        line_items=[
            OrderLineItem(
                line_item_number=number,
                offer_id=line["offerId"],
                friendly_name=line.get("friendlyName", line["offerId"]),
                quantity=int(line.get("quantity", 1)),
                term_duration=line.get("termDuration"),
                unit_price=parse_price(line.get("unitPrice")),
                list_price=parse_price(line.get("listPrice")),
            )
            for number, line in enumerate(spec.get("lineItems", []))
        ],
    )


def _reservation(customer_id: str, spec: Mapping[str, Any], index: int, now: datetime, currency: str = "USD") -> tuple[Reservation, Order]:
    order_id = str(spec.get("orderId") or _order_id(customer_id, "reservation", str(index)))
    reservation = Reservation(
        order_id=order_id,
        line_item_id="0",
        resource_id=str(spec.get("resourceId") or derived_id(customer_id, "reservation", str(index))),
        group_id=derived_id(customer_id, "reservation-group", str(index)).replace("-", ""),
        product_id=spec.get("productId", "DZH318Z0BQ3W"),
        sku_id=spec.get("skuId", "007J"),
        sku_title=spec.get("skuTitle", "Reserved VM Instance, 1 Year"),
        quantity=int(spec.get("quantity", 1)),
        reservation_type=spec.get("reservationType", "virtualmachines"),
        expiry_date=resolve_date(spec.get("expiryDate", "now+300d"), now),
        cancelled=bool(spec.get("cancelled", False)),
    )
    order = Order(
        id=order_id,
        alternate_id=order_id,
        kind="reservation",
        billing_cycle="one_time",
        currency_code=spec.get("currencyCode", currency),
        creation_date=resolve_date(spec.get("creationDate", "now-30d"), now),
        status="cancelled" if reservation.cancelled else "completed",
        line_items=[
            OrderLineItem(
                line_item_number=0,
                offer_id=f"{reservation.product_id}:{reservation.sku_id}",
                friendly_name=reservation.sku_title,
                quantity=reservation.quantity,
                term_duration=spec.get("termDuration", "P1Y"),
                unit_price=parse_price(spec.get("unitPrice")),
                list_price=parse_price(spec.get("listPrice")),
            )
        ],
    )
    return reservation, order


def _savings_plan(customer: Customer, spec: Mapping[str, Any], index: int, now: datetime) -> tuple[SavingsPlan, Order]:
    """An Azure savings plan and the order that bought it (``unitPrice`` = the hourly commitment
    billed per period, as the partner pays it; absent = no price)."""
    order_id = str(spec.get("orderId") or _order_id(customer.id, "savings-plan", str(index)))
    term = str(spec.get("termDuration", "P3Y"))
    created = resolve_date(spec.get("creationDate", "now-30d"), now)
    plan = SavingsPlan(
        order_id=order_id,
        resource_id=str(spec.get("resourceId") or derived_id(customer.id, "savings-plan", str(index))),
        product_id=spec.get("productId", "DZH318Z0BZZT"),
        sku_id=spec.get("skuId", "0003"),
        sku_title=spec.get("skuTitle", "Azure savings plan for compute, 3 Years"),
        quantity=int(spec.get("quantity", 1)),
        term_duration=term,
        billing_cycle=spec.get("billingCycle", "monthly"),
        expiry_date=resolve_date(spec["expiryDate"], now) if "expiryDate" in spec else add_duration(created, term),
    )
    order = Order(
        id=order_id,
        alternate_id=order_id,
        kind="savingsPlan",
        billing_cycle=plan.billing_cycle,
        currency_code=spec.get("currencyCode", customer.currency),
        creation_date=created,
        line_items=[
            OrderLineItem(
                line_item_number=0,
                offer_id=f"{plan.product_id}:{plan.sku_id}",
                friendly_name=spec.get("friendlyName", plan.sku_title),
                quantity=plan.quantity,
                term_duration=term,
                unit_price=parse_price(spec.get("unitPrice")),
                list_price=parse_price(spec.get("listPrice")),
            )
        ],
    )
    return plan, order


def _generated_specs(customer_id: str, generate: Mapping[str, Any], offers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Expand ``{"legacyActive": 900, "nceInsideWindow": 100, ...}`` into specs.

    Everything is derived from the position, so the same seed gives the same
    ids, names, quantities and dates on every load.
    """
    legacy_offers = generate.get("legacyOffers", ["O365_E3"])
    nce_offers = generate.get("nceOffers", ["M365_BP_NCE"])
    label = generate.get("friendlyNameFormat", "{offerName} - Store {number:03d}")
    specs: list[dict[str, Any]] = []
    for number in range(int(generate.get("legacyActive", 0))):
        specs.append(
            {
                "offer": legacy_offers[number % len(legacy_offers)],
                "quantity": 5 + (number * 7) % 46,
                "creationDate": f"now-{60 + (number * 13) % 600}d",
            }
        )
    for number in range(int(generate.get("nceInsideWindow", 0))):
        specs.append(
            {
                "offer": nce_offers[number % len(nce_offers)],
                "quantity": 1 + number % 20,
                "creationDate": f"now-{number % 6}d",  # the 7-day window is still open
            }
        )
    for number, spec in enumerate(specs, start=1):
        offer_name = offers.get(spec["offer"], {}).get("offerName", spec["offer"])
        spec["friendlyName"] = label.format(offerName=offer_name, number=number)
        spec["orderId"] = _order_id(customer_id, "generated", str((number - 1) // _GENERATED_PER_ORDER))
    return specs
