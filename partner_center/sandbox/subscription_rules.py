"""Partner Center's rules for changing a subscription, and what time does to one.

``PATCH /v1/customers/{cid}/subscriptions/{sid}`` (reference §4) accepts a full
or partial Subscription; only ``status`` and ``autoRenewEnabled`` matter here.
The checks run in this order: etag (If-Match), then a deleted/expired
subscription refuses everything, then the status transition rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import errors
from .clock import add_duration
from .errors import ApiFault
from .models import Subscription, SubscriptionKind

__all__ = ("NEW_COMMERCE_CANCELLATION_WINDOW", "settle_subscription", "update_subscription")

# New-commerce purchases and renewals can be cancelled for 7 days (reference §4.2).
NEW_COMMERCE_CANCELLATION_WINDOW = timedelta(days=7)

_FINAL_STATUSES = frozenset({"deleted", "expired"})
_SETTABLE_STATUSES = frozenset({"active", "suspended", "deleted"})


def settle_subscription(subscription: Subscription, now: datetime) -> None:
    """Apply what the passing of time did to a new-commerce subscription.

    At ``commitmentEndDate`` it either expires (auto-renew off) or renews for
    another term, which opens a fresh 7-day cancellation window. Legacy
    subscriptions and Azure plans renew silently; nothing changes for them.
    """
    if not subscription.kind.has_cancellation_window:
        return
    while (
        subscription.status.lower() not in _FINAL_STATUSES
        and subscription.commitment_end_date is not None
        and subscription.commitment_end_date <= now
    ):
        term_end = subscription.commitment_end_date
        if not subscription.auto_renew or not subscription.term_duration:
            subscription.status = "expired"
        else:
            subscription.effective_start_date = term_end
            subscription.commitment_end_date = add_duration(term_end, subscription.term_duration)
            subscription.cancellation_allowed_until = term_end + NEW_COMMERCE_CANCELLATION_WINDOW
        subscription.touch()


def update_subscription(
    subscription: Subscription,
    body: dict[str, Any],
    *,
    if_match: str | None,
    has_active_azure_subscriptions: bool,
    now: datetime,
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
    new_status = _requested_status(body)
    auto_renew = _requested_auto_renew(body)
    if new_status is not None and new_status != current:
        _check_status_change(subscription, new_status, has_active_azure_subscriptions, now)
    if auto_renew is not None and auto_renew != subscription.auto_renew:
        if subscription.kind is SubscriptionKind.AZURE_PLAN:
            raise ApiFault(400, errors.NOT_SUPPORTED, "Not supported: an Azure plan has no auto-renewal")
    if new_status is not None:
        subscription.status = new_status
        if new_status == "deleted":
            subscription.auto_renew = False  # a cancelled subscription never renews
    if auto_renew is not None and new_status != "deleted":
        subscription.auto_renew = auto_renew
    subscription.touch()


def _check_status_change(
    subscription: Subscription, new_status: str, has_active_azure_subscriptions: bool, now: datetime
) -> None:
    kind = subscription.kind
    if new_status == "suspended" and kind is SubscriptionKind.AZURE_PLAN and has_active_azure_subscriptions:
        raise ApiFault(
            403,
            errors.AZURE_PLAN_HAS_ACTIVE,
            "Azure plan cannot be moved to suspended state since you have one or more "
            "Azure Subscriptions in the active state",
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
