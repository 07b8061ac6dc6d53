"""New-commerce transfers: another partner asks for this customer's subscriptions; we accept or not.

"A target partner creates the transfer request. The source partner updates the transfer with line
item details" (learn.microsoft.com/partner-center/developer/create-a-transfer). The sandbox's
partner is always the *source* (the customer is leaving it); the other partner is simulated: the
operator endpoint ``POST /_sandbox/transfers`` and the seed's ``transfers`` create its requests.

Rules (update-a-transfer, transfer-entity-resources unless marked):

- ``status`` "Active" (can be submitted) and "Completed" are documented; "Expired" (an Active
  request past ``expirationTime``) and "Canceled" (rejected by us) are ASSUMPTIONS;
- ``transferType`` "5" = NewCommerce;
- the request names the subscriptions the other partner asked for (ASSUMPTION: in Partner Center
  the source partner picks the line items; the sandbox pre-fills them so a client can show which
  subscriptions the request would move). A savings plan's line carries its order id as
  ``subscriptionId`` (ASSUMPTION);
- accept = ``PATCH .../transfers/{id}`` with the entity and ``"status": "Complete"``; the lineItems
  sent are the ones transferred (all of them when the body has none; partial acceptance = a subset,
  ASSUMPTION); at most 25 line items per transfer (vendor claim "25-item transfer limit",
  CloudCockpit blog: ASSUMPTION); a line's ``quantity`` may be lowered (the rest of the seats stay
  with us: ASSUMPTION), not raised;
- reject: the documented ``"status": "Cancel"`` is the *target* partner's ("Only the target partner
  that created the transfer can cancel it"); Partner Center documents no source-side reject for new
  commerce. The sandbox accepts ``"Reject"`` (the legacy reject-a-transfer page's value) or
  ``"Cancel"`` from us while the request is Active and not yet submitted, and the transfer then
  reads "Canceled" (ASSUMPTION);
- after the accept the transfer stays "Active", its lines "InProgress", for
  ``TRANSFER_COMPLETION_DELAY`` on the sandbox clock ("a few minutes": ASSUMPTION); then it is
  "Completed" with ``completedTime``; each line is "Completed", or "Failed" with ``transferError``
  when the operator switched that line to fail (line statuses and ``transferError`` text:
  ASSUMPTIONS);
- a completed line's subscription no longer belongs to this partner. This is how the sandbox models
  it: the subscription disappears from the customer's subscriptions as we read them (and a savings
  plan from its entitlements); a lowered quantity leaves the remaining seats with us. Billing moves
  to the new partner from the transfer date (vendor claim, CloudCockpit: not modelled);
- a second accept of a submitted transfer answers the transfer unchanged (ASSUMPTION: idempotent);
  any update of a Completed, Expired or Canceled transfer is refused: 400 (ASSUMPTION).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from . import errors
from .clock import parse_iso
from .demo import DEMO
from .errors import ApiFault
from .models import Customer, Subscription, SubscriptionKind, Transfer, TransferLine

__all__ = (
    "SOURCE_PARTNER_NAME",
    "TRANSFER_COMPLETION_DELAY",
    "TRANSFER_EXPIRY",
    "TRANSFER_LINE_LIMIT",
    "build_transfer",
    "settle_transfers",
    "update_transfer",
)

TRANSFER_COMPLETION_DELAY = timedelta(minutes=5)  # ASSUMPTION: "a few minutes"
TRANSFER_EXPIRY = timedelta(days=30)  # ASSUMPTION: how long an unanswered request stays Active
TRANSFER_LINE_LIMIT = 25  # ASSUMPTION: vendor claim (CloudCockpit blog, 2026-05-15)
SOURCE_PARTNER_NAME = "Sandbox Partner"  # the sandbox's own partner organisation

_FINISHED = frozenset({"completed", "expired", "canceled"})
_TRANSFERABLE_STATUSES = frozenset({"active", "suspended"})
_DEFAULT_ERROR = "The subscription could not be transferred. Contact Microsoft support."  # ASSUMPTION


def build_transfer(
    customer: Customer,
    spec: Mapping[str, Any],
    *,
    now: datetime,
    transfer_id: str,
    dates: Callable[[str], datetime] | None = None,
) -> Transfer:
    """A transfer request from another partner; ``spec`` as for ``POST /_sandbox/transfers``:
    ``targetPartnerName``, ``subscriptionIds`` (subscription ids or savings plan order ids),
    optional ``targetPartnerTenantId``, ``targetPartnerEmailId``, ``createdTime``,
    ``expirationTime`` (seed: relative dates), ``failSubscriptionIds``, ``lineItems: false`` (a
    request without line items: no ``subscriptionIds`` needed)."""
    name = spec.get("targetPartnerName")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("targetPartnerName must be a non-empty string")
    # ``"lineItems": false``: a request created without line items. Microsoft: "the source
    # partner updates the transfer with line item details" (update-a-transfer), so a real request
    # may arrive empty and our accept brings them.
    without_lines = spec.get("lineItems", True) is False
    wanted = [] if without_lines else spec.get("subscriptionIds")
    if not without_lines and (not isinstance(wanted, list) or not wanted or not all(isinstance(item, str) for item in wanted)):
        raise ValueError("subscriptionIds must be a non-empty list of ids")
    assert isinstance(wanted, list)
    failing = {str(item).lower() for item in spec.get("failSubscriptionIds", [])}
    parse = dates or parse_iso  # the operator sends ISO dates; the seed's resolve relative ones
    created = parse(spec["createdTime"]) if "createdTime" in spec else now.replace(microsecond=0)
    expiration = parse(spec["expirationTime"]) if "expirationTime" in spec else created + TRANSFER_EXPIRY
    lines = [_line(customer, item, number, fail=item.lower() in failing) for number, item in enumerate(wanted)]
    return Transfer(
        id=transfer_id,
        customer_id=customer.id,
        customer_name=customer.company_name,
        customer_email=customer.billing.email,
        source_partner_tenant_id=DEMO.partner_tenant_id,
        source_partner_name=SOURCE_PARTNER_NAME,
        target_partner_tenant_id=str(spec.get("targetPartnerTenantId") or _partner_id(transfer_id)),
        target_partner_name=name.strip(),
        target_partner_email=str(spec.get("targetPartnerEmailId") or f"transfers@{_slug(name)}.example"),
        created=created,
        last_modified=created,
        expiration=expiration,
        line_items=lines,
        target_product_types=spec.get("targetProductTypes"),
    )


def _line(customer: Customer, wanted: str, number: int, *, fail: bool) -> TransferLine:
    subscription = customer.subscriptions.get(wanted.lower())
    if subscription is not None:
        if not subscription.kind.has_cancellation_window and subscription.kind is not SubscriptionKind.AZURE_PLAN:
            # "only relevant for Azure Plan reservations, savings plans, and subscriptions and new
            # commerce license-based subscriptions" (create-a-transfer).
            raise ValueError(f"subscription {wanted} is not new commerce: it cannot be transferred this way")
        return TransferLine(
            id=number,
            subscription_id=subscription.id,
            quantity=subscription.quantity,
            billing_cycle=subscription.billing_cycle,
            friendly_name=subscription.friendly_name,
            offer_id=subscription.offer_id,
            term_duration=subscription.term_duration,
            fail=fail,
        )
    plan = customer.savings_plans.get(wanted)
    if plan is not None:
        return TransferLine(
            id=number,
            subscription_id=plan.order_id,
            quantity=plan.quantity,
            billing_cycle=plan.billing_cycle,
            friendly_name=plan.sku_title,
            offer_id=f"{plan.product_id}:{plan.sku_id}",
            term_duration=plan.term_duration,
            fail=fail,
        )
    raise ValueError(f"customer {customer.id} has no subscription or savings plan {wanted}")


def _partner_id(transfer_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-other-partner/{transfer_id}"))


def _slug(name: str) -> str:
    return "".join(character for character in name.lower() if character.isalnum()) or "partner"


def settle_transfers(customer: Customer, now: datetime, delay: timedelta = TRANSFER_COMPLETION_DELAY) -> None:
    """Apply what time did: submitted transfers complete after ``delay``; unanswered ones expire."""
    for transfer in customer.transfers.values():
        if transfer.status.lower() != "active":
            continue
        if transfer.submitted is None:
            if now > transfer.expiration:
                transfer.status = "Expired"
                transfer.last_modified = transfer.expiration
            continue
        done = transfer.submitted + delay
        if now < done:
            continue
        for line in transfer.line_items:
            if line.fail:
                line.status, line.transfer_error = "Failed", line.fail_message or _DEFAULT_ERROR
                continue
            line.status = "Completed"
            _hand_over(customer, line)
        transfer.status = "Completed"
        transfer.completed = transfer.last_modified = done


def _hand_over(customer: Customer, line: TransferLine) -> None:
    """The line's subscription (or savings plan) now belongs to the other partner (module docstring)."""
    subscription = customer.subscriptions.get(line.subscription_id.lower())
    if subscription is not None:
        if line.quantity < subscription.quantity:
            subscription.quantity -= line.quantity
            subscription.seat_tranches = []
            subscription.touch()
        else:
            del customer.subscriptions[subscription.id]
        return
    plan = customer.savings_plans.get(line.subscription_id)
    if plan is not None:
        plan.transferred = True


def update_transfer(customer: Customer, transfer: Transfer, body: dict[str, Any], *, now: datetime) -> None:
    """Validate and apply our PATCH (``body`` has lower-cased top-level keys)."""
    body_id = body.get("id")
    if body_id is not None and str(body_id).lower() != transfer.id.lower():
        raise errors.invalid_input("the transfer id in the body does not match the URL")
    status = body.get("status")
    if not isinstance(status, str):
        raise errors.invalid_input('status is required: "Complete" to accept, "Reject" to decline')
    wanted = status.strip().lower()
    current = transfer.status.lower()
    if wanted == "complete":
        if transfer.submitted is not None and current == "active":
            return  # already submitted: the repeat changes nothing (ASSUMPTION)
        _refuse_if_finished(transfer)
        _accept(customer, transfer, body.get("lineitems"), now)
        return
    if wanted in ("reject", "cancel"):
        _refuse_if_finished(transfer)
        if transfer.submitted is not None:
            raise ApiFault(400, errors.INVALID_INPUT, "The transfer has been submitted and can no longer be declined.")
        transfer.status = "Canceled"
        transfer.last_modified = now
        return
    raise errors.invalid_input(f'unsupported status {status!r}: "Complete" accepts, "Reject" declines')


def _refuse_if_finished(transfer: Transfer) -> None:
    if transfer.status.lower() in _FINISHED:
        raise ApiFault(400, errors.INVALID_INPUT, f"The transfer is {transfer.status} and cannot be updated.")


def _accept(customer: Customer, transfer: Transfer, requested: Any, now: datetime) -> None:
    brought = not transfer.line_items  # created without line items: the accept brings them
    chosen = _brought_lines(customer, requested) if brought else _chosen_lines(transfer, requested)
    if not chosen:
        raise errors.invalid_input("at least one line item must be transferred")
    if len(chosen) > TRANSFER_LINE_LIMIT:
        raise errors.invalid_input(f"a transfer can move at most {TRANSFER_LINE_LIMIT} line items")
    for line, quantity in chosen:
        _check_transferable(customer, line)
        line.quantity = quantity
        line.status = "InProgress"
    kept = {id(line) for line, _ in chosen}
    transfer.line_items = [line for line, _ in chosen] if brought else [line for line in transfer.line_items if id(line) in kept]
    transfer.submitted = transfer.last_modified = now


def _brought_lines(customer: Customer, requested: Any) -> list[tuple[TransferLine, int]]:
    """The line items our accept brings to a request created without any: each names a
    subscription (or savings plan order) of the customer by ``subscriptionId``, with a quantity
    up to what it has (ASSUMPTION: Partner Center takes the rest of the line from its own record)."""
    if not isinstance(requested, list) or not requested:
        raise errors.invalid_input("this transfer has no line items: the update must bring them")
    chosen: dict[str, tuple[TransferLine, int]] = {}
    for number, item in enumerate(requested):
        if not isinstance(item, dict):
            raise errors.invalid_input("each line item must be an object")
        keys = {str(key).lower(): value for key, value in item.items()}
        wanted = keys.get("subscriptionid")
        if not isinstance(wanted, str) or not wanted:
            raise errors.invalid_input("each line item must name its subscriptionId")
        try:
            line = _line(customer, wanted, number, fail=False)
        except ValueError as exc:
            raise errors.invalid_input(str(exc)) from None
        quantity = keys.get("quantity", line.quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= line.quantity:
            raise errors.invalid_input(f"line item {wanted}: quantity must be between 1 and {line.quantity}")
        chosen[line.subscription_id.lower()] = (line, quantity)
    return list(chosen.values())


def _chosen_lines(transfer: Transfer, requested: Any) -> list[tuple[TransferLine, int]]:
    if requested is None:
        return [(line, line.quantity) for line in transfer.line_items]
    if not isinstance(requested, list):
        raise errors.invalid_input("lineItems must be a list")
    by_id = {str(line.id): line for line in transfer.line_items}
    by_subscription = {line.subscription_id.lower(): line for line in transfer.line_items}
    chosen: dict[int, tuple[TransferLine, int]] = {}
    for item in requested:
        if not isinstance(item, dict):
            raise errors.invalid_input("each line item must be an object")
        keys = {str(key).lower(): value for key, value in item.items()}
        line = by_id.get(str(keys.get("id"))) if keys.get("id") is not None else None
        if line is None and isinstance(keys.get("subscriptionid"), str):
            line = by_subscription.get(keys["subscriptionid"].lower())
        if line is None:
            raise errors.invalid_input(f"line item {keys.get('id', keys.get('subscriptionid'))!r} is not part of this transfer")
        quantity = keys.get("quantity", line.quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= line.quantity:
            raise errors.invalid_input(f"line item {line.id}: quantity must be between 1 and {line.quantity}")
        chosen[line.id] = (line, quantity)
    return list(chosen.values())


def _check_transferable(customer: Customer, line: TransferLine) -> None:
    subscription: Subscription | None = customer.subscriptions.get(line.subscription_id.lower())
    if subscription is not None:
        if subscription.status.lower() not in _TRANSFERABLE_STATUSES:
            # ASSUMPTION: a finished subscription has nothing left to transfer.
            raise errors.invalid_input(f"subscription {subscription.id} is {subscription.status} and cannot be transferred")
        return
    if line.subscription_id not in customer.savings_plans:
        raise errors.invalid_input(f"line item {line.id}: {line.subscription_id} no longer belongs to this customer")
