"""The blocker rules, row by row (../shared/DESIGN.md "Blockers and the action for each")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partner_center.blockers import (
    Action,
    BlockerKind,
    CustomerSnapshot,
    classify,
)
from partner_center.models import AzureEntitlement, Customer, Entitlement, Order, Subscription

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CUSTOMER = Customer.model_validate({"id": "c1", "companyProfile": {"companyName": "Contoso Ltd"}, "relationshipToPartner": "reseller"})


def _iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def _legacy(status: str = "active", **fields: object) -> Subscription:
    return Subscription.from_wire(
        {
            "id": "legacy-1",
            "offerId": "91FD106F-4B2C-4938-95AC-F54F74E9A239",
            "friendlyName": "Office 365 E3",
            "quantity": 25,
            "status": status,
            "productType": {"id": "OnlineServices"},
            **fields,
        }
    )


def _nce(status: str = "active", *, window: timedelta, term: timedelta = timedelta(days=300), **fields: object) -> Subscription:
    return Subscription.from_wire(
        {
            "id": "nce-1",
            "offerId": "CFQ7TTC0LCHC:0002:CFQ7TTC0KDLJ",
            "offerName": "Microsoft 365 Business Premium",
            "quantity": 10,
            "status": status,
            "productType": {"id": "OnlineServicesNCE"},
            "cancellationAllowedUntilDate": _iso(window),
            "commitmentEndDate": _iso(term),
            "autoRenewEnabled": True,
            **fields,
        }
    )


def _plan(status: str = "active") -> Subscription:
    return Subscription.from_wire(
        {
            "id": "plan-1",
            "offerId": "DZH318Z0BPS6:0001:DZH318Z0BML6",
            "offerName": "Azure plan",
            "status": status,
            "productType": {"id": "Azure"},
        }
    )


def _azure(entitlement_id: str, status: str) -> AzureEntitlement:
    return AzureEntitlement.model_validate({"id": entitlement_id, "friendlyName": "prod", "status": status})


def _software(order_id: str = "order-sw", created: timedelta = -timedelta(days=5), status: str = "completed") -> tuple[Entitlement, Order]:
    entitlement = Entitlement.model_validate(
        {"entitlementType": "software", "productId": "DG7GMGF0FKZV", "quantity": 5, "referenceOrder": {"id": order_id}}
    )
    order = Order.model_validate(
        {
            "id": order_id,
            "status": status,
            "creationDate": _iso(created),
            "lineItems": [{"lineItemNumber": 0, "friendlyName": "Windows Server 2022 Standard", "quantity": 5}],
        }
    )
    return entitlement, order


def _reservation(expiry: timedelta | None = timedelta(days=300)) -> Entitlement:
    return Entitlement.model_validate(
        {
            "entitlementType": "reservedInstance",
            "quantity": 2,
            "referenceOrder": {"id": "ri-order-1"},
            "expiryDate": _iso(expiry) if expiry is not None else None,
            "entitledArtifacts": [
                {"artifactType": "reservedinstance", "resourceId": "ri-1", "dynamicAttributes": {"reservationType": "virtualmachines"}}
            ],
        }
    )


def _plan_for(**snapshot: object):
    return classify(CustomerSnapshot(customer=CUSTOMER, **snapshot), NOW)


def test_active_legacy_subscription_is_suspended() -> None:
    plan = _plan_for(subscriptions=(_legacy(),))
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.action, blocker.item_id) == (BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, "legacy-1")
    assert blocker.name == "Office 365 E3" and blocker.quantity == 25 and blocker.blocks_removal


@pytest.mark.parametrize("status", ["suspended", "deleted", "expired", "disabled", "SomethingNew"])
def test_legacy_subscription_that_is_not_active_does_not_block(status: str) -> None:
    assert _plan_for(subscriptions=(_legacy(status),)).can_remove_now


def test_new_commerce_inside_its_window_is_cancelled_with_its_dates() -> None:
    [blocker] = _plan_for(subscriptions=(_nce(window=timedelta(days=3)),)).blockers
    assert (blocker.kind, blocker.action) == (BlockerKind.NCE_INSIDE_WINDOW, Action.CANCEL_SUBSCRIPTION)
    assert blocker.window_ends == NOW + timedelta(days=3)
    assert blocker.term_ends == NOW + timedelta(days=300)


def test_new_commerce_window_ending_this_very_moment_still_counts_as_inside() -> None:
    [blocker] = _plan_for(subscriptions=(_nce(window=timedelta(0)),)).blockers
    assert blocker.action is Action.CANCEL_SUBSCRIPTION


def test_new_commerce_past_its_window_turns_off_auto_renew_and_waits_for_term_end() -> None:
    plan = _plan_for(subscriptions=(_nce(window=-timedelta(days=20), term=timedelta(days=200)),))
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.action) == (BlockerKind.NCE_PAST_WINDOW, Action.TURN_OFF_AUTO_RENEW)
    assert blocker.term_ends == NOW + timedelta(days=200) and blocker.blocks_removal


def test_new_commerce_past_its_window_without_auto_renew_only_waits() -> None:
    sub = _nce(window=-timedelta(days=20), autoRenewEnabled=False)
    [blocker] = _plan_for(subscriptions=(sub,)).blockers
    assert blocker.action is Action.WAIT_FOR_TERM_END
    assert blocker in _plan_for(subscriptions=(sub,)).must_wait


def test_suspended_new_commerce_still_blocks_because_it_is_still_billed() -> None:
    [blocker] = _plan_for(subscriptions=(_nce("suspended", window=timedelta(days=2)),)).blockers
    assert blocker.action is Action.CANCEL_SUBSCRIPTION


@pytest.mark.parametrize("status", ["deleted", "expired", "Expired"])
def test_finished_new_commerce_does_not_block(status: str) -> None:
    assert _plan_for(subscriptions=(_nce(status, window=timedelta(days=2)),)).can_remove_now


def test_software_subscription_is_new_commerce() -> None:
    sub = _nce(window=timedelta(days=1), productType={"id": "Software"}, offerId="DG7GMGF0PWQ4:0001:X")
    [blocker] = _plan_for(subscriptions=(sub,)).blockers
    assert blocker.action is Action.CANCEL_SUBSCRIPTION


def test_azure_plan_with_active_azure_subscriptions_cancels_them_then_suspends() -> None:
    plan = _plan_for(
        subscriptions=(_plan(),),
        azure_entitlements={"plan-1": (_azure("az-1", "active"), _azure("az-2", "cancelled"), _azure("az-3", "Active"))},
    )
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.action) == (BlockerKind.AZURE_PLAN, Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN)
    assert blocker.azure_subscription_ids == ("az-1", "az-3")


def test_active_azure_plan_without_active_azure_subscriptions_is_only_suspended() -> None:
    plan = _plan_for(subscriptions=(_plan(),), azure_entitlements={"plan-1": (_azure("az-2", "cancelled"),)})
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.action) == (BlockerKind.AZURE_PLAN, Action.SUSPEND)


def test_suspended_azure_plan_with_nothing_active_does_not_block() -> None:
    assert _plan_for(subscriptions=(_plan("suspended"),)).can_remove_now


def test_software_purchase_inside_its_window_is_cancelled() -> None:
    entitlement, order = _software(created=-timedelta(days=5))
    [blocker] = _plan_for(software=(entitlement,), orders=(order,)).blockers
    assert (blocker.kind, blocker.action, blocker.item_id) == (BlockerKind.SOFTWARE_INSIDE_WINDOW, Action.CANCEL_ORDER, "order-sw")
    assert blocker.window_ends == NOW + timedelta(days=25)
    assert blocker.name == "Windows Server 2022 Standard"


def test_software_purchase_past_its_window_is_reported_without_holding_the_removal() -> None:
    entitlement, order = _software(created=-timedelta(days=60))
    plan = _plan_for(software=(entitlement,), orders=(order,))
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.action) == (BlockerKind.SOFTWARE_PAST_WINDOW, Action.REPORT_ONLY)
    assert not blocker.blocks_removal and plan.can_remove_now


def test_cancelled_software_order_does_not_block() -> None:
    entitlement, order = _software(status="cancelled")
    assert _plan_for(software=(entitlement,), orders=(order,)).blockers == ()


def test_software_entitlement_of_a_listed_software_subscription_is_counted_once() -> None:
    sub = _nce(window=timedelta(days=1), productType={"id": "Software"}, orderId="order-sw")
    entitlement, order = _software()
    plan = _plan_for(subscriptions=(sub,), software=(entitlement,), orders=(order,))
    assert [b.item_id for b in plan.blockers] == ["nce-1"]


def test_active_reservation_must_be_cancelled_by_a_person_in_the_azure_portal() -> None:
    plan = _plan_for(reservations=(_reservation(),))
    [blocker] = plan.blockers
    assert (blocker.kind, blocker.action) == (BlockerKind.RESERVATION, Action.CANCEL_IN_AZURE_PORTAL)
    assert blocker.item_id == "ri-order-1" and "virtualmachines" in blocker.name
    assert plan.must_wait == (blocker,) and not plan.actionable and not plan.can_remove_now


def test_expired_reservation_does_not_block() -> None:
    assert _plan_for(reservations=(_reservation(-timedelta(days=1)),)).can_remove_now


def test_nothing_at_all_means_removal_can_go_ahead() -> None:
    assert _plan_for().can_remove_now


def test_mixed_customer_lists_every_blocker_with_a_distinct_key() -> None:
    entitlement, order = _software()
    plan = _plan_for(
        subscriptions=(_legacy(), _nce(window=timedelta(days=3)), _plan()),
        azure_entitlements={"plan-1": (_azure("az-1", "active"),)},
        software=(entitlement,),
        orders=(order,),
        reservations=(_reservation(),),
    )
    assert [b.kind for b in plan.blockers] == [
        BlockerKind.LEGACY_SUBSCRIPTION,
        BlockerKind.NCE_INSIDE_WINDOW,
        BlockerKind.AZURE_PLAN,
        BlockerKind.SOFTWARE_INSIDE_WINDOW,
        BlockerKind.RESERVATION,
    ]
    assert len({b.key for b in plan.blockers}) == 5
    assert len(plan.actionable) == 4 and len(plan.must_wait) == 1
