"""The in-memory records the sandbox world is made of.

Plain mutable dataclasses: the world changes them in place under the Partner
Center rules (``world.py`` and the ``*_rules.py`` modules); ``wire.py`` turns
them into the camelCase JSON Partner Center sends.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = (
    "AzureEntitlement",
    "BillingProfile",
    "Customer",
    "Order",
    "OrderLineItem",
    "Reservation",
    "Subscription",
    "SubscriptionKind",
)


class SubscriptionKind(StrEnum):
    """Which rules apply to a subscription; derived from ``productType.id``."""

    LEGACY = "legacy"  # OnlineServices: suspend to stop billing
    NEW_COMMERCE = "new_commerce"  # OnlineServicesNCE: cancel in window or let expire
    SOFTWARE = "software"  # NCE software subscription: same rules as NCE
    AZURE_PLAN = "azure_plan"  # Azure: cancel Azure subscriptions, then suspend

    @classmethod
    def from_product_type(cls, product_type: str) -> SubscriptionKind:
        return _KIND_BY_PRODUCT_TYPE.get(product_type.lower(), cls.LEGACY)

    @property
    def has_cancellation_window(self) -> bool:
        return self in (SubscriptionKind.NEW_COMMERCE, SubscriptionKind.SOFTWARE)


_KIND_BY_PRODUCT_TYPE = {
    "onlineservices": SubscriptionKind.LEGACY,
    "onlineservicesnce": SubscriptionKind.NEW_COMMERCE,
    "software": SubscriptionKind.SOFTWARE,
    "azure": SubscriptionKind.AZURE_PLAN,
}


@dataclass(slots=True)
class AzureEntitlement:
    """An Azure subscription under an Azure plan (``.../azureEntitlements``)."""

    id: str
    friendly_name: str
    status: str = "active"  # "active" | "cancelled"


@dataclass(slots=True)
class Subscription:
    id: str
    offer_id: str
    offer_name: str
    friendly_name: str
    product_type: str  # productType.id: OnlineServices | OnlineServicesNCE | Software | Azure
    quantity: int
    unit_type: str
    creation_date: datetime
    effective_start_date: datetime
    commitment_end_date: datetime | None
    cancellation_allowed_until: datetime | None  # only new commerce
    status: str
    auto_renew: bool
    billing_cycle: str
    term_duration: str | None
    order_id: str
    azure_entitlements: dict[str, AzureEntitlement] = field(default_factory=dict)
    version: int = 1
    # When the current status ends by itself (lifecycle timers: subscription_rules.py); None = no
    # timer running, or derived from the term end.
    status_until: datetime | None = None

    @property
    def kind(self) -> SubscriptionKind:
        return SubscriptionKind.from_product_type(self.product_type)

    @property
    def etag(self) -> str:
        """Opaque, and different after every change (that is all clients may rely on)."""
        raw = json.dumps({"id": self.id, "version": self.version}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def touch(self) -> None:
        """Record a change: the etag a client holds becomes stale."""
        self.version += 1


@dataclass(slots=True)
class OrderLineItem:
    line_item_number: int
    offer_id: str
    friendly_name: str
    quantity: int
    term_duration: str | None = None
    subscription_id: str | None = None
    transaction_type: str = "new"
    cancelled: bool = False


@dataclass(slots=True)
class Order:
    id: str
    alternate_id: str
    kind: str  # "software" (cancellable by PATCH) | "subscription" | "reservation"
    billing_cycle: str
    currency_code: str
    creation_date: datetime
    line_items: list[OrderLineItem]
    status: str = "completed"  # completed | cancelled


@dataclass(slots=True)
class Reservation:
    """An Azure reservation: visible as an entitlement, cancellable only by a person."""

    order_id: str  # Partner Center order id (referenceOrder.id)
    line_item_id: str
    resource_id: str  # Azure reservation order id (the artifact's resourceId)
    group_id: str
    product_id: str
    sku_id: str
    sku_title: str
    quantity: int
    reservation_type: str
    expiry_date: datetime
    cancelled: bool = False

    def is_active(self, now: datetime) -> bool:
        return not self.cancelled and self.expiry_date > now


@dataclass(slots=True)
class BillingProfile:
    first_name: str
    last_name: str
    email: str
    culture: str
    language: str
    country: str
    city: str
    address_line1: str
    postal_code: str


@dataclass(slots=True)
class Customer:
    id: str  # the customer's tenant id
    commerce_id: str
    company_name: str
    domain: str
    relationship: str  # reseller | none | ...
    allow_delegated_access: bool
    billing: BillingProfile
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)  # by order id

    @property
    def has_relationship(self) -> bool:
        return self.relationship.lower() != "none"

    def add_subscription(self, subscription: Subscription) -> None:
        """Add a subscription and the purchase order line it came from.

        Subscriptions sharing an ``order_id`` become lines of one order.
        """
        self.subscriptions[subscription.id] = subscription
        order = self.orders.setdefault(
            subscription.order_id,
            Order(
                id=subscription.order_id,
                alternate_id=subscription.order_id,
                kind="subscription",
                billing_cycle=subscription.billing_cycle,
                currency_code="USD",
                creation_date=subscription.creation_date,
                line_items=[],
            ),
        )
        order.line_items.append(
            OrderLineItem(
                line_item_number=len(order.line_items),
                offer_id=subscription.offer_id,
                friendly_name=subscription.friendly_name,
                quantity=subscription.quantity,
                term_duration=subscription.term_duration,
                subscription_id=subscription.id,
            )
        )
