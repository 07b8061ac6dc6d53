"""Cases with money (issue 21) for the card tests: a new-commerce subscription inside its window,
one past it, an Azure savings plan, a reservation, an item Partner Center gives no price for, and a
pending transfer request from the customer's next partner. Prices are in euros; dates relative to
:data:`NOW`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from partner_center.blockers import Action, BlockerKind
from partner_center.money import ClosingWindow, Money, RefundWindow, SeatTranche, closing_windows
from removal.case import CaseItem, CaseState, CaseTransfer, CaseTransferLine, RemovalCase, TransferDecision, TransferOutcome

from .factories import BOB, NOW, make_case, make_large_case, nce_inside_item, nce_past_item, reservation_item

__all__ = (
    "FABRIKAM",
    "inside_money",
    "make_large_money_case",
    "make_money_case",
    "money_inside_item",
    "money_past_item",
    "pending_transfer",
    "savings_plan_item",
    "window_entries",
)

FABRIKAM = "Fabrikam Cloud Partners"


def inside_money(**fields: Any) -> Money:
    """8 seats at €154.32 a month, 1-year term: full refund for a day, prorated until the
    cancellation date in 3 days; 3 seats reducible until then."""
    values: dict[str, Any] = {
        "currency": "EUR",
        "unit_price": Decimal("154.32"),
        "quantity": 8,
        "billing_cycle": "monthly",
        "term": "P1Y",
        "term_ends": NOW + timedelta(days=362),
        "cancellable_until": NOW + timedelta(days=3),
        "refund_windows": (
            RefundWindow(kind="full", until=NOW + timedelta(hours=30)),
            RefundWindow(kind="partial", until=NOW + timedelta(days=3)),
        ),
        "refundable_seats": (SeatTranche(quantity=3, until=NOW + timedelta(days=3)),),
        "auto_renew": True,
    }
    return Money(**(values | fields))


def money_inside_item(item_id: str = "nce-0001", **fields: Any) -> CaseItem:
    return nce_inside_item(item_id, money=inside_money(), **fields).model_copy(update={"quantity": 8})


def money_past_item(item_id: str = "nce-0002", **fields: Any) -> CaseItem:
    """Past its window, auto-renew on, three months left at €36.00 a seat a month (3 seats)."""
    money = Money(
        currency="EUR",
        unit_price=Decimal("36.00"),
        quantity=3,
        billing_cycle="monthly",
        term="P1Y",
        term_ends=NOW + timedelta(days=95),
        cancellable_until=NOW - timedelta(days=20),
        refund_windows=(RefundWindow(kind="partial", until=NOW - timedelta(days=20)),),
        auto_renew=True,
    )
    return nce_past_item(item_id, money=money, **fields).model_copy(update={"quantity": 3, "term_ends": NOW + timedelta(days=95)})


def savings_plan_item(item_id: str = "sp-order-0001", **fields: Any) -> CaseItem:
    """A 3-year savings plan, €500.00 a month: it can never be cancelled."""
    money = Money(
        currency="EUR",
        unit_price=Decimal("500.00"),
        quantity=1,
        billing_cycle="monthly",
        term="P3Y",
        term_ends=NOW + timedelta(days=700),
        never_cancellable=True,
    )
    return CaseItem(
        key=f"{BlockerKind.SAVINGS_PLAN.value}:{item_id}",
        kind=BlockerKind.SAVINGS_PLAN,
        action=Action.TRANSFER_OR_WAIT,
        item_id=item_id,
        name="Azure savings plan (compute)",
        quantity=1,
        term_ends=NOW + timedelta(days=700),
        money=money,
        **fields,
    )


def unpriced_reservation() -> CaseItem:
    """A reservation whose order line item has no price."""
    money = Money(quantity=3, billing_cycle="monthly", term="P3Y", term_ends=NOW + timedelta(days=400))
    return reservation_item(money=money)


def pending_transfer(case_items: list[CaseItem], **fields: Any) -> CaseTransfer:
    """Fabrikam's request for the past-window subscription and the savings plan, plus a
    subscription that is not one of the plan's blockers."""
    past = next(item for item in case_items if item.kind is BlockerKind.NCE_PAST_WINDOW)
    plan = next(item for item in case_items if item.kind is BlockerKind.SAVINGS_PLAN)
    values: dict[str, Any] = {
        "id": "tr-0001",
        "target_partner": FABRIKAM,
        "status": "Active",
        "created_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=29),
        "line_items": [
            CaseTransferLine(id="li-1", subscription_id=past.item_id, name="Microsoft 365 E5", quantity=3, clears=past.key),
            CaseTransferLine(id="li-2", subscription_id=plan.item_id, name="Azure savings plan (compute)", quantity=1, clears=plan.key),
            CaseTransferLine(id="li-3", subscription_id="other-0001", name="Teams Phone Standard", quantity=5),
        ],
    }
    return CaseTransfer(**(values | fields))


def make_money_case(*, transfer: dict[str, Any] | None = None, **fields: Any) -> RemovalCase:
    """The must-show customer: inside its window, past it, a savings plan, an unpriced
    reservation, and Fabrikam's pending transfer request."""
    items = [money_inside_item(), money_past_item(), savings_plan_item(), unpriced_reservation()]
    return make_case(items, transfers=[pending_transfer(items, **(transfer or {}))], **fields)


def accepted_transfer_case(outcome: TransferOutcome = TransferOutcome.SUBMITTED) -> RemovalCase:
    """The transfer accepted (only the two lines that clear blockers) by Bob."""
    return make_money_case(
        transfer={
            "decision": TransferDecision.ACCEPTED,
            "decided_by": BOB,
            "decided_at": NOW - timedelta(minutes=5),
            "accepted_lines": ["li-1", "li-2"],
            "outcome": outcome,
        },
        state=CaseState.WAITING,
    )


def window_entries(case: RemovalCase) -> list[ClosingWindow]:
    """What the workflow announces for ``case``: windows closing within 48 hours."""
    return closing_windows(case.blocker_items, NOW, timedelta(hours=48))


def make_large_money_case(count: int = 1000, *, nce_only: bool = False) -> RemovalCase:
    """A thousand items (every kind, long names), each with the money Partner Center gives for
    its kind (every ninth one without a price), and a transfer request of 25 line items.
    ``nce_only``: every item a new-commerce subscription inside its window, the largest money a
    page can carry (every option open, with its refund and dates)."""
    large = make_large_case(count)
    items = [nce_inside_item(item.item_id).model_copy(update={"name": item.name}) if nce_only else item for item in large.items]
    priced = [
        item.model_copy(update={"money": _money_of(item, None if number % 9 == 0 else Decimal("154.32") + number)})
        for number, item in enumerate(items)
    ]
    lines = [
        CaseTransferLine(id=f"li-{n}", subscription_id=item.item_id, name=item.name, quantity=item.quantity, clears=item.key)
        for n, item in enumerate(priced[2:200:7][:25])
    ]
    transfer = CaseTransfer(
        id="tr-large", target_partner=FABRIKAM, status="Active", created_at=NOW, expires_at=NOW + timedelta(days=30), line_items=lines
    )
    return large.model_copy(update={"items": priced, "transfers": [transfer]})


def _money_of(item: CaseItem, unit_price: Decimal | None) -> Money:
    """What Partner Center says for an item of this kind (partner_center.money's fields)."""
    base: dict[str, Any] = {"currency": "EUR", "unit_price": unit_price, "quantity": item.quantity}
    if item.kind is BlockerKind.NCE_INSIDE_WINDOW:
        return inside_money(**base, cancellable_until=item.window_ends, term_ends=item.term_ends)
    if item.kind is BlockerKind.NCE_PAST_WINDOW:
        return Money(
            **base, billing_cycle="monthly", term="P1Y", term_ends=item.term_ends, cancellable_until=item.window_ends,
            refund_windows=(RefundWindow(kind="partial", until=item.window_ends or NOW),), auto_renew=item.auto_renew,
        )  # fmt: skip
    if item.kind is BlockerKind.SOFTWARE_INSIDE_WINDOW:
        return Money(**base, billing_cycle="one_time", cancellable_until=item.window_ends)
    if item.kind is BlockerKind.RESERVATION:
        return Money(**base, billing_cycle="monthly", term="P3Y", term_ends=item.term_ends)
    if item.kind is BlockerKind.AZURE_PLAN:
        return Money()  # consumption: no unit price
    return Money(**base, billing_cycle="monthly")
