"""Partner Center's rules for cancelling an order (software purchases only).

``PATCH /v1/customers/{cid}/orders/{oid}`` with ``{"id", "status": "cancelled",
"lineItems"?}`` (reference §6): only software purchases can be cancelled this
way, inside their window; cancelled lines show ``quantity: 0``; the order is
``cancelled`` once every line is. Cancelling a cancelled order changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import errors
from .errors import ApiFault
from .models import Order

__all__ = ("SOFTWARE_CANCELLATION_WINDOW", "cancel_order", "is_inside_window", "refuse_savings_plan_cancel")

# The legacy software window: 30 days from purchase (reference §6, [I]: the
# 30-day figure comes from a third-party summary, not a Microsoft page).
SOFTWARE_CANCELLATION_WINDOW = timedelta(days=30)

# chosen: 800071's text starts "Line Item number should be from 0 to number
# of line..." in the error-code table; the rest of the sentence is ours.
_BAD_LINE_ITEM = 800071


def is_inside_window(order: Order, now: datetime) -> bool:
    return now <= order.creation_date + SOFTWARE_CANCELLATION_WINDOW


def refuse_savings_plan_cancel(order: Order) -> None:
    """ "All savings plan purchases are final. After you buy a savings plan, you can't cancel it"
    (MicrosoftDocs/azure-docs cost-management-billing/savings-plan/cancel-savings-plan.md). The
    code is the order refusal's (800063, developer/error-codes); the text is ours (ASSUMPTION)."""
    if order.kind == "savingsPlan":
        raise ApiFault(
            400,
            errors.ORDER_NOT_CANCELLABLE,
            f"This order {order.id} cannot be cancelled: all savings plan purchases are final.",
        )


def cancel_order(order: Order, body: dict[str, Any], *, customer_id: str, now: datetime) -> None:
    """Validate and apply a cancellation; ``body`` has lower-cased keys."""
    status = body.get("status")
    if not isinstance(status, str) or status.lower() != "cancelled":
        raise errors.invalid_input("only status 'cancelled' can be set on an order")
    body_id = body.get("id")
    if body_id is not None and str(body_id) != order.id:
        raise errors.invalid_input("the order id in the body does not match the URL")
    refuse_savings_plan_cancel(order)
    if order.kind != "software":
        raise ApiFault(
            400,
            errors.ORDER_NOT_CANCELLABLE,
            f"This order {order.id} cannot be cancelled. Use PATCH "
            f"/customers/{customer_id}/subscriptions/<subscriptionId> to suspend subscriptions",
        )
    if order.status.lower() == "cancelled":
        return
    if not is_inside_window(order, now):
        days = SOFTWARE_CANCELLATION_WINDOW.days
        raise ApiFault(
            400,
            errors.WINDOW_PASSED,
            f"You have passed your {days}-day cancellation window. We are unable to cancel your purchase",
        )
    for line in _lines_to_cancel(order, body.get("lineitems")):
        line.cancelled = True
        line.quantity = 0
    if all(line.cancelled for line in order.line_items):
        order.status = "cancelled"


def _lines_to_cancel(order: Order, requested: Any) -> list:
    if requested is None:
        return list(order.line_items)
    if not isinstance(requested, list):
        raise errors.invalid_input("lineItems must be a list")
    by_number = {line.line_item_number: line for line in order.line_items}
    chosen = []
    for item in requested:
        number = _line_number(item)
        if number not in by_number:
            raise ApiFault(
                400,
                _BAD_LINE_ITEM,
                f"Line Item number should be from 0 to number of line items - 1 ({len(by_number) - 1})",
            )
        chosen.append(by_number[number])
    return chosen


def _line_number(item: Any) -> int | None:
    if not isinstance(item, dict):
        return None
    for key, value in item.items():
        if key.lower() == "lineitemnumber" and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
