"""Partner Center's JSON wire format: records -> camelCase resources.

Links are relative to ``/v1`` (``/customers/...``), as in the Partner Center
examples, and every resource carries ``attributes.objectType``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .clock import format_iso
from .models import (
    AzureEntitlement,
    Customer,
    Order,
    OrderLineItem,
    Reservation,
    SavingsPlan,
    Subscription,
    SubscriptionKind,
    Transfer,
)
from .refund_rules import open_tranches, refund_options

__all__ = (
    "azure_entitlement_json",
    "collection",
    "customer_json",
    "link",
    "lower_keys",
    "order_json",
    "relationship_request_json",
    "removal_response_json",
    "reservation_entitlement_json",
    "savings_plan_entitlement_json",
    "software_entitlement_json",
    "subscription_json",
    "transfer_json",
)

_INVITATION_URL = (
    "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship"
    "&partnerId={partner}&msppId=0&DAP=false#/BillingAccounts/partner-invitation"
)


def lower_keys(body: Any) -> dict[str, Any]:
    """Top-level keys lower-cased: bodies come in camelCase or PascalCase (reference §0)."""
    if not isinstance(body, dict):
        return {}
    return {str(key).lower(): value for key, value in body.items()}


def link(uri: str, *, method: str = "GET", headers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"uri": uri, "method": method, "headers": headers or []}


def collection(
    items: list[dict[str, Any]],
    *,
    self_uri: str,
    next_link: dict[str, Any] | None = None,
    continuation_token: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"totalCount": len(items), "items": items}
    if continuation_token is not None:
        body["continuationToken"] = continuation_token
    body["links"] = {"self": link(self_uri)}
    if next_link is not None:
        body["links"]["next"] = next_link
    body["attributes"] = {"objectType": "Collection"}
    return body


def customer_json(customer: Customer, *, detailed: bool) -> dict[str, Any]:
    """A Customer; list items omit the billing profile and ``allowDelegatedAccess`` (reference §2.1)."""
    uri = f"/customers/{customer.id}"
    body: dict[str, Any] = {
        "id": customer.id,
        "commerceId": customer.commerce_id,
        "companyProfile": {
            "tenantId": customer.id,
            "domain": customer.domain,
            "companyName": customer.company_name,
            "links": {"self": link(f"{uri}/profiles/company")},
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
    }
    if detailed:
        billing = customer.billing
        body["billingProfile"] = {
            "id": customer.commerce_id,
            "firstName": billing.first_name,
            "lastName": billing.last_name,
            "email": billing.email,
            "culture": billing.culture,
            "language": billing.language,
            "companyName": customer.company_name,
            "defaultAddress": {
                "country": billing.country,
                "city": billing.city,
                "addressLine1": billing.address_line1,
                "postalCode": billing.postal_code,
                "firstName": billing.first_name,
                "lastName": billing.last_name,
            },
            "links": {"self": link(f"{uri}/profiles/billing")},
            "attributes": {"etag": f"{customer.commerce_id}-billing", "objectType": "CustomerBillingProfile"},
        }
    body["relationshipToPartner"] = customer.relationship
    if detailed:
        body["allowDelegatedAccess"] = customer.allow_delegated_access
    body["links"] = {"self": link(uri)}
    body["attributes"] = {"objectType": "Customer"}
    return body


def removal_response_json() -> dict[str, Any]:
    """The PascalCase, mostly-null Customer the removal PATCH answers (reference §7, verbatim)."""
    return {
        "Id": None,
        "CommerceId": None,
        "CompanyProfile": None,
        "BillingProfile": None,
        "RelationshipToPartner": "none",
        "AllowDelegatedAccess": None,
        "UserCredentials": None,
        "CustomDomains": None,
        "AssociatedPartnerId": None,
        "Attributes": {"ObjectType": "Customer"},
    }


def relationship_request_json(partner_tenant_id: str) -> dict[str, Any]:
    return {
        "url": _INVITATION_URL.format(partner=partner_tenant_id),
        "attributes": {"objectType": "RelationshipRequest"},
    }


def subscription_json(customer_id: str, subscription: Subscription, now: datetime | None = None) -> dict[str, Any]:
    """A Subscription; with ``now``, new-commerce ones also carry ``refundOptions`` and
    ``refundableQuantity`` as they stand at that moment (refund_rules.py)."""
    kind = subscription.kind
    body: dict[str, Any] = {
        "id": subscription.id,
        "offerId": subscription.offer_id,
        "offerName": subscription.offer_name,
        "friendlyName": subscription.friendly_name,
        "productType": {"id": subscription.product_type, "displayName": subscription.product_type},
        "quantity": subscription.quantity,
        "unitType": subscription.unit_type,
        "hasPurchasableAddons": False,
        "creationDate": format_iso(subscription.creation_date),
        "effectiveStartDate": format_iso(subscription.effective_start_date),
    }
    if subscription.commitment_end_date is not None:
        body["commitmentEndDate"] = format_iso(subscription.commitment_end_date)
    if kind.has_cancellation_window and subscription.cancellation_allowed_until is not None:
        body["cancellationAllowedUntilDate"] = format_iso(subscription.cancellation_allowed_until)
    body.update(
        {
            "status": subscription.status,
            "autoRenewEnabled": subscription.auto_renew,
            "isTrial": False,
            "billingType": "usage" if kind is SubscriptionKind.AZURE_PLAN else "license",
            "billingCycle": subscription.billing_cycle,
        }
    )
    if subscription.term_duration:
        body["termDuration"] = subscription.term_duration
    if now is not None:
        body.update(_refund_fields(subscription, now))
    body.update(
        {
            "isMicrosoftProduct": True,
            "contractType": "subscription",
            "orderId": subscription.order_id,
            "links": {"self": link(f"/customers/{customer_id}/subscriptions/{subscription.id}")},
            "attributes": {"etag": subscription.etag, "objectType": "Subscription"},
        }
    )
    return body


def _refund_fields(subscription: Subscription, now: datetime) -> dict[str, Any]:
    options = refund_options(subscription, now)
    tranches = open_tranches(subscription, now)
    if options is None or tranches is None:
        return {}  # legacy and Azure plan: no refund windows
    return {
        "refundOptions": [{"type": kind, "expiresAt": format_iso(until)} for kind, until in options],
        "refundableQuantity": {
            "totalQuantity": sum(tranche.quantity for tranche in tranches),
            "details": [{"quantity": tranche.quantity, "allowedUntilDateTime": format_iso(tranche.allowed_until)} for tranche in tranches],
        },
    }


def azure_entitlement_json(plan: Subscription, entitlement: AzureEntitlement) -> dict[str, Any]:
    return {
        "id": entitlement.id,
        "friendlyName": entitlement.friendly_name,
        "status": entitlement.status,
        "subscriptionId": plan.id,
        "attributes": {"objectType": "AzureEntitlement"},
    }


def _money(value: Decimal) -> float:
    # Partner Center sends prices as JSON numbers; two decimals keep the sandbox's exact.
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _pricing_json(line: OrderLineItem) -> dict[str, Any]:
    """Java SDK ``com.microsoft.store.partnercenter.models.orders.Pricing``: ``price`` = the
    partner's unit price per billing period; ``extendedPrice`` = price x quantity; ``listPrice``
    the catalog price (the partner price when none is seeded); ``discountedPrice`` = price and
    ``proratedPrice`` = extendedPrice (ASSUMPTIONS: the sandbox sells at period start, no
    promotions). ``unit_price`` is set when this is called."""
    assert line.unit_price is not None
    price = line.unit_price
    extended = price * line.quantity
    return {
        "listPrice": _money(line.list_price if line.list_price is not None else price),
        "discountedPrice": _money(price),
        "price": _money(price),
        "extendedPrice": _money(extended),
        "proratedPrice": _money(extended),
    }


def _line_item_json(line: OrderLineItem, *, include_price: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"lineItemNumber": line.line_item_number, "offerId": line.offer_id}
    if line.subscription_id:
        body["subscriptionId"] = line.subscription_id
    body.update({"friendlyName": line.friendly_name, "quantity": line.quantity})
    if line.term_duration:
        body["termDuration"] = line.term_duration
    body["transactionType"] = line.transaction_type
    if include_price and line.unit_price is not None:
        body["pricing"] = _pricing_json(line)  # no price seeded: no pricing, as PC without one
    return body


def order_json(customer_id: str, order: Order, *, include_price: bool = False) -> dict[str, Any]:
    """An Order; ``lineItems[].pricing`` only with ``includePrice`` (ASSUMPTION on the query
    parameter's name and on the list honouring it too)."""
    return {
        "id": order.id,
        "alternateId": order.alternate_id,
        "referenceCustomerId": customer_id,
        "billingCycle": order.billing_cycle,
        "currencyCode": order.currency_code,
        "lineItems": [_line_item_json(line, include_price=include_price) for line in order.line_items],
        "creationDate": format_iso(order.creation_date),
        "status": order.status,
        "links": {"self": link(f"/customers/{customer_id}/orders/{order.id}")},
        "attributes": {"objectType": "Order"},
    }


def reservation_entitlement_json(customer_id: str, reservation: Reservation, *, show_expiry: bool) -> dict[str, Any]:
    artifact_uri = (
        f"/customers/{customer_id}/artifacts/reservedinstance/groups/{reservation.group_id}"
        f"/lineitems/{reservation.line_item_id}/resource/{reservation.resource_id}"
    )
    body: dict[str, Any] = {
        "includedEntitlements": [],
        "referenceOrder": {
            "id": reservation.order_id,
            "lineItemId": reservation.line_item_id,
            "alternateId": reservation.order_id,
        },
        "productId": reservation.product_id,
        "skuId": reservation.sku_id,
        "skuTitle": reservation.sku_title,
        "quantity": reservation.quantity,
        "entitledArtifacts": [
            {
                "link": link(artifact_uri),
                "resourceId": reservation.resource_id,
                "artifactType": "reservedinstance",
                "dynamicAttributes": {"reservationType": reservation.reservation_type},
            }
        ],
        "entitlementType": "reservedinstance",
    }
    if show_expiry:
        body["expiryDate"] = format_iso(reservation.expiry_date)
    body["attributes"] = {"objectType": "Entitlement"}
    return body


def software_entitlement_json(order: Order, line: OrderLineItem, *, show_expiry: bool) -> dict[str, Any]:
    product_id, _, rest = line.offer_id.partition(":")
    sku_id = rest.partition(":")[0]
    body: dict[str, Any] = {
        "includedEntitlements": [],
        "referenceOrder": {
            "id": order.id,
            "lineItemId": str(line.line_item_number),
            "alternateId": order.alternate_id,
        },
        "productId": product_id,
        "skuId": sku_id,
        "skuTitle": line.friendly_name,
        "quantity": line.quantity,
        "entitledArtifacts": [],
        "entitlementType": "software",
    }
    if show_expiry:
        body["expiryDate"] = None  # perpetual software does not expire
    body["attributes"] = {"objectType": "Entitlement"}
    return body


def savings_plan_entitlement_json(customer_id: str, plan: SavingsPlan) -> dict[str, Any]:
    """An Azure savings plan, shaped like a reservation entitlement (ASSUMPTION: the issue-21
    contract's shape; Partner Center's own is not documented). ``expiryDate`` = the term end, always
    shown; ``fulfillmentState`` "Fulfilled" (ASSUMPTION)."""
    return {
        "includedEntitlements": [],
        "referenceOrder": {"id": plan.order_id, "lineItemId": "0", "alternateId": plan.order_id},
        "orderId": plan.order_id,
        "productId": plan.product_id,
        "skuId": plan.sku_id,
        "skuTitle": plan.sku_title,
        "quantity": plan.quantity,
        "termDuration": plan.term_duration,
        "billingCycle": plan.billing_cycle,
        "entitledArtifacts": [
            {
                "link": link(f"/customers/{customer_id}/orders/{plan.order_id}"),
                "resourceId": plan.resource_id,
                "artifactType": "savingsplan",
            }
        ],
        "entitlementType": "savingsPlan",
        "fulfillmentState": "Fulfilled",
        "expiryDate": format_iso(plan.expiry_date),
        "attributes": {"objectType": "Entitlement"},
    }


def _optional_iso(moment: datetime | None) -> str | None:
    return format_iso(moment) if moment is not None else None


def transfer_json(transfer: Transfer) -> dict[str, Any]:
    """A TransferEntity (learn.microsoft.com/partner-center/developer/transfer-entity-resources).
    ``status`` and ``transferError`` on line items: ASSUMPTIONS (transfers.py)."""
    lines = []
    for line in transfer.line_items:
        item: dict[str, Any] = {
            "id": line.id,
            "subscriptionId": line.subscription_id,
            "quantity": line.quantity,
            "billingCycle": line.billing_cycle,
            "friendlyName": line.friendly_name,
            "partnerIdOnRecord": line.partner_id_on_record,
            "offerId": line.offer_id,
            "termDuration": line.term_duration,
        }
        if line.status is not None:
            item["status"] = line.status
        if line.transfer_error is not None:
            item["transferError"] = line.transfer_error
        lines.append(item)
    return {
        "id": transfer.id,
        "status": transfer.status,
        "transferType": transfer.transfer_type,
        "customerEmailId": transfer.customer_email,
        "createdTime": format_iso(transfer.created),
        "lastModifiedTime": format_iso(transfer.last_modified),
        "completedTime": _optional_iso(transfer.completed),
        "expirationTime": format_iso(transfer.expiration),
        "customerName": transfer.customer_name,
        "customerTenantId": transfer.customer_id,
        "partnerTenantId": transfer.source_partner_tenant_id,
        "sourcePartnerTenantId": transfer.source_partner_tenant_id,
        "sourcePartnerName": transfer.source_partner_name,
        "targetPartnerTenantId": transfer.target_partner_tenant_id,
        "targetPartnerName": transfer.target_partner_name,
        "targetPartnerEmailId": transfer.target_partner_email,
        "partnerOnRecord": None,
        "targetProductTypes": transfer.target_product_types,
        "lineItems": lines,
        "links": {"self": link(f"/customers/{transfer.customer_id}/transfers/{transfer.id}")},
        "attributes": {"objectType": "TransferEntity"},
    }
