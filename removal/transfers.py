"""Outgoing transfer requests, as a case keeps them: read from Partner Center through the client
(``list_transfers``: ``GET /v1/customers/{id}/transfers``,
learn.microsoft.com/partner-center/developer/transfer-entity-resources) and turned into
:class:`~removal.case.CaseTransfer` values, whose decisions the case keeps across re-reads.

Reading them never fails a plan or a re-check: a customer's transfers that cannot be read are
"not read" (None), and the case keeps what it knew.
"""

from __future__ import annotations

import logging
from typing import Any

from partner_center import NotFoundError, PartnerCenterClient, PartnerCenterError
from partner_center.transfers import Transfer, TransferLine

from .case import CaseTransfer, CaseTransferLine, ItemError

__all__ = ("case_transfer_of", "lines_to_bring", "read_transfers", "transfer_audit")

_log = logging.getLogger(__name__)


async def read_transfers(client: PartnerCenterClient, customer_id: str) -> list[CaseTransfer] | None:
    """The customer's transfer requests, as the case keeps them; None when they could not be read
    (Partner Center refused or did not answer: the case keeps what it knew)."""
    try:
        transfers = await client.list_transfers(customer_id)
    except PartnerCenterError as error:
        _log.warning("could not read the transfers of %s: %s", customer_id, error.description)
        return None
    return [case_transfer_of(transfer) for transfer in transfers]


def case_transfer_of(transfer: Transfer) -> CaseTransfer:
    """One of the client's transfers, as the case keeps it (undecided: the case merges what was
    decided, :meth:`RemovalCase.refresh_transfers`). The status is kept as Partner Center spelled
    it; a line item's ``transferError`` is kept as its error (Partner Center's words)."""
    return CaseTransfer(
        id=transfer.id,
        target_partner=transfer.target_partner,
        status=transfer.raw_status or transfer.status.value,
        created_at=transfer.created_time,
        expires_at=transfer.expiration_time,
        completed_at=transfer.completed_time,
        line_items=[
            CaseTransferLine(
                id=line.id,
                subscription_id=line.subscription_id,
                name=line.name,
                quantity=line.quantity,
                status=line.status,
                error=_error_of(line) if line.error_text else None,
            )
            for line in transfer.line_items
        ],
    )


def _error_of(line: TransferLine) -> ItemError:
    """A line item's ``transferError``, as Partner Center said it (its code when it gives one)."""
    error = line.transfer_error
    code = ""
    if isinstance(error, dict):
        lowered = {str(key).lower(): value for key, value in error.items()}
        code = str(lowered.get("code") or lowered.get("errorcode") or "")
    return ItemError(description=line.error_text, code=code)


def transfer_audit(transfer: CaseTransfer, *, lines: list[CaseTransferLine] | None = None) -> dict[str, Any]:
    """The audit fields of a transfer event: the transfer id as the item, its line items (id,
    subscription, name, quantity) in the detail and in ``extra``."""
    chosen = transfer.chosen_lines if lines is None else lines
    described = [f"{line.id}: {line.name or line.subscription_id} ({line.subscription_id}) x{line.quantity or '?'}" for line in chosen]
    return {
        "item": f"transfer {transfer.id}",
        "detail": (f"to {transfer.target_partner}; line items: " + ", ".join(described))[:1000],
        "extra": {
            "transfer_id": transfer.id,
            "target_partner": transfer.target_partner,
            "line_items": [
                {"id": line.id, "subscription_id": line.subscription_id, "name": line.name, "quantity": line.quantity} for line in chosen
            ],
        },
    }


async def lines_to_bring(client: PartnerCenterClient, customer_id: str, transfer: CaseTransfer) -> list[dict[str, Any]]:
    """The line items an accept brings to a request Partner Center lists without any ("the
    source partner updates the transfer with line item details", update-a-transfer): for each
    proposed line the approver accepted, ``subscriptionId, offerId, quantity, billingCycle,
    termDuration`` as Partner Center reads them now (a subscription), or from the savings plan's
    entitlement (offerId ``productId:skuId``, assumption: a savings plan has no subscription).
    A line found in neither is sent with what the case knows (Partner Center answers for it)."""
    chosen = transfer.chosen_lines
    plans: dict[str, Any] = {}
    if any(line.subscription_id for line in chosen):
        plans = {e.reference_order.id.lower(): e for e in await client.list_savings_plans(customer_id) if e.reference_order.id}
    lines: list[dict[str, Any]] = []
    for line in chosen:
        plan = plans.get(line.subscription_id.lower())
        if plan is not None:
            lines.append(
                {
                    "subscriptionId": line.subscription_id,
                    "offerId": f"{plan.product_id}:{plan.sku_id}",
                    "quantity": line.quantity or plan.quantity,
                }
            )
            continue
        try:
            subscription = await client.get_subscription(customer_id, line.subscription_id)
        except NotFoundError:  # (anything else, Partner Center silent included, is the caller's)
            lines.append({"subscriptionId": line.subscription_id, "quantity": line.quantity})
            continue
        lines.append(
            {
                "subscriptionId": subscription.id,
                "offerId": subscription.offer_id,
                "quantity": line.quantity or subscription.quantity,
                "billingCycle": subscription.billing_cycle,
                "termDuration": subscription.term_duration,
            }
        )
    return lines
