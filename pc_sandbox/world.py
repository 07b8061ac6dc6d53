"""The sandbox's in-memory Partner Center: customers and everything they bought.

:class:`World` is the only place state changes. Handlers look things up through
it (which also applies the effects of time, lazily, to what they read) and call
its commands, which apply the Partner Center rules from ``subscription_rules``,
``order_rules`` and ``blockers`` and raise :class:`~.errors.ApiFault` on refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from . import errors
from .blockers import Blocker, removal_blockers
from .clock import SandboxClock
from .errors import ApiFault
from .models import AzureEntitlement, Customer, Order, OrderLineItem, Reservation, SavingsPlan, Subscription, SubscriptionKind, Transfer
from .order_rules import cancel_order, refuse_savings_plan_cancel
from .paging import CustomerFilter
from .subscription_rules import (
    AZURE_CANCEL_DELAY,
    SubscriptionLifecycle,
    apply_status,
    check_azure_cancellation_reason,
    settle_azure_cancellations,
    settle_subscription,
    update_subscription,
)
from .transfers import TRANSFER_COMPLETION_DELAY, build_transfer, settle_transfers, update_transfer

__all__ = ("World",)


class World:
    """All customers of the sandbox's single partner, keyed by tenant id."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        lifecycle: SubscriptionLifecycle | None = None,
        azure_cancel_delay: timedelta = AZURE_CANCEL_DELAY,
        transfer_completion_delay: timedelta = TRANSFER_COMPLETION_DELAY,
    ) -> None:
        self.clock = clock
        self.lifecycle = lifecycle or SubscriptionLifecycle()
        self.azure_cancel_delay = azure_cancel_delay
        self.transfer_completion_delay = transfer_completion_delay
        self.customers: dict[str, Customer] = {}
        # Azure subscriptions cancelled and not yet showing it: (customer, plan, entitlement) ->
        # when the cancel was accepted (see settle_azure_cancellations).
        self.azure_cancels: dict[tuple[str, str, str], datetime] = {}

    def replace(self, customers: Iterable[Customer]) -> None:
        """Swap in a freshly loaded world (same object, so references stay valid)."""
        self.customers = {customer.id: customer for customer in customers}
        self.azure_cancels = {}
        now = self.now()  # start the lifecycle timers of what was loaded (a seeded suspension)
        for customer in self.customers.values():
            for subscription in customer.subscriptions.values():
                settle_subscription(subscription, now, self.lifecycle)

    def now(self) -> datetime:
        return self.clock.now()

    # ---- Lookups (each applies the effects of elapsed time first) ----

    def customer(self, customer_id: str) -> Customer:
        customer = self.customers.get(customer_id.lower())
        if customer is None:
            raise ApiFault(404, errors.TENANT_NOT_FOUND, f"Tenant with ID {customer_id} not found.")
        now = self.now()
        for subscription in customer.subscriptions.values():
            settle_subscription(subscription, now, self.lifecycle)
        settle_azure_cancellations(customer, self.azure_cancels, now, self.azure_cancel_delay)
        settle_transfers(customer, now, self.transfer_completion_delay)
        return customer

    def related_customer(self, customer_id: str) -> Customer:
        """A customer the partner still has a relationship with (for sub-resources)."""
        customer = self.customer(customer_id)
        if not customer.has_relationship:
            raise errors.no_relationship()
        return customer

    def subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        customer = self.related_customer(customer_id)
        return self._subscription_of(customer, subscription_id)

    def order(self, customer_id: str, order_id: str) -> Order:
        customer = self.related_customer(customer_id)
        order = customer.orders.get(order_id)
        if order is None:
            raise ApiFault(404, errors.NOT_FOUND, f"Order with ID {order_id} not found.")
        return order

    def transfer(self, customer_id: str, transfer_id: str) -> Transfer:
        customer = self.related_customer(customer_id)
        transfer = customer.transfers.get(transfer_id.lower())
        if transfer is None:
            raise ApiFault(404, errors.NOT_FOUND, f"Transfer with ID {transfer_id} not found.")
        return transfer

    @staticmethod
    def _subscription_of(customer: Customer, subscription_id: str) -> Subscription:
        subscription = customer.subscriptions.get(subscription_id.lower())
        if subscription is None:
            raise ApiFault(404, errors.SUBSCRIPTION_NOT_FOUND, f"Subscription with ID {subscription_id} not found.")
        return subscription

    # ---- Queries ----

    def listed_customers(self, search: CustomerFilter | None = None) -> list[Customer]:
        """The partner's customer list: removed customers have left it."""
        return [
            customer for customer in self.customers.values() if customer.has_relationship and (search is None or search.matches(customer))
        ]

    def visible_reservations(self, customer: Customer) -> list[Reservation]:
        now = self.now()
        return [reservation for reservation in customer.reservations.values() if reservation.is_active(now)]

    def visible_savings_plans(self, customer: Customer) -> list[SavingsPlan]:
        """Savings plans still running and not transferred away (ASSUMPTION: an expired one leaves
        the list, like an expired reservation)."""
        now = self.now()
        return [plan for plan in customer.savings_plans.values() if plan.is_active(now)]

    def software_entitlements(self, customer: Customer) -> list[tuple[Order, OrderLineItem]]:
        """Each uncancelled line of a software order grants one software entitlement."""
        return [
            (order, line)
            for order in customer.orders.values()
            if order.kind == "software"
            for line in order.line_items
            if not line.cancelled
        ]

    def blockers(self, customer_id: str) -> list[Blocker]:
        return removal_blockers(self.customer(customer_id), self.now())

    # ---- Commands (the /v1 writes) ----

    def remove_relationship(self, customer_id: str, *, assumed_blockers: bool = True) -> Customer:
        """Preconditions: ``blockers.py`` (documented ones always, ASSUMPTIONS when
        ``assumed_blockers``); the 400/3012 refusal is itself an assumption (errors.py)."""
        customer = self.related_customer(customer_id)
        blocking = removal_blockers(customer, self.now(), assumed=assumed_blockers)
        if blocking:
            raise ApiFault(
                400,
                errors.REMOVAL_BLOCKED,
                "Customer relationship cannot be removed while these items are active: " + ", ".join(str(blocker) for blocker in blocking),
                data=[blocker.id for blocker in blocking],
            )
        customer.relationship = "none"
        customer.allow_delegated_access = False  # removal also removes DAP (reference §7)
        return customer

    def remove_delegated_access(self, customer_id: str) -> Customer:
        """Remove DAP: ``allowDelegatedAccess`` becomes false, the reseller relationship stays
        (learn.microsoft.com/partner-center/developer/remove-dap). Removing it again is accepted
        and changes nothing (ASSUMPTION: the repeat is undocumented)."""
        customer = self.related_customer(customer_id)
        customer.allow_delegated_access = False
        return customer

    def update_subscription(self, customer_id: str, subscription_id: str, body: dict[str, Any], *, if_match: str | None) -> Subscription:
        subscription = self.subscription(customer_id, subscription_id)
        update_subscription(
            subscription,
            body,
            if_match=if_match,
            has_active_azure_subscriptions=any(
                entitlement.status.lower() == "active" for entitlement in subscription.azure_entitlements.values()
            ),
            now=self.now(),
            lifecycle=self.lifecycle,
        )
        return subscription

    def cancel_azure_entitlement(self, customer_id: str, plan_id: str, entitlement_id: str, body: dict[str, Any] | None = None) -> None:
        """Accept the cancel of one Azure subscription; it shows ``azure_cancel_delay`` later.

        ``body`` has lower-cased keys; its ``cancellationReason`` must be ``compromise``.
        """
        plan = self.subscription(customer_id, plan_id)
        entitlement = plan.azure_entitlements.get(entitlement_id.lower())
        if entitlement is None:
            raise ApiFault(404, errors.NOT_FOUND, f"Azure entitlement with ID {entitlement_id} not found.")
        check_azure_cancellation_reason(body or {})
        key = (customer_id.lower(), plan.id.lower(), entitlement.id.lower())
        if entitlement.status.lower() == "active":
            # Cancelling again while it propagates is accepted (assumption: the real repeat is
            # undocumented) and does not restart the delay.
            self.azure_cancels.setdefault(key, self.now())
        settle_azure_cancellations(self.customer(customer_id), self.azure_cancels, self.now(), self.azure_cancel_delay)

    def update_transfer(self, customer_id: str, transfer_id: str, body: dict[str, Any]) -> Transfer:
        transfer = self.transfer(customer_id, transfer_id)
        update_transfer(self.customer(customer_id), transfer, body, now=self.now())
        return transfer

    def cancel_order(self, customer_id: str, order_id: str, body: dict[str, Any]) -> Order:
        order = self.order(customer_id, order_id)
        cancel_order(order, body, customer_id=customer_id, now=self.now())
        return order

    # ---- Operator commands (what only a person or Microsoft can do) ----

    def cancel_reservation(self, customer_id: str, order_id: str) -> Reservation:
        customer = self.customer(customer_id)
        for reservation in customer.reservations.values():
            if order_id in (reservation.order_id, reservation.resource_id):
                reservation.cancelled = True
                order = customer.orders.get(reservation.order_id)
                if order is not None:
                    order.status = "cancelled"
                return reservation
        raise ApiFault(404, errors.NOT_FOUND, f"Reservation order {order_id} not found.")

    def create_transfer(self, customer_id: str, spec: dict[str, Any], transfer_id: str) -> Transfer:
        """The simulated other partner creates a transfer request (``POST /_sandbox/transfers``)."""
        customer = self.related_customer(customer_id)
        try:
            transfer = build_transfer(customer, spec, now=self.now(), transfer_id=transfer_id.lower())
        except ValueError as exc:
            raise errors.invalid_input(str(exc)) from None
        customer.transfers[transfer.id] = transfer
        return transfer

    def fail_transfer_lines(self, customer_id: str, transfer_id: str, line_ids: list[str], message: str | None) -> Transfer:
        """The operator's switch: these line items fail when the transfer completes."""
        transfer = self.transfer(customer_id, transfer_id)
        by_id = {str(line.id): line for line in transfer.line_items}
        unknown = [line_id for line_id in line_ids if line_id not in by_id]
        if unknown:
            raise ApiFault(404, errors.NOT_FOUND, f"Line items {unknown} not found in transfer {transfer.id}.")
        for line_id in line_ids:
            by_id[line_id].fail = True
            by_id[line_id].fail_message = message
        return transfer

    def add_subscription(self, customer_id: str, subscription: Subscription) -> None:
        customer = self.customer(customer_id)
        if subscription.id in customer.subscriptions:
            raise errors.invalid_input(f"subscription {subscription.id} already exists")
        customer.add_subscription(subscription)

    def add_azure_entitlement(self, customer_id: str, plan_id: str, entitlement_id: str, friendly_name: str) -> AzureEntitlement:
        """The customer creates an Azure subscription under its Azure plan (in the Azure portal)."""
        plan = self._subscription_of(self.customer(customer_id), plan_id)
        if plan.kind is not SubscriptionKind.AZURE_PLAN:
            raise errors.invalid_input(f"subscription {plan_id} is not an Azure plan")
        entitlement_id = entitlement_id.lower()
        if entitlement_id in plan.azure_entitlements:
            raise errors.invalid_input(f"Azure subscription {entitlement_id} already exists")
        entitlement = AzureEntitlement(id=entitlement_id, friendly_name=friendly_name)
        plan.azure_entitlements[entitlement_id] = entitlement
        return entitlement

    def transfer_azure_entitlement(self, customer_id: str, plan_id: str, entitlement_id: str) -> None:
        """The customer moves an Azure subscription to another partner or billing account (a
        billing transfer): it leaves this plan's ``azureEntitlements``, nothing is cancelled.
        Azure subscriptions "can be transferred to another partner or billing account" (fidelity
        audit §3.5); how the real list shows a transferred one is an assumption (gone)."""
        plan = self._subscription_of(self.customer(customer_id), plan_id)
        if plan.azure_entitlements.pop(entitlement_id.lower(), None) is None:
            raise ApiFault(404, errors.NOT_FOUND, f"Azure entitlement with ID {entitlement_id} not found.")
        self.azure_cancels.pop((customer_id.lower(), plan.id.lower(), entitlement_id.lower()), None)

    def reactivate_subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        subscription = self._subscription_of(self.customer(customer_id), subscription_id)
        apply_status(subscription, "active", self.now(), self.lifecycle)
        subscription.touch()
        return subscription

    def suspend_subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        """Someone suspends it in the Partner Center portal (no rule checked: a person did it)."""
        return self._set_status(customer_id, subscription_id, "suspended")

    def cancel_subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        """Someone cancels it in the portal (status ``deleted``; it never renews)."""
        subscription = self._set_status(customer_id, subscription_id, "deleted")
        subscription.auto_renew = False
        return subscription

    def cancel_order_in_portal(self, customer_id: str, order_id: str) -> Order:
        """Someone cancels a whole purchase in the portal, whatever its window (but not a savings
        plan: "All savings plan purchases are final", cancel-savings-plan.md)."""
        order = self.order(customer_id, order_id)
        refuse_savings_plan_cancel(order)
        for line in order.line_items:
            line.cancelled = True
            line.quantity = 0
        order.status = "cancelled"
        return order

    def _set_status(self, customer_id: str, subscription_id: str, status: str) -> Subscription:
        subscription = self._subscription_of(self.customer(customer_id), subscription_id)
        apply_status(subscription, status, self.now(), self.lifecycle)  # e.g. NCE suspend: auto-renew off
        subscription.touch()
        return subscription

    def touch_subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        subscription = self._subscription_of(self.customer(customer_id), subscription_id)
        subscription.touch()
        return subscription
