"""What keeps a reseller relationship from being removed.

Partner Center documents the preconditions (reference §7) but not the error,
so the sandbox enforces them itself. An item blocks while:

- a legacy subscription or an Azure plan is ``active`` (statuses the sandbox
  does not know are not active: ``disabled``, ``pending``...);
- a new-commerce or software subscription is neither ``deleted`` nor
  ``expired`` (suspending one does not stop billing, so it still blocks:
  reference §4.2);
- an Azure subscription under an Azure plan is ``active``;
- a software order is inside its cancellation window and not cancelled;
- an Azure reservation is neither cancelled nor expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .models import Customer, SubscriptionKind
from .order_rules import is_inside_window

__all__ = ("Blocker", "removal_blockers")


@dataclass(frozen=True, slots=True)
class Blocker:
    kind: str  # subscription | azureEntitlement | order | reservation
    id: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


def removal_blockers(customer: Customer, now: datetime) -> list[Blocker]:
    """Every item blocking removal, in a stable order (subscriptions first)."""
    found: list[Blocker] = []
    for subscription in customer.subscriptions.values():
        status = subscription.status.lower()
        if subscription.kind.has_cancellation_window:
            if status not in ("deleted", "expired"):
                found.append(Blocker("subscription", subscription.id))
        elif status == "active":
            found.append(Blocker("subscription", subscription.id))
    for subscription in customer.subscriptions.values():
        if subscription.kind is SubscriptionKind.AZURE_PLAN:
            found.extend(
                Blocker("azureEntitlement", entitlement.id)
                for entitlement in subscription.azure_entitlements.values()
                if entitlement.status.lower() == "active"
            )
    for order in customer.orders.values():
        if order.kind == "software" and order.status.lower() != "cancelled" and is_inside_window(order, now):
            found.append(Blocker("order", order.id))
    found.extend(
        Blocker("reservation", reservation.order_id)
        for reservation in customer.reservations.values()
        if reservation.is_active(now)
    )
    return found
