"""Carry out one confirmed blocker action against Partner Center.

Each action is idempotent: the client reads the resource first and skips a write that is
already done, so a repeated or resumed action costs reads, not a second change.

An Azure plan is two steps, because Partner Center takes a while between them:

1. cancel the approved Azure subscriptions still reading ``active`` (``POST …/azureEntitlements/
   {id}/cancel``, app+user, reason ``compromise``: learn.microsoft.com/partner-center/developer/
   cancel-an-azure-subscription);
2. suspend the plan, only once Partner Center lists none of its Azure subscriptions as
   ``active``: "Expect about 10 mins for the status to be reflected (that is, active to
   inactive)" (same page), and meanwhile the plan PATCH answers 403/900115 "Azure plan can't be
   moved to suspended state since you have one or more Azure Subscriptions in the active state"
   (developer/error-codes).

Between the two, :func:`carry_out` raises :class:`AzureCancellationPending`: not a failure, the
item waits and is carried out again once a fresh read shows no active Azure subscription.
"""

from __future__ import annotations

import asyncio

from .blockers import Action, Blocker
from .client import PartnerCenterClient
from .errors import PartnerCenterError

__all__ = ("AZURE_CANCELLING", "AzureCancellationPending", "carry_out")

# ItemError.reason of an Azure-plan item whose Azure subscriptions' cancels were sent and are not
# showing yet (the cards say it in the reader's language: error.reason.azure_cancelling).
AZURE_CANCELLING = "azure_cancelling"
# Partner Center's code for "the plan still has active Azure subscriptions" (developer/error-codes).
_PLAN_HAS_ACTIVE_AZURE = "900115"


class AzureCancellationPending(Exception):
    """The Azure plan cannot be suspended yet: Partner Center still shows active Azure
    subscriptions under it (the cancels were just sent and take about 10 minutes to show).

    Attributes:
        active_ids: the Azure subscriptions still reading ``active``.
        correlation_id: the ``MS-CorrelationId`` of Partner Center's 403/900115, when it said so.
    """

    description = (
        "Azure is applying the cancellation of the Azure subscriptions (about 10 minutes); "
        "Offboard checks again and suspends the Azure plan then."
    )

    def __init__(self, active_ids: tuple[str, ...] = (), *, correlation_id: str = "") -> None:
        super().__init__(self.description)
        self.active_ids = active_ids
        self.correlation_id = correlation_id


async def carry_out(client: PartnerCenterClient, customer_id: str, blocker: Blocker) -> None:
    """Do what ``blocker.action`` says.

    :raises ValueError: the action is not one the bot can do (wait, manual, report).
    :raises AzureCancellationPending: an Azure plan's Azure subscriptions still read active.
    :raises PartnerCenterError: Partner Center refused or failed.
    """
    match blocker.action:
        case Action.SUSPEND:
            await client.suspend_subscription(customer_id, blocker.item_id)
        case Action.CANCEL_SUBSCRIPTION:
            await client.cancel_subscription(customer_id, blocker.item_id)
        case Action.TURN_OFF_AUTO_RENEW:
            await client.turn_off_auto_renew(customer_id, blocker.item_id)
        case Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN:
            await _cancel_azure_subscriptions_then_suspend_plan(client, customer_id, blocker)
        case Action.CANCEL_ORDER:
            await client.cancel_order(customer_id, blocker.item_id)
        case _:
            raise ValueError(f"'{blocker.action}' is not something the bot can carry out")


async def _cancel_azure_subscriptions_then_suspend_plan(client: PartnerCenterClient, customer_id: str, blocker: Blocker) -> None:
    plan_id = blocker.item_id
    approved = {entitlement_id.lower() for entitlement_id in blocker.azure_subscription_ids}
    current = await client.list_azure_entitlements(customer_id, plan_id)
    # Only the approved ones: one the customer created since was not approved (the fresh read
    # proposes it, and someone decides). Cancelling one again while it propagates is not sent
    # when this runs again: the workflow runs it again only once none reads active.
    to_cancel = [e.id for e in current if e.is_active and e.id.lower() in approved]
    await asyncio.gather(*(client.cancel_azure_entitlement(customer_id, plan_id, entitlement_id) for entitlement_id in to_cancel))
    if to_cancel:  # read again: a change Partner Center applied at once needs no wait
        current = await client.list_azure_entitlements(customer_id, plan_id)
    still_active = tuple(e.id for e in current if e.is_active)
    if still_active:
        # Just cancelled (or not approved): the PATCH would answer 403/900115. Do not send it.
        raise AzureCancellationPending(still_active)
    try:
        await client.suspend_subscription(customer_id, plan_id)
    except PartnerCenterError as error:
        if error.status == 403 and str(error.code) == _PLAN_HAS_ACTIVE_AZURE:
            # Someone reactivated or created one between the read and the PATCH: wait, re-read.
            raise AzureCancellationPending(correlation_id=error.correlation_id) from error
        raise
