"""What keeps a reseller relationship from being removed.

Partner Center documents no error for a refused removal (../shared/reference/fidelity-audit.md §5), so
the sandbox enforces the preconditions itself.

Documented (always on): Microsoft's own pre-check, the C# walkthrough in
developer/remove-a-reseller-relationship-with-a-customer.md, looks only at

- any subscription whose status is ``active``;
- reserved-instance entitlements (here: an Azure reservation neither
  cancelled nor expired).

ASSUMPTIONS (on unless ``SandboxOptions.removal_assumed_blockers`` is off):

- a new-commerce or software subscription that is suspended (or pending...)
  still blocks until ``deleted``, ``expired`` or ``disabled``: current LEARN
  remove-a-relationship says "NCE subscriptions must be cancelled for the
  reselling relationship to be removed"; whether the *API* refuses is not
  documented;
- an Azure subscription under an Azure plan that is ``active`` blocks
  (the portal: "If any subscriptions are still active, the Remove reseller
  relationship link will be inactive"; not in the API pre-check);
- perpetual software inside its 30-day cancellation window blocks (the portal
  page says "Cancel any software purchases"; not in the API pre-check);
- an Azure savings plan still running blocks, like a reservation (not in the API pre-check; it
  can never be cancelled, so only a transfer or its term end clears it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .models import Customer, SubscriptionKind
from .order_rules import is_inside_window

__all__ = ("Blocker", "removal_blockers")


@dataclass(frozen=True, slots=True)
class Blocker:
    kind: str  # subscription | azureEntitlement | order | reservation | savingsPlan
    id: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


def removal_blockers(customer: Customer, now: datetime, *, assumed: bool = True) -> list[Blocker]:
    """Every item blocking removal, in a stable order (subscriptions first).

    :param assumed: also apply the undocumented rules (the module docstring's ASSUMPTIONS).
    """
    found: list[Blocker] = []
    for subscription in customer.subscriptions.values():
        status = subscription.status.lower()
        if status == "active":  # documented: the C# pre-check's "status is Active"
            found.append(Blocker("subscription", subscription.id))
        elif assumed and subscription.kind.has_cancellation_window and status not in ("deleted", "expired", "disabled"):
            found.append(Blocker("subscription", subscription.id))  # ASSUMPTION (see above)
    if assumed:
        found.extend(_assumed_item_blockers(customer, now))
    found.extend(
        Blocker("reservation", reservation.order_id)  # documented: RI entitlements
        for reservation in customer.reservations.values()
        if reservation.is_active(now)
    )
    return found


def _assumed_item_blockers(customer: Customer, now: datetime) -> list[Blocker]:
    """ASSUMPTIONS: active Azure subscriptions under a plan, software inside its window."""
    found: list[Blocker] = []
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
    found.extend(Blocker("savingsPlan", plan.order_id) for plan in customer.savings_plans.values() if plan.is_active(now))
    return found
