"""Realistic removal cases for card tests: every blocker kind and action, every outcome, named people.

``make_case()`` gives a case with one item of each row of the blocker table (DESIGN.md); the
``*_item()`` builders give one item each; ``make_large_case(1000)`` a customer with a thousand.
Dates are relative to :data:`NOW`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from partner_center.blockers import Action, BlockerKind
from removal.case import CaseItem, CaseState, CustomerRef, Decision, ItemError, Outcome, Person, RemovalCase

__all__ = (
    "ANN",
    "BOB",
    "CAROL",
    "CONSEQUENCES",
    "CONTOSO",
    "NOW",
    "azure_plan_item",
    "azure_plan_suspend_item",
    "decided",
    "every_row",
    "failed",
    "legacy_item",
    "make_case",
    "make_large_case",
    "make_removed_case",
    "make_worked_case",
    "nce_inside_item",
    "nce_past_item",
    "nce_waiting_item",
    "reservation_item",
    "software_inside_item",
    "software_past_item",
)

# What removing the relationship does (DESIGN.md; DAP only "if applicable", learn remove-a-relationship)
# and does not do (end GDAP, or the partner's footprints in the customer's tenant: ../shared/reference/anchors.md
# §3.2, §3.4; only the teardown items approved end them), as the cards say it.
CONSEQUENCES = (
    "The customer leaves your customer list.",
    "You stop being a support contact for the customer.",
    "Your delegated admin privileges (DAP) for the customer are removed, if the customer still has them.",
    "Your GDAP relationships (granular delegated admin) with the customer are not ended, and your guest users, contact addresses and"
    " apps stay in its tenant: only the access items you approve end them (the customer can also remove your roles in the Microsoft"
    " 365 admin center → Partner relationships).",
    "You can no longer buy anything for this customer.",
)
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:1ann", name="Ann Lee", aad_object_id="6f1c0a52-1111-4c4e-9f7a-0a1b2c3d4e5f")
BOB = Person(id="29:1bob", name="Bob Martin")
CAROL = Person(id="29:1carol", name="Carol Diaz")
CONTOSO = CustomerRef(id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", name="Contoso Ltd", domain="contoso.onmicrosoft.com")


def _item(kind: BlockerKind, action: Action, item_id: str, name: str, **fields: Any) -> CaseItem:
    return CaseItem(key=f"{kind.value}:{item_id}", kind=kind, action=action, item_id=item_id, name=name, **fields)


def legacy_item(item_id: str = "a1b2c3d4-0001", name: str = "Office 365 E3", quantity: int = 25, **fields: Any) -> CaseItem:
    return _item(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, item_id, name, status="active", quantity=quantity, **fields)


def nce_inside_item(item_id: str = "nce-0001", **fields: Any) -> CaseItem:
    return _item(
        BlockerKind.NCE_INSIDE_WINDOW,
        Action.CANCEL_SUBSCRIPTION,
        item_id,
        "Microsoft 365 Business Premium",
        status="active",
        quantity=10,
        window_ends=NOW + timedelta(days=3),
        term_ends=NOW + timedelta(days=362),
        auto_renew=True,
        **fields,
    )


def nce_past_item(item_id: str = "nce-0002", **fields: Any) -> CaseItem:
    """Past its window, auto-renew on: the bot proposes turning auto-renew off."""
    return _item(
        BlockerKind.NCE_PAST_WINDOW,
        Action.TURN_OFF_AUTO_RENEW,
        item_id,
        "Microsoft 365 E5",
        status="active",
        quantity=1,
        window_ends=NOW - timedelta(days=20),
        term_ends=NOW + timedelta(days=3),
        auto_renew=True,
        **fields,
    )


def nce_waiting_item(item_id: str = "nce-0003", term_days: int = 120, **fields: Any) -> CaseItem:
    """Past its window, auto-renew already off: only time clears it."""
    return _item(
        BlockerKind.NCE_PAST_WINDOW,
        Action.WAIT_FOR_TERM_END,
        item_id,
        "Teams Premium",
        status="active",
        quantity=40,
        window_ends=NOW - timedelta(days=200),
        term_ends=NOW + timedelta(days=term_days),
        auto_renew=False,
        **fields,
    )


def azure_plan_item(item_id: str = "azure-plan-0001", subscriptions: int = 3, **fields: Any) -> CaseItem:
    return _item(
        BlockerKind.AZURE_PLAN,
        Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN,
        item_id,
        "Azure plan",
        status="active",
        quantity=1,
        azure_subscription_ids=tuple(f"0000000{n}-aaaa-bbbb-cccc-000000000000" for n in range(subscriptions)),
        **fields,
    )


def azure_plan_suspend_item(item_id: str = "azure-plan-0002", **fields: Any) -> CaseItem:
    """An Azure plan with no active Azure subscription left: suspend the plan itself."""
    return _item(BlockerKind.AZURE_PLAN, Action.SUSPEND, item_id, "Azure plan (Europe)", status="active", quantity=1, **fields)


def software_inside_item(item_id: str = "order-0001", **fields: Any) -> CaseItem:
    return _item(
        BlockerKind.SOFTWARE_INSIDE_WINDOW,
        Action.CANCEL_ORDER,
        item_id,
        "Windows Server 2022 Standard - 16 Core License Pack",
        status="completed",
        quantity=2,
        window_ends=NOW + timedelta(days=12),
        **fields,
    )


def software_past_item(item_id: str = "order-0002", **fields: Any) -> CaseItem:
    return _item(
        BlockerKind.SOFTWARE_PAST_WINDOW,
        Action.REPORT_ONLY,
        item_id,
        "SQL Server 2022 Standard",
        blocks_removal=False,
        status="completed",
        quantity=4,
        window_ends=NOW - timedelta(days=45),
        **fields,
    )


def reservation_item(item_id: str = "ri-order-0001", **fields: Any) -> CaseItem:
    return _item(
        BlockerKind.RESERVATION,
        Action.CANCEL_IN_AZURE_PORTAL,
        item_id,
        "Azure reservation (VirtualMachines)",
        quantity=3,
        term_ends=NOW + timedelta(days=400),
        **fields,
    )


def every_row() -> list[CaseItem]:
    """One item for each row of the blocker table, in table order."""
    return [
        legacy_item(),
        nce_inside_item(),
        nce_past_item(),
        nce_waiting_item(),
        azure_plan_item(),
        azure_plan_suspend_item(),
        software_inside_item(),
        software_past_item(),
        reservation_item(),
    ]


def make_case(
    items: Iterable[CaseItem] | None = None,
    *,
    state: CaseState = CaseState.AWAITING_APPROVAL,
    customer: CustomerRef = CONTOSO,
    requested_by: Person = ANN,
    case_id: str = "case0001",
    **fields: Any,
) -> RemovalCase:
    return RemovalCase(
        id=case_id,
        customer=customer,
        requested_by=requested_by,
        requested_at=NOW - timedelta(hours=2),
        state=state,
        items=list(every_row() if items is None else items),
        **fields,
    )


def decided(
    item: CaseItem, decision: Decision, *, by: Person = BOB, minutes_ago: int = 56, outcome: Outcome = Outcome.NOT_STARTED
) -> CaseItem:
    return item.model_copy(
        update={"decision": decision, "decided_by": by, "decided_at": NOW - timedelta(minutes=minutes_ago), "outcome": outcome}
    )


def failed(item: CaseItem, *, code: str = "2055", description: str = "The subscription was changed by someone else.") -> CaseItem:
    error = ItemError(
        description=description,
        code=code,
        status=400,
        correlation_id="b7e1c9a2-5d3f-4c1e-8a6b-0f2d4e6a8c10",
        request_id="9d8c7b6a-0000-4000-8000-123456789abc",
    )
    return decided(item, Decision.APPROVED, outcome=Outcome.FAILED).model_copy(update={"error": error})


def make_worked_case(state: CaseState = CaseState.EXECUTING) -> RemovalCase:
    """Execution under way: one item per outcome and decision, decided by named people."""
    items = [
        decided(legacy_item("legacy-done", "Office 365 E1"), Decision.APPROVED, outcome=Outcome.DONE),
        failed(legacy_item("legacy-failed", "Exchange Online (Plan 1)")),
        decided(nce_inside_item("nce-running"), Decision.APPROVED, outcome=Outcome.RUNNING),
        decided(software_inside_item("order-queued"), Decision.APPROVED, by=CAROL),
        decided(azure_plan_item("plan-skipped"), Decision.SKIPPED, by=CAROL),
        decided(nce_past_item("nce-renew-done"), Decision.APPROVED, outcome=Outcome.DONE),
        legacy_item("legacy-pending", "Visio Plan 2", quantity=1),
        nce_waiting_item(),
        reservation_item(),
        software_past_item(),
    ]
    return make_case(items, state=state)


def make_large_case(count: int = 1000, *, worked: bool = False) -> RemovalCase:
    """A customer with ``count`` items of every kind, long names; ``worked`` gives them outcomes."""
    builders = [legacy_item, nce_inside_item, nce_past_item, azure_plan_item, software_inside_item, reservation_item, nce_waiting_item]
    items = []
    for n in range(count):
        item = builders[n % len(builders)](f"{n:04d}-7f3c2a1e-9b8d-4c6f-a2e1-0d9c8b7a6f5e")
        item = item.model_copy(update={"name": f"{item.name} — department {n:04d} (Northwind Traders international subsidiary)"})
        if worked and item.needs_decision:
            if n % 5 == 0:
                item = failed(item, description="Partner Center could not process the request for this subscription at this time. " * 2)
            else:
                item = decided(
                    item, Decision.SKIPPED if n % 5 == 1 else Decision.APPROVED, outcome=Outcome.DONE if n % 5 > 2 else Outcome.NOT_STARTED
                )
        items.append(item)
    return make_case(items, state=CaseState.EXECUTING if worked else CaseState.AWAITING_APPROVAL, case_id="case1000")


def make_removed_case(
    *,
    url: str = "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=4d3c2b1a-0000-4000-8000-aaaaaaaaaaaa&msppId=0&DAP=true#/BillingAccounts/partner-invitation",
) -> RemovalCase:
    items = [
        decided(legacy_item(), Decision.APPROVED, outcome=Outcome.DONE),
        decided(nce_inside_item(), Decision.APPROVED, outcome=Outcome.DONE),
    ]
    return make_case(
        items,
        state=CaseState.REMOVED,
        approved_by=BOB,
        removed_at=NOW - timedelta(minutes=4),
        relationship_request_url=url,
        removal_correlation_id="e3f1a2b4-6c7d-4e8f-9a0b-1c2d3e4f5a6b",
    )
