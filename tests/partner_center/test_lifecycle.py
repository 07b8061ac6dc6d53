"""New-commerce lifecycle in the client (issue 17; ../shared/reference/fidelity-audit.md #4): ``disabled`` is finished
("After 30 days in the expired state, the subscription moves to a 90-day disabled state",
learn.microsoft.com/partner-center/subscription-lifecycle): not blocking, nothing to send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from partner_center import (
    SubscriptionStatus,
    plan_removal,
)
from partner_center.blockers import CustomerSnapshot, classify, is_new_commerce
from tests._helpers import customer_named, operator, sandbox_requests

from .test_blockers import CUSTOMER, NOW, _nce

# ---- disabled is finished (subscription-lifecycle.md: expired -> disabled -> deleted) ----


@pytest.mark.parametrize("window", [timedelta(days=3), -timedelta(days=400)])
def test_a_disabled_new_commerce_subscription_does_not_block_the_removal(window: timedelta) -> None:
    # Disabled follows expiry (30 d) or the end of a suspended term; it "can't be reactivated"
    # and is not billed. It used to become NCE_PAST_WINDOW / TURN_OFF_AUTO_RENEW and hold the
    # case for ~120 days.
    disabled = _nce("disabled", window=window, term=-timedelta(days=40))
    plan = classify(CustomerSnapshot(customer=CUSTOMER, subscriptions=(disabled,)), NOW)
    assert plan.blockers == () and plan.can_remove_now


async def _tailwind_nce(client: Any) -> tuple[str, Any]:
    tailwind = await customer_named(client, "Tailwind Traders")
    [nce] = [s for s in await client.list_subscriptions(tailwind.id) if is_new_commerce(s) and s.product_type.id == "OnlineServicesNCE"]
    return tailwind.id, nce


async def test_the_client_treats_disabled_as_already_done_and_the_plan_leaves_it_out(
    client: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    customer_id, nce = await _tailwind_nce(client)
    before = await plan_removal(client, await client.get_customer(customer_id), now=datetime.now(UTC))
    assert nce.id in {b.item_id for b in before.blockers}
    # Auto-renew off: expired at term end (30 d away), disabled 30 days later.
    moved = await operator(http, sandbox, "clock", {"advanceDays": 62})
    disabled = await client.get_subscription(customer_id, nce.id)
    assert disabled.status is SubscriptionStatus.DISABLED
    patches_before = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert (await client.cancel_subscription(customer_id, nce.id)).status is SubscriptionStatus.DISABLED
    assert (await client.suspend_subscription(customer_id, nce.id)).status is SubscriptionStatus.DISABLED
    assert (await client.turn_off_auto_renew(customer_id, nce.id)).status is SubscriptionStatus.DISABLED
    patches_after = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert patches_after == patches_before, "nothing is sent for a finished subscription"
    now = datetime.fromisoformat(moved["now"].replace("Z", "+00:00"))
    after = await plan_removal(client, await client.get_customer(customer_id), now=now)
    assert nce.id not in {b.item_id for b in after.blockers}
