"""Partner Center's rules for changing a subscription, and what time does to one.

``PATCH /v1/customers/{cid}/subscriptions/{sid}`` (reference §4) takes the full
Subscription; only ``status`` and ``autoRenewEnabled`` matter here. A body that
omits ``autoRenewEnabled`` turns auto-renew off, as the service does ("If these
attributes are not provided, autoRenewEnabled will inadvertently get set to
false", learn.microsoft.com/partner-center/developer/update-a-subscription-by-id).
The checks run in this order: etag (If-Match), then a finished (deleted, expired,
disabled) subscription refuses everything, then a renewal still being processed
answers 409, then the status transition rules.

Lifecycles (learn.microsoft.com/partner-center/subscription-lifecycle unless noted),
with the timings in :class:`SubscriptionLifecycle` (``SandboxOptions.lifecycle``):

- new commerce, auto-renew on: renews after the term's last day ("If the term end
  date is 2023-03-01T00:00:00Z UTC it is inclusive of the whole day. The renewal
  will start after the term ends (2023-03-02T00:00:00Z UTC) and may take up to 24
  hours"); meanwhile updates answer 409; the new 7-day window "starts precisely at
  this datetime of renewal completion" (create-a-new-subscription.md);
- new commerce, auto-renew off: expired at term end, disabled 30 days later,
  deleted 90 days after that;
- new commerce, suspended: "Suspending a new commerce subscription will turn off
  auto-renew" (create-a-new-subscription.md); it never renews: at term end it is
  disabled ("30-day disabled state follows the end of a Suspended subscription's
  term"), then deleted;
- legacy, suspended: "If the subscription is still suspended by the term's end, the
  subscription is deleted… After 90 days in the suspended state, the subscription
  will be deleted".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from . import errors
from .clock import add_duration
from .errors import ApiFault
from .models import Subscription, SubscriptionKind
from .refund_rules import reset_refund_windows

__all__ = (
    "AZURE_CANCEL_DELAY",
    "NEW_COMMERCE_CANCELLATION_WINDOW",
    "SubscriptionLifecycle",
    "apply_status",
    "check_azure_cancellation_reason",
    "renewal_in_progress",
    "settle_azure_cancellations",
    "settle_subscription",
    "term_over",
    "update_subscription",
)

# New-commerce purchases and renewals can be cancelled for 7 days (reference §4.2).
NEW_COMMERCE_CANCELLATION_WINDOW = timedelta(days=7)

_FINAL_STATUSES = frozenset({"deleted", "expired", "disabled"})
# The code in the body of the renewal-processing 409 is not documented (assumption: 409 again).
_RENEWAL_IN_PROGRESS = 409
_SETTABLE_STATUSES = frozenset({"active", "suspended", "deleted"})


@dataclass(frozen=True, kw_only=True)
class SubscriptionLifecycle:
    """How long the documented lifecycle states last (subscription-lifecycle.md).

    Attributes:
        renewal_processing: after the term's last day, how long a renewal takes to
            complete; updates answer 409 meanwhile ("may take up to 24 hours"; the
            default is an assumption: a few hours).
        expired_to_disabled: new commerce, expired -> disabled ("30-day expired state").
        disabled_to_deleted: new commerce, disabled (after expiry) -> deleted ("90-day
            disabled state").
        suspended_disabled_to_deleted: new commerce, disabled at the end of a suspended
            term -> deleted ("30-day disabled state follows the end of a Suspended
            subscription's term").
        legacy_suspended_to_deleted: legacy, suspended -> deleted, unless the term ends
            first ("After 90 days in the suspended state, the subscription will be deleted").
    """

    renewal_processing: timedelta = timedelta(hours=4)
    expired_to_disabled: timedelta = timedelta(days=30)
    disabled_to_deleted: timedelta = timedelta(days=90)
    suspended_disabled_to_deleted: timedelta = timedelta(days=30)
    legacy_suspended_to_deleted: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        for name in (
            "renewal_processing",
            "expired_to_disabled",
            "disabled_to_deleted",
            "suspended_disabled_to_deleted",
            "legacy_suspended_to_deleted",
        ):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must be >= 0")


_DEFAULT_LIFECYCLE = SubscriptionLifecycle()


def term_over(commitment_end: datetime) -> datetime:
    """The moment a term is over: the end date is "inclusive of the whole day" (UTC)."""
    day = commitment_end.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=UTC)


def renewal_in_progress(subscription: Subscription, now: datetime, lifecycle: SubscriptionLifecycle = _DEFAULT_LIFECYCLE) -> bool:
    """A new-commerce renewal has started and not completed: updates answer 409."""
    if not subscription.kind.has_cancellation_window or subscription.commitment_end_date is None:
        return False
    if subscription.status.lower() != "active" or not subscription.auto_renew or not subscription.term_duration:
        return False
    start = term_over(subscription.commitment_end_date)
    return start <= now < start + lifecycle.renewal_processing


def settle_subscription(subscription: Subscription, now: datetime, lifecycle: SubscriptionLifecycle = _DEFAULT_LIFECYCLE) -> None:
    """Apply what the passing of time did to a subscription (see the module docstring).

    Azure plans are left alone; an active legacy subscription renews silently.
    """
    if subscription.kind.has_cancellation_window:
        while _settle_new_commerce_step(subscription, now, lifecycle):
            subscription.touch()
    elif subscription.kind is SubscriptionKind.LEGACY:
        if _settle_legacy(subscription, now, lifecycle):
            subscription.touch()


def _settle_new_commerce_step(subscription: Subscription, now: datetime, lifecycle: SubscriptionLifecycle) -> bool:
    """One lifecycle step, if one is due; True when something changed."""
    if subscription.commitment_end_date is None:
        return False
    over = term_over(subscription.commitment_end_date)
    status = subscription.status.lower()
    if status == "active":
        if now < over:
            return False
        if subscription.auto_renew and subscription.term_duration:
            completed = over + lifecycle.renewal_processing
            if now < completed:
                return False  # still being processed: reads show the old term, writes get 409
            subscription.effective_start_date = over
            subscription.commitment_end_date = add_duration(subscription.commitment_end_date, subscription.term_duration)
            subscription.cancellation_allowed_until = completed + NEW_COMMERCE_CANCELLATION_WINDOW
            reset_refund_windows(subscription, completed)
            return True
        subscription.status = "expired"
        subscription.status_until = over + lifecycle.expired_to_disabled
        return True
    if status == "suspended":
        if now < over:
            return False
        subscription.status = "disabled"  # never renews
        subscription.auto_renew = False
        subscription.status_until = over + lifecycle.suspended_disabled_to_deleted
        return True
    if status == "expired":
        until = subscription.status_until or over + lifecycle.expired_to_disabled
        if now < until:
            return False
        subscription.status = "disabled"
        subscription.status_until = until + lifecycle.disabled_to_deleted
        return True
    if status == "disabled":
        until = subscription.status_until or over + lifecycle.expired_to_disabled + lifecycle.disabled_to_deleted
        if now < until:
            return False
        subscription.status = "deleted"
        subscription.auto_renew = False
        subscription.status_until = None
        return True
    return False


def _settle_legacy(subscription: Subscription, now: datetime, lifecycle: SubscriptionLifecycle) -> bool:
    if subscription.status.lower() != "suspended":
        return False
    if subscription.status_until is None:
        # Suspended before the sandbox saw it (seeded, or by hand): its timers start now.
        subscription.status_until = _legacy_deletion(subscription, now, lifecycle)
        return False
    if now < subscription.status_until:
        return False
    subscription.status = "deleted"
    subscription.auto_renew = False
    subscription.status_until = None
    return True


def _legacy_deletion(subscription: Subscription, suspended_at: datetime, lifecycle: SubscriptionLifecycle) -> datetime:
    """Deleted at term end or after the suspended period, whichever comes first."""
    deadline = suspended_at + lifecycle.legacy_suspended_to_deleted
    if subscription.commitment_end_date is not None:
        deadline = min(deadline, term_over(subscription.commitment_end_date))
    return deadline


def apply_status(
    subscription: Subscription,
    status: str,
    now: datetime,
    lifecycle: SubscriptionLifecycle = _DEFAULT_LIFECYCLE,
) -> None:
    """Set a status through the API or the portal, with what it implies."""
    subscription.status = status
    subscription.status_until = None
    if status == "deleted":
        subscription.auto_renew = False  # a cancelled subscription never renews
    elif status == "suspended":
        if subscription.kind.has_cancellation_window:
            # "Suspending a new commerce subscription will turn off auto-renew"
            # (create-a-new-subscription.md § Suspend a subscription).
            subscription.auto_renew = False
        elif subscription.kind is SubscriptionKind.LEGACY:
            subscription.status_until = _legacy_deletion(subscription, now, lifecycle)


def update_subscription(
    subscription: Subscription,
    body: dict[str, Any],
    *,
    if_match: str | None,
    has_active_azure_subscriptions: bool,
    now: datetime,
    lifecycle: SubscriptionLifecycle = _DEFAULT_LIFECYCLE,
) -> None:
    """Validate and apply a PATCH; raises :class:`ApiFault` when Partner Center would refuse.

    ``body`` has lower-cased keys (request bodies are matched case-insensitively).
    """
    if if_match is not None and _strip_etag(if_match) != subscription.etag:
        raise ApiFault(400, errors.ETAG_INVALID, "Etag is no longer valid")
    current = subscription.status.lower()
    if current in _FINAL_STATUSES:
        raise ApiFault(
            400,
            errors.DELETED_CANNOT_UPDATE,
            f"Subscription with ID {subscription.id} and {current} status cannot be updated.",
        )
    if renewal_in_progress(subscription, now, lifecycle):
        # "If the subscription is still waiting to be processed the partner will get an error
        # response (409: Conflict for API requests)" (create-a-new-subscription.md). The body's
        # code is not documented: an assumption.
        raise ApiFault(
            409,
            _RENEWAL_IN_PROGRESS,
            "The subscription's renewal is being processed; resubmit the request after two minutes.",
        )
    new_status = _requested_status(body)
    auto_renew = _requested_auto_renew(body)
    if auto_renew is None and subscription.kind is not SubscriptionKind.AZURE_PLAN:
        auto_renew = False  # omitted: "autoRenewEnabled will inadvertently get set to false"
    if new_status is not None and new_status != current:
        _check_status_change(subscription, new_status, has_active_azure_subscriptions, now)
    if auto_renew is not None and auto_renew != subscription.auto_renew:
        if subscription.kind is SubscriptionKind.AZURE_PLAN:
            raise ApiFault(400, errors.NOT_SUPPORTED, "Not supported: an Azure plan has no auto-renewal")
    if auto_renew is not None:
        subscription.auto_renew = auto_renew
    if new_status is not None and new_status != current:
        apply_status(subscription, new_status, now, lifecycle)
    subscription.touch()


def _check_status_change(subscription: Subscription, new_status: str, has_active_azure_subscriptions: bool, now: datetime) -> None:
    kind = subscription.kind
    if new_status == "deleted" and kind is SubscriptionKind.AZURE_PLAN and not has_active_azure_subscriptions:
        # "Partners can cancel the Azure plan when there are no active Azure subscriptions under
        # it" (partner-center azure-plan-manage); "Azure plan… Production update subscription: Y"
        # (cancel-an-order-from-the-integration-sandbox). Fidelity audit #16.
        return
    if new_status in ("suspended", "deleted") and kind is SubscriptionKind.AZURE_PLAN and has_active_azure_subscriptions:
        # 403/900115 for the suspension (developer/error-codes); for a cancellation the same
        # answer is an assumption (the error is undocumented).
        raise ApiFault(
            403,
            errors.AZURE_PLAN_HAS_ACTIVE,
            "Azure plan cannot be moved to suspended state since you have one or more Azure Subscriptions in the active state",
        )
    if new_status == "deleted":
        if not kind.has_cancellation_window:
            raise ApiFault(400, errors.STATUS_CANNOT_UPDATE, "Cannot update the status for this subscription")
        window_end = subscription.cancellation_allowed_until
        if window_end is None or window_end < now:
            days = NEW_COMMERCE_CANCELLATION_WINDOW.days
            raise ApiFault(
                400,
                errors.WINDOW_PASSED,
                f"You have passed your {days}-day cancellation window. We are unable to cancel your purchase",
            )


def _requested_status(body: dict[str, Any]) -> str | None:
    value = body.get("status")
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.invalid_input("status must be a string")
    status = value.lower()
    if status not in _SETTABLE_STATUSES:
        raise ApiFault(400, errors.STATUS_CANNOT_UPDATE, "Cannot update the status for this subscription")
    return status


def _requested_auto_renew(body: dict[str, Any]) -> bool | None:
    value = body.get("autorenewenabled")
    if value is None or isinstance(value, bool):
        return value
    raise errors.invalid_input("autoRenewEnabled must be true or false")


def _strip_etag(value: str) -> str:
    """Clients send the etag quoted (HTTP style) or bare; both name the same version."""
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


# ---- Azure plan: its Azure subscriptions (azureEntitlements) ----

# "Expect about 10 mins for the status to be reflected (that is, active to inactive)"
# (learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription).
AZURE_CANCEL_DELAY = timedelta(minutes=10)
# The only documented cancellationReason (same page; the .NET sample CancelAzurePlanEntitlement.cs
# refuses any other code).
_AZURE_CANCELLATION_REASONS = frozenset({"compromise"})
# What a cancelled Azure subscription reads as once the cancel took effect: "active to inactive"
# (same page); Partner-Center-PowerShell#228 calls it "Disabled".
_AZURE_CANCELLED_STATUS = "inactive"


def check_azure_cancellation_reason(body: dict[str, Any]) -> None:
    """Refuse a cancel whose ``cancellationReason`` is not documented: 400/900307
    "Cancellation reason '{0} is invalid." (developer/cancel-an-azure-subscription, error table).
    ``body`` has lower-cased keys; the value is compared case-insensitively (assumption)."""
    reason = body.get("cancellationreason")
    if not isinstance(reason, str) or reason.strip().lower() not in _AZURE_CANCELLATION_REASONS:
        raise ApiFault(400, AZURE_CANCELLATION_REASON_INVALID, f"Cancellation reason '{reason} is invalid.")


def settle_azure_cancellations(customer: Any, cancels: dict[tuple[str, str, str], datetime], now: datetime, delay: timedelta) -> None:
    """Cancelled Azure subscriptions read ``inactive`` once ``delay`` has passed since the cancel
    was accepted; until then they still read ``active`` (and the plan cannot be suspended:
    403/900115, developer/error-codes)."""
    for key, accepted in list(cancels.items()):
        customer_id, plan_id, entitlement_id = key
        if customer_id != customer.id.lower() or accepted + delay > now:
            continue
        del cancels[key]
        plan = customer.subscriptions.get(plan_id)
        entitlement = plan.azure_entitlements.get(entitlement_id) if plan is not None else None
        if entitlement is not None and entitlement.status.lower() == "active":
            entitlement.status = _AZURE_CANCELLED_STATUS  # the plan resource itself is unchanged (same etag)


# 400 "Cancellation reason '{0} is invalid." (developer/cancel-an-azure-subscription, error table).
AZURE_CANCELLATION_REASON_INVALID = 900307
