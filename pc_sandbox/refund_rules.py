"""What a new-commerce subscription refunds if cancelled or reduced now, as Partner Center shows it.

On the Subscription (reference anchors §4, .NET SDK ``Microsoft.Store.PartnerCenter.Models.
Subscriptions``):

- ``refundOptions``: ``[{"type": "Full" | "Partial", "expiresAt"}]``, "when this policy expires";
- ``refundableQuantity``: ``{"totalQuantity", "details": [{"quantity", "allowedUntilDateTime"}]}``,
  "the number of seats eligible for reduction at the time of the request", one window per tranche
  of seats bought together.

Rules (each window closes when the sandbox clock passes it):

- a prorated ("Partial") refund until ``cancellationAllowedUntilDate``: "License-based: prorated
  refund within 7 calendar days"; software subscriptions the same, "no license reductions after
  that" (learn.microsoft.com/partner-center/customers/new-commerce-cancellation-policy);
- a "Full" refund for the first 24 hours: ASSUMPTION (the catalog's ``CancellationPolicy.
  RefundOptions`` lists Full before Partial; third parties say "full refund within about 24 h",
  interworks.cloud wiki, CloudPlus KB);
- once every window has closed ``refundOptions`` reads ``[]`` and ``refundableQuantity`` reads
  ``{"totalQuantity": 0, "details": []}`` (ASSUMPTION: Partner Center may omit them instead);
- legacy subscriptions and Azure plans carry neither field (they have no refund windows).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .models import SeatTranche, Subscription

__all__ = ("FULL_REFUND_PERIOD", "open_tranches", "refund_options", "reset_refund_windows")

FULL_REFUND_PERIOD = timedelta(hours=24)  # ASSUMPTION (module docstring)
_FINAL_STATUSES = frozenset({"deleted", "expired", "disabled"})


def _refundable(subscription: Subscription) -> bool:
    return subscription.kind.has_cancellation_window and subscription.status.lower() not in _FINAL_STATUSES


def refund_options(subscription: Subscription, now: datetime) -> list[tuple[str, datetime]] | None:
    """``[(type, expiresAt)]`` still open now; None for subscriptions without refund windows."""
    if not subscription.kind.has_cancellation_window:
        return None
    if not _refundable(subscription):
        return []
    options: list[tuple[str, datetime]] = []
    if subscription.full_refund_until is not None and now <= subscription.full_refund_until:
        options.append(("Full", subscription.full_refund_until))
    window_end = subscription.cancellation_allowed_until
    if window_end is not None and now <= window_end:
        options.append(("Partial", window_end))
    return options


def open_tranches(subscription: Subscription, now: datetime) -> list[SeatTranche] | None:
    """Seat tranches still reducible now; None for subscriptions without refund windows.

    Without seeded tranches all seats form one tranche whose window is the subscription's
    cancellation window (bought together, or renewed together: "the cancellation window doesn't
    reopen until the subscription itself renews", new-commerce-cancellation-policy).
    """
    if not subscription.kind.has_cancellation_window:
        return None
    if not _refundable(subscription):
        return []
    tranches = subscription.seat_tranches
    if not tranches and subscription.cancellation_allowed_until is not None:
        tranches = [SeatTranche(subscription.quantity, subscription.cancellation_allowed_until)]
    return [tranche for tranche in tranches if now <= tranche.allowed_until and tranche.quantity > 0]


def reset_refund_windows(subscription: Subscription, renewed_at: datetime) -> None:
    """A renewal opens new windows for the whole quantity (the renewal's 7 days start "precisely at
    this datetime of renewal completion", create-a-new-subscription.md)."""
    subscription.full_refund_until = renewed_at + FULL_REFUND_PERIOD
    subscription.seat_tranches = []
