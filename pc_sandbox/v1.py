"""The Partner Center REST subset the bot uses, under ``/v1`` (reference §2-§8).

Handlers stay thin: parse the request, ask the :class:`~.world.World`, shape
the answer with ``wire``. Refusals are raised as ``ApiFault`` by the world and
rendered by the middleware. Authentication already happened in the middleware;
the App+User-only operations (remove relationship, relationship request,
entitlements) additionally call :func:`~.auth.require_app_user`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from . import errors, wire
from .auth import require_app_user
from .demo import DEMO
from .errors import json_response
from .models import SubscriptionKind
from .paging import DEFAULT_PAGE_SIZE, PageCursor, decode_cursor, encode_cursor, parse_filter
from .state import STATE
from .world import World

__all__ = ("routes",)

routes = web.RouteTableDef()

_CUSTOMER = "/v1/customers/{customer_id}"
_SUBSCRIPTION = _CUSTOMER + "/subscriptions/{subscription_id}"
_ORDER = _CUSTOMER + "/orders/{order_id}"


def _world(request: web.Request) -> World:
    return request.app[STATE].world


async def _body(request: web.Request, *, required: bool) -> dict[str, Any]:
    """The JSON body with lower-cased top-level keys (camelCase and PascalCase both arrive)."""
    text = await request.text()
    if not text.strip():
        if required:
            raise errors.invalid_input("a JSON body is required")
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise errors.invalid_input("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid_input("the body must be a JSON object")
    return wire.lower_keys(body)


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise errors.invalid_input("size must be an integer") from None
    if size < 0:
        raise errors.invalid_input("size must not be negative")
    return size or DEFAULT_PAGE_SIZE


# ---- Customers ----


@routes.get("/v1/customers")
async def list_customers(request: web.Request) -> web.Response:
    size = _page_size(request.query.get("size"))
    raw_filter = request.query.get("filter") or ""
    search = parse_filter(raw_filter)
    offset = 0
    seek = request.query.get("seekOperation")
    if seek is not None:
        if seek.lower() != "next":
            raise errors.invalid_input("only seekOperation=Next is supported by the sandbox")
        offset = decode_cursor(request.headers.get("MS-ContinuationToken"), expected_filter=raw_filter).offset
    matched = _world(request).listed_customers(search)
    page = matched[offset : offset + size]
    next_link = token = None
    if offset + size < len(matched):
        token = encode_cursor(PageCursor(offset + size, raw_filter))
        uri = f"/customers?size={size}"
        if raw_filter:
            uri += f"&filter={quote(raw_filter, safe='')}"
        next_link = wire.link(uri + "&seekOperation=Next", headers=[{"key": "MS-ContinuationToken", "value": token}])
    self_uri = "/customers" + (f"?{request.query_string}" if request.query_string else "")
    return json_response(
        wire.collection(
            [wire.customer_json(customer, detailed=False) for customer in page],
            self_uri=self_uri,
            next_link=next_link,
            continuation_token=token,
        )
    )


@routes.get("/v1/customers/relationshiprequests")  # before {customer_id}: it is not an id
async def relationship_request(request: web.Request) -> web.Response:
    require_app_user(request)
    return json_response(wire.relationship_request_json(DEMO.partner_tenant_id))


@routes.get(_CUSTOMER)
@routes.get(_CUSTOMER + "/")
async def get_customer(request: web.Request) -> web.Response:
    customer = _world(request).customer(request.match_info["customer_id"])
    if customer.has_relationship and request.app[STATE].options.delegated_access_revoked:
        raise errors.no_relationship()  # DAP/GDAP revoked: 20002 while still a reseller
    if not customer.has_relationship:
        # What Partner Center answers here after a removal is undocumented (../shared/reference/fidelity-audit.md §5):
        # 200 showing "none", 403/20002 or 404, as SandboxOptions.removed_customer_read says.
        answer = request.app[STATE].options.removed_customer_read
        if answer == "403":
            raise errors.no_relationship()
        if answer == "404":
            raise errors.ApiFault(404, errors.TENANT_NOT_FOUND, f"Tenant with ID {customer.id} not found.")
    return json_response(wire.customer_json(customer, detailed=True))


@routes.patch(_CUSTOMER)
@routes.patch(_CUSTOMER + "/")  # the removal doc shows a trailing slash
async def remove_relationship(request: web.Request) -> web.Response:
    require_app_user(request)
    world = _world(request)
    customer_id = request.match_info["customer_id"]
    world.customer(customer_id)  # 404 before judging the body
    body = await _body(request, required=True)
    if "allowdelegatedaccess" in body and str(body.get("relationshiptopartner", "")).lower() != "none":
        return _remove_delegated_access(world, customer_id, body)
    value = body.get("relationshiptopartner")
    if set(body) - {"relationshiptopartner", "attributes"} or not isinstance(value, str) or value.lower() != "none":
        raise errors.invalid_input('the only supported change is {"relationshipToPartner": "none"}')
    options = request.app[STATE].options
    # Knob: refuse the PATCH as Partner Center might, changing nothing: 400/3000 "Invalid
    # property" or 403/20002 (both in developer/error-codes.md; which one, when, is undocumented).
    if options.removal_patch_answer == "400-3000":
        raise errors.ApiFault(400, errors.INVALID_PROPERTY, "Invalid property")
    if options.removal_patch_answer == "403-20002":
        raise errors.no_relationship()
    world.remove_relationship(customer_id, assumed_blockers=options.removal_assumed_blockers)
    return json_response(wire.removal_response_json())


def _remove_delegated_access(world: World, customer_id: str, body: dict[str, Any]) -> web.Response:
    """Remove DAP: "A Customer resource is required in the request body. Ensure the
    AllowDelegatedAccess property has been set to false" (learn.microsoft.com/partner-center/
    developer/remove-dap). The page's request example is the two-property body
    ``{"AllowDelegatedAccess": false, "attributes": {"objectType": "Customer"}}``, accepted as it
    is; a body that names a customer ``id`` must name this one. The other Customer properties are
    read-only and ignored (ASSUMPTION). The doc shows a 200 without its body: the sandbox answers
    the updated Customer (ASSUMPTION)."""
    if "id" in body and str(body.get("id", "")).lower() != customer_id.lower():
        raise errors.invalid_input("the body's id is not this customer's")
    if body.get("allowdelegatedaccess") is not False:
        raise errors.invalid_input("allowDelegatedAccess can only be set to false (DAP cannot be granted through the API)")
    customer = world.remove_delegated_access(customer_id)
    return json_response(wire.customer_json(customer, detailed=True))


# ---- Subscriptions and Azure entitlements ----


@routes.get(_CUSTOMER + "/subscriptions")
async def list_subscriptions(request: web.Request) -> web.Response:
    customer = _world(request).related_customer(request.match_info["customer_id"])
    order_id = request.query.get("order_id")
    now = _world(request).now()
    items = [
        wire.subscription_json(customer.id, subscription, now)
        for subscription in customer.subscriptions.values()
        if order_id is None or subscription.order_id == order_id
    ]
    return json_response(wire.collection(items, self_uri=f"/customers/{customer.id}/subscriptions"))


@routes.get(_SUBSCRIPTION)
async def get_subscription(request: web.Request) -> web.Response:
    customer_id, subscription_id = request.match_info["customer_id"], request.match_info["subscription_id"]
    world = _world(request)
    subscription = world.subscription(customer_id, subscription_id)
    return json_response(wire.subscription_json(customer_id.lower(), subscription, world.now()))


@routes.patch(_SUBSCRIPTION)
async def update_subscription(request: web.Request) -> web.Response:
    customer_id, subscription_id = request.match_info["customer_id"], request.match_info["subscription_id"]
    world = _world(request)
    world.subscription(customer_id, subscription_id)  # 403/404 before judging the body
    body = await _body(request, required=True)
    subscription = world.update_subscription(customer_id, subscription_id, body, if_match=request.headers.get("If-Match"))
    return json_response(wire.subscription_json(customer_id.lower(), subscription, world.now()))


@routes.get(_SUBSCRIPTION + "/azureEntitlements")
async def list_azure_entitlements(request: web.Request) -> web.Response:
    customer_id, plan_id = request.match_info["customer_id"], request.match_info["subscription_id"]
    plan = _world(request).subscription(customer_id, plan_id)
    items = []
    if plan.kind is SubscriptionKind.AZURE_PLAN:
        items = [wire.azure_entitlement_json(plan, entitlement) for entitlement in plan.azure_entitlements.values()]
    return json_response(wire.collection(items, self_uri=f"/customers/{customer_id.lower()}/subscriptions/{plan.id}/azureEntitlements"))


@routes.post(_SUBSCRIPTION + "/azureEntitlements/{entitlement_id}/cancel")
async def cancel_azure_entitlement(request: web.Request) -> web.Response:
    # "Partners must be Global Administrators with Admin Agent roles to cancel": app+user only
    # (learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription).
    require_app_user(request)
    _world(request).cancel_azure_entitlement(
        request.match_info["customer_id"],
        request.match_info["subscription_id"],
        request.match_info["entitlement_id"],
        await _body(request, required=False),  # {"cancellationReason": "compromise"}, the only one
    )
    return web.Response(status=202)


# ---- Entitlements (reservations, software) ----


@routes.get(_CUSTOMER + "/entitlements")
async def list_entitlements(request: web.Request) -> web.Response:
    require_app_user(request)
    world = _world(request)
    customer = world.related_customer(request.match_info["customer_id"])
    wanted = (request.query.get("entitlementType") or "").lower()
    show_expiry = (request.query.get("showExpiry") or "").lower() == "true"
    items: list[dict[str, Any]] = []
    if wanted in ("", "reservedinstance"):
        items += [
            wire.reservation_entitlement_json(customer.id, reservation, show_expiry=show_expiry)
            for reservation in world.visible_reservations(customer)
        ]
    if wanted in ("", "savingsplan"):
        items += [wire.savings_plan_entitlement_json(customer.id, plan) for plan in world.visible_savings_plans(customer)]
    if wanted in ("", "software"):
        items += [
            wire.software_entitlement_json(order, line, show_expiry=show_expiry) for order, line in world.software_entitlements(customer)
        ]
    self_uri = f"/customers/{customer.id}/entitlements" + (f"?{request.query_string}" if request.query_string else "")
    return json_response(wire.collection(items, self_uri=self_uri))


# ---- Orders ----


def _include_price(request: web.Request) -> bool:
    """``?includePrice=true`` adds ``lineItems[].pricing`` (ASSUMPTION on the name; see wire)."""
    return (request.query.get("includePrice") or "").lower() == "true"


@routes.get(_CUSTOMER + "/orders")
async def list_orders(request: web.Request) -> web.Response:
    customer = _world(request).related_customer(request.match_info["customer_id"])
    include_price = _include_price(request)
    items = [wire.order_json(customer.id, order, include_price=include_price) for order in customer.orders.values()]
    return json_response(wire.collection(items, self_uri=f"/customers/{customer.id}/orders"))


@routes.get(_ORDER)
async def get_order(request: web.Request) -> web.Response:
    customer_id, order_id = request.match_info["customer_id"], request.match_info["order_id"]
    order = _world(request).order(customer_id, order_id)
    return json_response(wire.order_json(customer_id.lower(), order, include_price=_include_price(request)))


@routes.patch(_ORDER)
async def cancel_order(request: web.Request) -> web.Response:
    customer_id, order_id = request.match_info["customer_id"], request.match_info["order_id"]
    world = _world(request)
    world.order(customer_id, order_id)  # 403/404 before judging the body
    order = world.cancel_order(customer_id, order_id, await _body(request, required=True))
    return json_response(wire.order_json(customer_id.lower(), order))


# ---- Transfers (new commerce; this partner is the source: pc_sandbox/transfers.py) ----


@routes.get(_CUSTOMER + "/transfers")
async def list_transfers(request: web.Request) -> web.Response:
    """Every transfer request for the customer, whatever its status (get-transfers)."""
    customer = _world(request).related_customer(request.match_info["customer_id"])
    items = [wire.transfer_json(transfer) for transfer in customer.transfers.values()]
    return json_response(wire.collection(items, self_uri=f"/customers/{customer.id}/transfers"))


@routes.get(_CUSTOMER + "/transfers/{transfer_id}")
async def get_transfer(request: web.Request) -> web.Response:
    transfer = _world(request).transfer(request.match_info["customer_id"], request.match_info["transfer_id"])
    return json_response(wire.transfer_json(transfer))


@routes.patch(_CUSTOMER + "/transfers/{transfer_id}")
async def update_transfer(request: web.Request) -> web.Response:
    """Accept (``"status": "Complete"``, learn …/developer/update-a-transfer) or decline."""
    world = _world(request)
    customer_id, transfer_id = request.match_info["customer_id"], request.match_info["transfer_id"]
    world.transfer(customer_id, transfer_id)  # 403/404 before judging the body
    transfer = world.update_transfer(customer_id, transfer_id, await _body(request, required=True))
    return json_response(wire.transfer_json(transfer))


# ---- Anything else about a customer ----


@routes.route("*", _CUSTOMER + "/{rest:.+}")
async def other_customer_resource(request: web.Request) -> web.Response:
    """Unknown sub-resources: still 403 once the relationship is gone, like every other one."""
    _world(request).related_customer(request.match_info["customer_id"])
    raise errors.ApiFault(404, errors.NOT_FOUND, "Not found")
