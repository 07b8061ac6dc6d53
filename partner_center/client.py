"""The Partner Center REST client: the operations a reseller-relationship removal needs.

Every call goes through one seam, :class:`~partner_center._transport.Transport`: pace (per-tenant
rate limiter), authenticate (MSAL), send with ``MS-RequestId`` / ``MS-CorrelationId``, map errors
to the tree in :mod:`partner_center.errors`, and retry per :class:`~partner_center.retry.RetryPolicy`
keeping the same ``MS-RequestId`` so a retried write is applied once.

Writes are idempotent at this level too: each one reads the resource fresh first and does
nothing when it is already in the wanted state (a double click, a resumed case), or past it (a
subscription someone cancelled in the portal needs no suspending).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from collections.abc import Collection as Collection_
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiohttp

from ._transport import Transport
from .auth import TokenProvider
from .errors import (
    AuthError,
    ConflictError,
    NoRelationshipError,
    NotFoundError,
    PartnerCenterError,
    RemovalUnclearError,
    is_unavailable,
)
from .limits import PartnerLimits
from .models import (
    AzureEntitlement,
    Collection,
    Customer,
    Entitlement,
    Order,
    OrderStatus,
    PartnerCenterModel,
    Relationship,
    RelationshipRequest,
    Subscription,
    SubscriptionStatus,
)
from .retry import RetryPolicy
from .transfers import Transfer, TransferStatus, outside_limits

__all__ = ("DapRemoval", "PartnerCenterClient", "RemovalResult", "SearchField")

_log = logging.getLogger(__name__)

SearchField = Literal["CompanyName", "Domain"]

LIVE_BASE_URL = "https://api.partnercenter.microsoft.com"
# The only documented reason for cancelling an Azure subscription of an Azure plan; others get
# 400/900307 (learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription).
AZURE_CANCELLATION_REASON = "compromise"
_DEFAULT_PAGE_SIZE = 100
# What a collection's items are read as.
Resource = TypeVar("Resource", bound=PartnerCenterModel)
# A subscription in one of these can change no more: there is nothing left to suspend or cancel.
# New commerce: expired (30 d) -> disabled (90 d) -> deleted; a suspended term ends disabled;
# disabled "can't be reactivated" (learn.microsoft.com/partner-center/subscription-lifecycle).
_FINAL_STATUSES = frozenset({SubscriptionStatus.DELETED, SubscriptionStatus.EXPIRED, SubscriptionStatus.DISABLED})


@dataclass(frozen=True, slots=True)
class RemovalResult:
    """The removal is confirmed by a positive signal (see :meth:`PartnerCenterClient.remove_relationship`).

    Attributes:
        customer_id: the customer's tenant id.
        already_removed: the relationship was already none before our PATCH took effect (a
            repeat: the pre-read showed ``none``, or our PATCH was refused and the read-back
            then showed ``none``).
        request_id: ``MS-RequestId`` of the removal PATCH ("" when none was accepted).
        correlation_id: ``MS-CorrelationId`` shared by the PATCH and the read-back.
        confirmed_by: ``read`` (``GET /v1/customers/{id}`` answered 200 with
            ``relationshipToPartner: none``) or ``list`` (the customer has left the partner's
            customer list).
    """

    customer_id: str
    already_removed: bool
    request_id: str
    correlation_id: str
    confirmed_by: str = "read"


@dataclass(frozen=True, slots=True)
class DapRemoval:
    """DAP is confirmed removed: the customer reads ``allowDelegatedAccess: false`` (see
    :meth:`PartnerCenterClient.remove_dap`).

    Attributes:
        customer_id: the customer's tenant id.
        already_removed: it read false before any write of ours took effect (nothing sent, or
            our PATCH was refused and the read-back showed false).
        request_id: ``MS-RequestId`` of the PATCH ("" when none was accepted).
        correlation_id: ``MS-CorrelationId`` shared by the reads and the PATCH.
    """

    customer_id: str
    already_removed: bool
    request_id: str
    correlation_id: str


class PartnerCenterClient:
    """An async Partner Center client.

    :param session: the aiohttp session to send with (owned by the caller).
    :param base_url: ``https://api.partnercenter.microsoft.com`` or the sandbox's URL.
    :param tokens: gives bearer tokens (app-only, or app+user where required).
    :param limits: the partner tenant's rate limiter and concurrency cap.
    :param retry: the retry policy.
    :param request_timeout: seconds for one HTTP attempt.
    :param application: sent as ``MS-PartnerCenter-Application``.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        base_url: str = LIVE_BASE_URL,
        tokens: TokenProvider,
        limits: PartnerLimits,
        retry: RetryPolicy | None = None,
        request_timeout: float = 30.0,
        application: str = "Offboard",
    ) -> None:
        self._retry = retry or RetryPolicy()
        self._transport = Transport(
            session=session,
            base_url=base_url,
            tokens=tokens,
            limits=limits,
            retry=self._retry,
            request_timeout=request_timeout,
            application=application,
        )

    # ---- Is it there? ----

    async def is_answering(self) -> bool:
        """One call, no retries: does Partner Center answer at all now (even with a refusal)?

        False when the connection fails, times out, or the answer is a 5xx or a 429: what
        :func:`~partner_center.errors.is_unavailable` calls unavailable.
        """
        try:
            await self._transport.send("GET", "/v1/customers?size=1", retried=False)
        except PartnerCenterError as error:
            return not is_unavailable(error)
        return True

    # ---- Customers ----

    async def get_customer(self, customer_id: str, *, correlation_id: str | None = None) -> Customer:
        reply = await self._transport.send("GET", f"/v1/customers/{_segment(customer_id)}", correlation_id=correlation_id)
        return Customer.from_wire(reply.body)

    async def iter_customers(self, field: SearchField, prefix: str, *, page_size: int = _DEFAULT_PAGE_SIZE) -> AsyncIterator[Customer]:
        """Customers whose company name or domain starts with ``prefix`` (case-insensitive)."""
        condition = json.dumps({"Field": field, "Value": prefix, "Operator": "starts_with"}, separators=(",", ":"))
        path = f"/v1/customers?size={page_size}&filter={quote(condition, safe='')}"
        async for item in self._pages(path, Customer):
            yield item

    async def find_customers(
        self, field: SearchField, prefix: str, *, limit: int = 50, page_size: int = _DEFAULT_PAGE_SIZE
    ) -> list[Customer]:
        found: list[Customer] = []
        async for customer in self.iter_customers(field, prefix, page_size=page_size):
            found.append(customer)
            if len(found) >= limit:
                break
        return found

    async def read_relationship(self, customer_id: str, *, correlation_id: str | None = None) -> Relationship:
        """The relationship as Partner Center has it now; ``UNKNOWN`` when it answers 403/20002.

        20002 "can be caused by a customer leaving a partner or the customer revoking the
        delegated admin privileges" (a Microsoft maintainer, microsoft/Partner-Smart-Office#12):
        it is no proof of ``none``. Only a 200 showing ``none`` reads as ``NONE``.

        :raises NotFoundError: no such customer (see :meth:`remove_relationship` for why a
            removal reads a 404 as ``UNKNOWN`` instead).
        """
        try:
            return (await self.get_customer(customer_id, correlation_id=correlation_id)).relationship_to_partner
        except NoRelationshipError:
            return Relationship.UNKNOWN

    async def remove_relationship(self, customer_id: str, *, domain: str = "") -> RemovalResult:
        """PATCH the customer to ``relationshipToPartner: none`` (app+user), then confirm it.

        "Removed" is only ever confirmed *positively*, by the documented signals
        (developer/remove-a-reseller-relationship-with-a-customer.md, remove-a-relationship.md):

        - a read ``GET /v1/customers/{id}`` answering 200 with ``relationshipToPartner: none``;
        - the customer gone from the partner's customer list ("Removes the customer from your
          list of customers"), looked up by ``domain`` (or the whole list when it is unknown).

        The PATCH's own 200 body (``"RelationshipToPartner": "none"``) is documented too, but it
        is checked by the read-back, never taken alone. What happens to ``GET /v1/customers/{id}``
        after a removal is undocumented (../shared/reference/fidelity-audit.md §5): a 403/20002 or a 404 there proves
        nothing (20002 also comes from DAP/GDAP revocation), so then the list decides.

        Read first, like every write here: a relationship already ``none`` (a resumed removal
        whose PATCH had landed, or the portal) is reported as ``already_removed`` with nothing
        sent. A 403/20002 or 404 on that read does not skip the PATCH.

        :raises PartnerCenterError: the PATCH was refused and the customer still reads as a
            reseller (Partner Center's own code and description), or it was accepted but the
            read-back still shows a relationship.
        :raises RemovalUnclearError: nothing confirms either outcome: a person must check.
        :raises AuthError: the PATCH was refused for the credential (incl. MFA): nothing read back.
        """
        correlation_id = str(uuid.uuid4())
        if await self._relationship_around_removal(customer_id, correlation_id) is Relationship.NONE:
            return RemovalResult(customer_id, True, "", correlation_id)
        body = {"relationshipToPartner": "none", "attributes": {"objectType": "Customer"}}
        request_id = ""
        refused: PartnerCenterError | None = None
        try:
            reply = await self._transport.send(
                "PATCH",
                f"/v1/customers/{_segment(customer_id)}",
                body=body,
                needs_user=True,
                correlation_id=correlation_id,
            )
            request_id = reply.request_id
        except PartnerCenterError as error:
            if is_unavailable(error) or isinstance(error, (AuthError, NotFoundError)):
                raise  # unavailable: the resumed removal reads first; auth, 404: nothing happened
            refused = error  # e.g. 400/3000 "Invalid property", 403/20002: read what is true
        relationship = await self._relationship_around_removal(customer_id, correlation_id)
        if relationship is Relationship.NONE:
            return RemovalResult(customer_id, refused is not None, request_id, correlation_id)
        if relationship is not Relationship.UNKNOWN:
            if refused is not None:
                raise refused  # refused, and the relationship is plainly still there
            raise PartnerCenterError(
                f"The removal was accepted but the customer still reads as '{relationship}'",
                status=200,
                correlation_id=correlation_id,
                request_id=request_id,
            )
        if not await self._is_listed(customer_id, domain):
            return RemovalResult(customer_id, refused is not None, request_id, correlation_id, "list")
        answer = (
            f"the removal was refused ({refused.status}/{refused.code or '-'}: {refused.description})"
            if refused is not None
            else "the removal was accepted"
        )
        raise RemovalUnclearError(
            f"Unclear: check in Partner Center whether the reseller relationship is removed. "
            f"{answer[0].upper() + answer[1:]}, but the customer cannot be read back "
            f"(403/20002 or 404) and is still in the customer list",
            status=refused.status if refused is not None else 200,
            code=refused.code if refused is not None else "",
            correlation_id=correlation_id,
            request_id=request_id or (refused.request_id if refused is not None else ""),
        )

    async def remove_dap(self, customer_id: str) -> DapRemoval:
        """Remove the legacy delegated admin privileges (DAP) for a customer, then confirm it.

        ``PATCH /v1/customers/{id}`` with a Customer body whose ``AllowDelegatedAccess`` is
        false, app+user only (learn.microsoft.com/partner-center/developer/remove-dap; the body
        sent is that page's request example). Read first: a customer already reading false needs
        no write. A customer read without the flag (``None``) is written to, since nothing says
        DAP is gone. A refused PATCH is read back too, like the relationship removal.

        :raises PartnerCenterError: refused and the customer still allows delegated access, or
            accepted and the read-back still says true.
        :raises RemovalUnclearError: the read-back does not carry the flag at all.
        """
        correlation_id = str(uuid.uuid4())
        current = await self.get_customer(customer_id, correlation_id=correlation_id)
        if current.allow_delegated_access is False:
            return DapRemoval(customer_id, True, "", correlation_id)
        request_id = ""
        refused: PartnerCenterError | None = None
        try:
            reply = await self._transport.send(
                "PATCH",
                f"/v1/customers/{_segment(customer_id)}",
                body={"AllowDelegatedAccess": False, "attributes": {"objectType": "Customer"}},
                needs_user=True,
                correlation_id=correlation_id,
            )
            request_id = reply.request_id
        except PartnerCenterError as error:
            if is_unavailable(error) or isinstance(error, (AuthError, NotFoundError)):
                raise  # nothing happened, or nothing is known: a resumed teardown reads first
            refused = error
        after = await self.get_customer(customer_id, correlation_id=correlation_id)
        if after.allow_delegated_access is False:
            return DapRemoval(customer_id, refused is not None, request_id, correlation_id)
        if refused is not None:
            raise refused
        if after.allow_delegated_access is None:
            raise RemovalUnclearError(
                "Unclear: the DAP removal was accepted but the customer reads without allowDelegatedAccess; check in Partner Center",
                status=200,
                correlation_id=correlation_id,
                request_id=request_id,
            )
        raise PartnerCenterError(
            "The DAP removal was accepted but the customer still allows delegated access",
            status=200,
            correlation_id=correlation_id,
            request_id=request_id,
        )

    async def get_relationship_request_url(self) -> str:
        """The link a customer's admin opens to re-establish a reseller relationship."""
        reply = await self._transport.send("GET", "/v1/customers/relationshiprequests", needs_user=True)
        return RelationshipRequest.from_wire(reply.body).url

    # ---- Subscriptions ----

    async def list_subscriptions(self, customer_id: str) -> list[Subscription]:
        path = f"/v1/customers/{_segment(customer_id)}/subscriptions"
        return [item async for item in self._pages(path, Subscription)]

    async def get_subscription(self, customer_id: str, subscription_id: str, *, correlation_id: str | None = None) -> Subscription:
        reply = await self._transport.send("GET", _subscription_path(customer_id, subscription_id), correlation_id=correlation_id)
        return Subscription.from_wire(reply.body)

    async def suspend_subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        return await self._update_subscription(
            customer_id,
            subscription_id,
            {"status": "suspended"},
            already_done=lambda s: s.status is SubscriptionStatus.SUSPENDED or s.status in _FINAL_STATUSES,
        )

    async def cancel_subscription(self, customer_id: str, subscription_id: str) -> Subscription:
        """Cancel a new-commerce (or software) subscription inside its cancellation window."""
        return await self._update_subscription(
            customer_id,
            subscription_id,
            {"status": "deleted"},
            already_done=lambda s: s.status in _FINAL_STATUSES,
        )

    async def turn_off_auto_renew(self, customer_id: str, subscription_id: str) -> Subscription:
        return await self._update_subscription(
            customer_id,
            subscription_id,
            {"autoRenewEnabled": False},
            already_done=lambda s: s.auto_renew_enabled is False or s.status in _FINAL_STATUSES,
        )

    async def list_azure_entitlements(self, customer_id: str, plan_subscription_id: str) -> list[AzureEntitlement]:
        path = f"{_subscription_path(customer_id, plan_subscription_id)}/azureEntitlements"
        return [item async for item in self._pages(path, AzureEntitlement)]

    async def cancel_azure_entitlement(
        self,
        customer_id: str,
        plan_subscription_id: str,
        entitlement_id: str,
        *,
        reason: str = AZURE_CANCELLATION_REASON,
    ) -> None:
        """Cancel one Azure subscription of an Azure plan (202 Accepted), as app+user.

        - The body is ``{"cancellationReason": "compromise"}``: the only documented value; any
          other is refused 400/900307 "Cancellation reason '{0} is invalid."
          (learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription).
        - App+user: "Partners must be Global Administrators with Admin Agent roles to cancel"
          (same page).
        - It takes effect after a while: "Expect about 10 mins for the status to be reflected
          (that is, active to inactive)" (same page); until then the entitlement still reads
          ``active`` and suspending the plan answers 403/900115.
        """
        path = f"{_subscription_path(customer_id, plan_subscription_id)}/azureEntitlements/{_segment(entitlement_id)}/cancel"
        await self._transport.send("POST", path, body={"cancellationReason": reason}, needs_user=True)

    # ---- Entitlements and orders ----

    async def list_entitlements(
        self, customer_id: str, entitlement_type: str | None = None, *, show_expiry: bool = True
    ) -> list[Entitlement]:
        """Entitlements (``reservedinstance``, ``software``); app+user per the 2021 docs."""
        query = [f"showExpiry={'true' if show_expiry else 'false'}"]
        if entitlement_type:
            query.insert(0, f"entitlementType={quote(entitlement_type, safe='')}")
        path = f"/v1/customers/{_segment(customer_id)}/entitlements?{'&'.join(query)}"
        return [item async for item in self._pages(path, Entitlement, needs_user=True)]

    async def list_orders(self, customer_id: str, *, include_price: bool = False) -> list[Order]:
        """The customer's orders; with ``include_price`` each line item's ``pricing`` and the
        order's ``currencyCode`` (documented for one order, get-order-by-id ``includePrice``;
        that the list honours it too is an assumption: orders read without prices are read
        again one by one, see :func:`partner_center.gathering.gather_snapshot`)."""
        path = f"/v1/customers/{_segment(customer_id)}/orders"
        if include_price:
            path += "?includePrice=true"
        return [item async for item in self._pages(path, Order)]

    async def get_order(self, customer_id: str, order_id: str, *, include_price: bool = False) -> Order:
        path = _order_path(customer_id, order_id) + ("?includePrice=true" if include_price else "")
        reply = await self._transport.send("GET", path)
        return Order.from_wire(reply.body)

    async def list_savings_plans(self, customer_id: str) -> list[Entitlement]:
        """Azure savings plans: ``entitlementType=savingsPlan`` (assumption on the shape:
        entitlements like reservations; issue 21 contract)."""
        return [e for e in await self.list_entitlements(customer_id, "savingsPlan") if e.is_savings_plan]

    # ---- Transfers (learn.microsoft.com/partner-center/developer/update-a-transfer) ----

    async def list_transfers(self, customer_id: str) -> list[Transfer]:
        """The transfer requests for the customer (``GET /v1/customers/{id}/transfers``)."""
        return [item async for item in self._pages(_transfers_path(customer_id), Transfer)]

    async def get_transfer(self, customer_id: str, transfer_id: str, *, correlation_id: str | None = None) -> Transfer:
        reply = await self._transport.send("GET", _transfer_path(customer_id, transfer_id), correlation_id=correlation_id)
        return Transfer.from_wire(reply.body)

    async def accept_transfer(
        self,
        customer_id: str,
        transfer: Transfer | str,
        line_item_ids: Collection_[str] | None = None,
        *,
        bring: list[dict[str, Any]] | None = None,
    ) -> Transfer:
        """Accept and submit a transfer as its source partner, then read it back.

        The body is the entity as read with ``"status": "Complete"`` (the accept example of
        update-a-transfer); partial acceptance sends only the accepted ``lineItems`` (assumption:
        the page shows whole entities; the 25-line figure, :data:`~partner_center.transfers.MAX_LINE_ITEMS_PER_SUBMIT`,
        is a vendor's claim and not refused here).
        Read first, like every write here: a transfer already Completed is returned with nothing
        sent; one that is no longer Active (expired, cancelled) is refused here. A refused PATCH
        is read back: a transfer that reads Completed was accepted (a retry of ours landed).

        ``bring``: the line items to send when Partner Center lists the request without any
        ("the source partner updates the transfer with line item details", update-a-transfer):
        ``subscriptionId, offerId, quantity, billingCycle, termDuration`` each; used only then.

        :raises ConflictError: the transfer is not Active (nothing sent), or the accepted line
            items are outside the limits.
        :raises PartnerCenterError: Partner Center refused it and the read-back is not Completed.
        """
        transfer_id = transfer if isinstance(transfer, str) else transfer.id
        correlation_id = str(uuid.uuid4())
        current = await self.get_transfer(customer_id, transfer_id, correlation_id=correlation_id)
        if current.status is TransferStatus.COMPLETED:
            return current
        wanted = None if line_item_ids is None else list(line_item_ids)
        brought = not current.line_items and bool(bring)
        why = outside_limits(current, None if brought else wanted)
        if brought and why == "no_lines":
            why = ""  # the request came without line items: ours are sent
        if why:
            raise ConflictError(
                f"Transfer {transfer_id} cannot be accepted ({why}; status {current.raw_status or current.status.value})",
                status=409,
                code=why,
                correlation_id=correlation_id,
            )
        body = current.wire
        body["status"] = "Complete"
        if brought:
            body = {k: v for k, v in body.items() if k.lower() != "lineitems"}
            body["lineItems"] = [dict(line) for line in bring or []]
            wanted = None
        elif wanted is not None:
            keep = set(wanted)
            lines: Any = next((v for k, v in body.items() if k.lower() == "lineitems"), [])
            body = {k: v for k, v in body.items() if k.lower() != "lineitems"}
            body["lineItems"] = [line for line in lines if isinstance(line, dict) and str(line.get("id", "")) in keep]
        return await self._patch_transfer(
            customer_id, transfer_id, body, correlation_id, done={TransferStatus.COMPLETED}, landed=_submitted(wanted)
        )

    async def reject_transfer(self, customer_id: str, transfer: Transfer | str) -> Transfer:
        """Decline a transfer request as its source partner, then read it back.

        update-a-transfer documents ``"status": "Cancel"`` for the *target* partner only ("Only
        the target partner who created the transfer can cancel it"); a decline by the source
        partner is not documented. Offboard sends the same body (assumption; the sandbox accepts
        it): live Partner Center may refuse it, and the refusal is raised as Partner Center
        worded it (an unanswered request then lapses, assumption). Read first: a transfer
        already cancelled or expired is returned with nothing sent; a completed one cannot be
        declined (ConflictError).
        """
        transfer_id = transfer if isinstance(transfer, str) else transfer.id
        correlation_id = str(uuid.uuid4())
        current = await self.get_transfer(customer_id, transfer_id, correlation_id=correlation_id)
        if current.status in (TransferStatus.CANCELED, TransferStatus.EXPIRED):
            return current
        if current.status is not TransferStatus.ACTIVE:
            raise ConflictError(
                f"Transfer {transfer_id} cannot be declined: it reads {current.raw_status or current.status.value}",
                status=409,
                code="not_active",
                correlation_id=correlation_id,
            )
        body = {**current.wire, "status": "Cancel"}
        return await self._patch_transfer(
            customer_id, transfer_id, body, correlation_id, done={TransferStatus.CANCELED, TransferStatus.EXPIRED}
        )

    async def _patch_transfer(
        self,
        customer_id: str,
        transfer_id: str,
        body: dict[str, Any],
        correlation_id: str,
        *,
        done: set[TransferStatus],
        landed: Callable[[Transfer], bool] | None = None,
    ) -> Transfer:
        """PATCH, then read back (the PATCH's own answer is not taken alone, as for removals).
        A refused PATCH whose read-back is ``done`` or ``landed`` did what was asked (the resend
        of one that timed out may be refused because the first is in progress)."""
        try:
            await self._transport.send("PATCH", _transfer_path(customer_id, transfer_id), body=body, correlation_id=correlation_id)
        except PartnerCenterError as error:
            if is_unavailable(error) or isinstance(error, (AuthError, NotFoundError)):
                raise  # nothing happened, or nothing is known: the follow-up reads first
            after = await self.get_transfer(customer_id, transfer_id, correlation_id=correlation_id)
            if after.status in done or (landed is not None and landed(after)):
                return after
            raise
        return await self.get_transfer(customer_id, transfer_id, correlation_id=correlation_id)

    async def cancel_order(self, customer_id: str, order_id: str) -> Order:
        """Cancel a software purchase (the whole order) inside its cancellation window."""
        current = await self.get_order(customer_id, order_id)
        if current.status is OrderStatus.CANCELLED:
            return current
        reply = await self._transport.send("PATCH", _order_path(customer_id, order_id), body={"id": order_id, "status": "cancelled"})
        return Order.from_wire(reply.body)

    # ---- Plumbing ----

    async def _update_subscription(
        self,
        customer_id: str,
        subscription_id: str,
        changes: Mapping[str, Any],
        *,
        already_done: Callable[[Subscription], bool],
    ) -> Subscription:
        """Read fresh (etag), skip if already done, PATCH the full resource with If-Match.

        ETags are short-lived: on a stale one (400/2055, error-codes.md) read again and try once
        more. A 409 is Partner Center still processing a renewal ("Subscriptions may take up to
        24 hours to complete their renewal… Partners can resubmit the request after waiting for
        two minutes", learn.microsoft.com/partner-center/create-a-new-subscription): wait
        ``RetryPolicy.renewal_wait_seconds`` (logged), read again and resubmit, at most
        ``RetryPolicy.renewal_resubmits`` times; only then is the 409 raised. The full resource
        is always sent: a body without ``autoRenewEnabled`` turns auto-renew off
        (update-a-subscription-by-id.md).
        """
        correlation_id = str(uuid.uuid4())
        path = _subscription_path(customer_id, subscription_id)
        stale_retries = 1
        renewal_waits = 0
        while True:
            current = await self.get_subscription(customer_id, subscription_id, correlation_id=correlation_id)
            if already_done(current):
                return current
            changed = {key.lower() for key in changes}
            body = {k: v for k, v in current.wire.items() if k.lower() not in changed}
            body.update(changes)
            headers = {"If-Match": _quoted(current.etag)} if current.etag else {}
            try:
                reply = await self._transport.send("PATCH", path, body=body, headers=headers, correlation_id=correlation_id)
            except ConflictError as error:
                if error.status == 409:
                    if renewal_waits >= self._retry.renewal_resubmits:
                        raise
                    renewal_waits += 1
                    wait = self._retry.renewal_wait_seconds
                    _log.warning(
                        "Partner Center answered 409 for subscription %s of customer %s (a renewal "
                        "is being processed): waiting %.0f s before resubmitting (%d of %d); "
                        "correlation id %s",
                        subscription_id,
                        customer_id,
                        wait,
                        renewal_waits,
                        self._retry.renewal_resubmits,
                        correlation_id,
                    )
                    await asyncio.sleep(wait)
                    continue
                if stale_retries <= 0:
                    raise
                stale_retries -= 1
                continue
            return Subscription.from_wire(reply.body)

    async def _relationship_around_removal(self, customer_id: str, correlation_id: str) -> Relationship:
        """:meth:`read_relationship`, with a 404 read as ``UNKNOWN`` too: what a read answers
        after a removal is undocumented, and neither 403/20002 nor 404 proves one (audit #9)."""
        try:
            return await self.read_relationship(customer_id, correlation_id=correlation_id)
        except NotFoundError:
            return Relationship.UNKNOWN

    async def _is_listed(self, customer_id: str, domain: str) -> bool:
        """Is the customer still in the partner's customer list ("Removes the customer from your
        list of customers", remove-a-relationship.md)? By domain prefix when known, else all."""
        wanted = customer_id.lower()
        if domain:
            customers = self.iter_customers("Domain", domain)
        else:
            customers = self._pages(f"/v1/customers?size={_DEFAULT_PAGE_SIZE}", Customer)
        async for customer in customers:
            if (customer.id or "").lower() == wanted:
                return True
        return False

    async def _pages(self, path: str, model: type[Resource], *, needs_user: bool = False) -> AsyncIterator[Resource]:
        """Every item of a collection, following ``links.next`` with its headers."""
        headers: dict[str, str] = {}
        next_path: str | None = path
        while next_path:
            reply = await self._transport.send("GET", next_path, headers=headers, needs_user=needs_user)
            page = Collection[dict[str, Any]].model_validate(reply.body)
            for item in page.items:
                yield model.from_wire(item)
            link = page.links.next
            next_path = link.uri if link and link.uri else None
            headers = {h.key: h.value for h in link.headers} if link else {}


def _segment(value: str) -> str:
    return quote(value, safe="")


def _subscription_path(customer_id: str, subscription_id: str) -> str:
    return f"/v1/customers/{_segment(customer_id)}/subscriptions/{_segment(subscription_id)}"


def _submitted(line_item_ids: list[str] | None) -> Callable[[Transfer], bool]:
    """Whether a transfer read back shows our accept as submitted: one of the accepted line
    items reads InProgress or Completed (line statuses as the sandbox spells them; Microsoft's
    pages name no line status values: assumption)."""
    wanted = None if line_item_ids is None else set(line_item_ids)

    def landed(transfer: Transfer) -> bool:
        return any(
            line.status.strip().lower() in ("inprogress", "in_progress", "completed")
            for line in transfer.line_items
            if wanted is None or line.id in wanted
        )

    return landed


def _transfers_path(customer_id: str) -> str:
    return f"/v1/customers/{_segment(customer_id)}/transfers"


def _transfer_path(customer_id: str, transfer_id: str) -> str:
    return f"{_transfers_path(customer_id)}/{_segment(transfer_id)}"


def _order_path(customer_id: str, order_id: str) -> str:
    return f"/v1/customers/{_segment(customer_id)}/orders/{_segment(order_id)}"


def _quoted(etag: str) -> str:
    """An ETag as ``If-Match`` carries it: in double quotes (../shared/reference/partner-center-api.md §4.1, §9)."""
    if etag.startswith(('"', 'W/"')):
        return etag
    return f'"{etag}"'
