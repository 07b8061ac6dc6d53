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
from decimal import Decimal
from enum import StrEnum

__all__ = (
    "AzureEntitlement",
    "BillingProfile",
    "Customer",
    "Order",
    "OrderLineItem",
    "Reservation",
    "SavingsPlan",
    "SeatTranche",
    "Subscription",
    "SubscriptionKind",
    "Transfer",
    "TransferLine",
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
class SeatTranche:
    """Seats bought together, reducible until ``allowed_until`` (``refundableQuantity.details``)."""

    quantity: int
    allowed_until: datetime


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
    # The partner's price per seat and billing period (``pricing.price`` on its order line);
    # None = the sandbox gives no price for it, as Partner Center sometimes does not.
    unit_price: Decimal | None = None
    list_price: Decimal | None = None
    # Refund windows (refund_rules.py): a full refund until ``full_refund_until``, a prorated one
    # until ``cancellation_allowed_until``; seat reductions per tranche.
    full_refund_until: datetime | None = None
    seat_tranches: list[SeatTranche] = field(default_factory=list)

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
    unit_price: Decimal | None = None  # the partner's price per unit and billing period
    list_price: Decimal | None = None


@dataclass(slots=True)
class Order:
    id: str
    alternate_id: str
    kind: str  # "software" (cancellable by PATCH) | "subscription" | "reservation" | "savingsPlan"
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
class SavingsPlan:
    """An Azure savings plan: "All savings plan purchases are final" (MicrosoftDocs/azure-docs
    cost-management-billing/savings-plan/cancel-savings-plan.md). Shown as an entitlement shaped
    like a reservation (ASSUMPTION: the issue-21 contract's shape)."""

    order_id: str  # Partner Center order id (referenceOrder.id); also its id in transfer line items
    resource_id: str  # the Azure savings plan order id
    product_id: str
    sku_id: str
    sku_title: str
    quantity: int
    term_duration: str
    billing_cycle: str
    expiry_date: datetime
    transferred: bool = False

    def is_active(self, now: datetime) -> bool:
        return not self.transferred and self.expiry_date > now


@dataclass(slots=True)
class TransferLine:
    """One line item of a new-commerce transfer (transfer-entity-resources)."""

    id: int
    subscription_id: str  # a subscription id, or a savings plan's order id (ASSUMPTION)
    quantity: int
    billing_cycle: str
    friendly_name: str
    offer_id: str
    term_duration: str | None
    partner_id_on_record: str | None = None
    status: str | None = None  # None until submitted; then InProgress, Completed or Failed (ASSUMPTION)
    transfer_error: str | None = None
    fail: bool = False  # the operator's switch: this line fails when the transfer completes
    fail_message: str | None = None  # its transferError then (None: the sandbox's default text)


@dataclass(slots=True)
class Transfer:
    """A transfer request another partner created for a customer of ours (transfers.py)."""

    id: str
    customer_id: str
    customer_name: str
    customer_email: str
    source_partner_tenant_id: str
    source_partner_name: str
    target_partner_tenant_id: str
    target_partner_name: str
    target_partner_email: str
    created: datetime
    last_modified: datetime
    expiration: datetime
    line_items: list[TransferLine]
    status: str = "Active"  # Active | Completed (documented) | Expired | Canceled (ASSUMPTIONS)
    transfer_type: str = "5"  # 5 = NewCommerce
    target_product_types: list[str] | None = None
    submitted: datetime | None = None
    completed: datetime | None = None


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
    savings_plans: dict[str, SavingsPlan] = field(default_factory=dict)  # by order id
    transfers: dict[str, Transfer] = field(default_factory=dict)  # by transfer id
    # The partner's billing currency: the currency of the orders bought for this customer.
    currency: str = "USD"

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
                currency_code=self.currency,
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
                unit_price=subscription.unit_price,
                list_price=subscription.list_price,
            )
        )
