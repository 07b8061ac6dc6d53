"""Carry out one confirmed blocker action against Partner Center.

Each action is idempotent: the client reads the resource first and skips a write that is
already done, so a repeated or resumed action costs reads, not a second change.
"""

from __future__ import annotations

import asyncio

from .blockers import Action, Blocker
from .client import PartnerCenterClient

__all__ = ("carry_out",)


async def carry_out(client: PartnerCenterClient, customer_id: str, blocker: Blocker) -> None:
    """Do what ``blocker.action`` says.

    :raises ValueError: the action is not one the bot can do (wait, manual, report).
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
            # The plan can only be suspended once none of its Azure subscriptions is active.
            await asyncio.gather(
                *(
                    client.cancel_azure_entitlement(customer_id, blocker.item_id, entitlement_id)
                    for entitlement_id in blocker.azure_subscription_ids
                )
            )
            await client.suspend_subscription(customer_id, blocker.item_id)
        case Action.CANCEL_ORDER:
            await client.cancel_order(customer_id, blocker.item_id)
        case _:
            raise ValueError(f"'{blocker.action}' is not something the bot can carry out")
