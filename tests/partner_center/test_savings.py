"""Azure savings plans read from the sandbox: never cancellable, transfer or wait, priced."""

from __future__ import annotations

from datetime import UTC, datetime

from partner_center import Action, BlockerKind, PartnerCenterClient, plan_removal
from partner_center.money import ExitKind, WhyNot, options
from tests._helpers import customer_named


async def test_a_savings_plan_is_its_own_blocker_transfer_or_wait_with_its_price(client: PartnerCenterClient) -> None:
    litware = await customer_named(client, "Litware Inc")
    now = datetime.now(UTC)
    plan = await plan_removal(client, litware, now=now)
    [savings] = [b for b in plan.blockers if b.kind is BlockerKind.SAVINGS_PLAN]
    assert savings.action is Action.TRANSFER_OR_WAIT and not savings.action.is_automatic and savings.blocks_removal
    assert savings.money is not None and savings.money.never_cancellable and savings.money.term_ends == savings.term_ends
    found = {o.kind: o for o in options(savings.money, now)}
    assert found[ExitKind.CANCEL_NOW].why_not is WhyNot.NEVER_CANCELLABLE
    assert found[ExitKind.WAIT].available and found[ExitKind.TRANSFER].available
    [nce] = [b for b in plan.blockers if b.kind is BlockerKind.NCE_PAST_WINDOW]
    assert nce.money is not None and nce.money.quantity == 50
