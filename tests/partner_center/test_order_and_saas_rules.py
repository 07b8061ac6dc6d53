"""Engineer D's rules (../shared/reference/fidelity-audit.md #15, #21, issue 17 "every status Offboard does not know"):
Marketplace SaaS is not new commerce, order statuses beyond completed/pending/cancelled are known,
only a completed order is offered for cancellation, and a status Offboard does not know never
gets an automatic action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partner_center.blockers import Action, BlockerKind, CustomerSnapshot, classify, is_marketplace_saas, is_new_commerce
from partner_center.models import Customer, Entitlement, Order, OrderStatus, Subscription

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CUSTOMER = Customer.model_validate({"id": "c1", "companyProfile": {"companyName": "Contoso Ltd"}, "relationshipToPartner": "reseller"})
DOCUMENTED_ORDER_STATUSES = [  # PC-PR-2023 developer/order-resources.md (../shared/reference/fidelity-audit.md #21)
    "completed",
    "pending",
    "cancelled",
    "suspended",
    "pending review",
    "pending po upload",
    "po upload complete",
    "po review rejected",
    "partial success",
    "error",
]


def _iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def _software(status: str, *, age: timedelta = timedelta(days=3)) -> CustomerSnapshot:
    order = Order.model_validate(
        {
            "id": "order-1",
            "status": status,
            "creationDate": _iso(-age),
            "lineItems": [{"lineItemNumber": 0, "offerId": "DG7GMGF0FKZV:0003:DG7GMGF0DWMS", "friendlyName": "Windows Server 2022"}],
        }
    )
    entitlement = Entitlement.model_validate(
        {"entitlementType": "software", "productId": "DG7GMGF0FKZV", "quantity": 1, "referenceOrder": {"id": "order-1"}}
    )
    return CustomerSnapshot(CUSTOMER, software=(entitlement,), orders=(order,))


def _saas(status: str = "active", **fields: object) -> Subscription:
    return Subscription.from_wire(
        {
            "id": "saas-1",
            "offerId": "DZH318Z0BXWK:0001:DZH318Z0BHDQ",
            "offerName": "Contoso SaaS",
            "quantity": 5,
            "status": status,
            "isMicrosoftProduct": False,
            "publisherName": "Contoso",
            "autoRenewEnabled": True,
            "commitmentEndDate": _iso(timedelta(days=200)),
            **fields,
        }
    )


@pytest.mark.parametrize("status", DOCUMENTED_ORDER_STATUSES)
def test_every_documented_order_status_is_known(status: str) -> None:
    assert Order.model_validate({"id": "o", "status": status}).status is not OrderStatus.UNKNOWN
    # The SDK's enum converter writes multi-word values with underscores: read those too.
    assert Order.model_validate({"id": "o", "status": status.replace(" ", "_").upper()}).status is not OrderStatus.UNKNOWN


@pytest.mark.parametrize("status", [s for s in DOCUMENTED_ORDER_STATUSES if s not in ("completed", "cancelled")] + ["SomethingNew"])
def test_only_a_completed_order_is_offered_for_cancellation(status: str) -> None:
    [item] = classify(_software(status), NOW).blockers
    assert item.action is Action.CHECK_IN_PARTNER_CENTER and not item.action.is_automatic
    assert item.blocks_removal  # inside the 30-day window: a person looks (bounded by the window's end)
    assert item.status == status


def test_a_completed_order_inside_its_window_is_offered_for_cancellation() -> None:
    [item] = classify(_software("completed"), NOW).blockers
    assert (item.kind, item.action) == (BlockerKind.SOFTWARE_INSIDE_WINDOW, Action.CANCEL_ORDER)


@pytest.mark.parametrize("status", ["pending review", "error", "SomethingNew"])
def test_past_its_window_any_order_is_reported_only(status: str) -> None:
    [item] = classify(_software(status, age=timedelta(days=45)), NOW).blockers
    assert (item.action, item.blocks_removal) == (Action.REPORT_ONLY, False)


def test_marketplace_saas_is_not_new_commerce_and_gets_no_automatic_action() -> None:
    saas = _saas()
    assert is_marketplace_saas(saas)
    [item] = classify(CustomerSnapshot(CUSTOMER, subscriptions=(saas,)), NOW).blockers
    assert item.kind is BlockerKind.MARKETPLACE_SAAS
    assert item.action is Action.CHECK_IN_PARTNER_CENTER and not item.action.is_automatic
    assert item.blocks_removal  # an active subscription: the portal's remove link is inactive


@pytest.mark.parametrize(
    "product_type", [{"id": "SaaS"}, {"id": "Azure", "subType": {"id": "SaaS", "displayName": "SaaS"}}, {"id": "x", "subType": "SaaS"}]
)
def test_marketplace_saas_is_recognised_by_its_product_type(product_type: dict[str, object]) -> None:
    saas = Subscription.from_wire({"id": "s", "offerId": "ABC:0001:DEF", "status": "active", "productType": product_type})
    assert is_marketplace_saas(saas)
    [item] = classify(CustomerSnapshot(CUSTOMER, subscriptions=(saas,)), NOW).blockers
    assert item.kind is BlockerKind.MARKETPLACE_SAAS


@pytest.mark.parametrize("status", ["deleted", "expired", "disabled"])
def test_a_finished_saas_subscription_does_not_block(status: str) -> None:
    assert classify(CustomerSnapshot(CUSTOMER, subscriptions=(_saas(status),)), NOW).can_remove_now


def test_microsoft_new_commerce_is_not_saas() -> None:
    nce = Subscription.from_wire(
        {
            "id": "n",
            "offerId": "CFQ7TTC0LCHC:0002:CFQ7TTC0KDLJ",
            "status": "active",
            "productType": {"id": "OnlineServicesNCE"},
            "isMicrosoftProduct": True,
        }
    )
    assert not is_marketplace_saas(nce) and is_new_commerce(nce)


@pytest.mark.parametrize("product", [{"id": "OnlineServicesNCE"}, {"id": "OnlineServices"}, {"id": "Software"}, {"id": "Azure"}])
def test_a_subscription_status_offboard_does_not_know_never_gets_an_automatic_action(product: dict[str, str]) -> None:
    subscription = Subscription.from_wire(
        {
            "id": "x",
            "offerId": "CFQ7TTC0LCHC:0002:CFQ7TTC0KDLJ",
            "status": "Transferring",
            "productType": product,
            "cancellationAllowedUntilDate": _iso(timedelta(days=2)),
            "autoRenewEnabled": True,
        }
    )
    [item] = classify(CustomerSnapshot(CUSTOMER, subscriptions=(subscription,)), NOW).blockers
    assert (item.kind, item.action) == (BlockerKind.STATUS_TO_CHECK, Action.NOTE_UNKNOWN_STATUS)
    assert not item.action.is_automatic and item.status == "Transferring"
    assert not item.blocks_removal  # nothing says it will ever change: Partner Center judges the removal


def test_a_pending_subscription_is_not_acted_on_and_holds_the_removal() -> None:
    """400/800081 "Cannot update a subscription before activating it" (error-codes.md)."""
    subscription = Subscription.from_wire(
        {
            "id": "p",
            "offerId": "CFQ7TTC0LCHC:0002:CFQ7TTC0KDLJ",
            "status": "pending",
            "productType": {"id": "OnlineServicesNCE"},
            "cancellationAllowedUntilDate": _iso(timedelta(days=2)),
        }
    )
    [item] = classify(CustomerSnapshot(CUSTOMER, subscriptions=(subscription,)), NOW).blockers
    assert (item.kind, item.action, item.blocks_removal) == (BlockerKind.STATUS_TO_CHECK, Action.CHECK_IN_PARTNER_CENTER, True)
