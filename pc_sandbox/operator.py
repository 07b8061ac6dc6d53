"""``/_sandbox``: controls for tests and demos (no auth, plain JSON).

These do what no Partner Center API can: move time, cancel a reservation the
way a person does in the Azure portal, create an Azure subscription under an
Azure plan the way a customer does there, suspend, cancel or reactivate what a
person changes in the Partner Center portal, make a client's etag stale, queue
faults and latency spikes, throttle everyone for a while, take Partner Center
down and bring it back, change the partner app's Microsoft Graph permissions (an
admin consenting or revoking), and show what the sandbox received.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp import web

from . import wire
from .blockers import removal_blockers
from .clock import format_iso, parse_iso
from .errors import ApiFault
from .faults import FAULT_STATUSES, QueuedFault
from .outage import OUTAGE_MODES
from .seed import build_subscription, derived_id
from .spikes import QueuedSpike
from .state import STATE, SandboxState

__all__ = ("routes",)

routes = web.RouteTableDef()


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE]


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def _json(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise _bad_request("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("the body must be a JSON object")
    return body


def _status_error(fault: ApiFault) -> web.HTTPException:
    error_class = web.HTTPNotFound if fault.status == 404 else web.HTTPBadRequest
    return error_class(text=json.dumps({"error": fault.description}), content_type="application/json")


# ---- Request log ----


@routes.get("/_sandbox/requests")
async def list_requests(request: web.Request) -> web.Response:
    return web.json_response({"items": [entry.to_json() for entry in _state(request).log.entries()]})


@routes.delete("/_sandbox/requests")
async def clear_requests(request: web.Request) -> web.Response:
    _state(request).log.clear()
    return web.json_response({"items": []})


# ---- World ----


@routes.post("/_sandbox/reset")
async def reset(request: web.Request) -> web.Response:
    state = _state(request)
    state.reset()
    return web.json_response({"customers": len(state.world.customers), "now": format_iso(state.clock.now())})


@routes.get("/_sandbox/customers")
async def summary(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.clock.now()
    items = []
    for customer in state.world.customers.values():
        customer = state.world.customer(customer.id)  # applies elapsed time
        statuses: dict[str, int] = {}
        for subscription in customer.subscriptions.values():
            statuses[subscription.status] = statuses.get(subscription.status, 0) + 1
        items.append(
            {
                "id": customer.id,
                "companyName": customer.company_name,
                "domain": customer.domain,
                "relationshipToPartner": customer.relationship,
                "subscriptions": len(customer.subscriptions),
                "subscriptionsByStatus": statuses,
                "orders": len(customer.orders),
                "activeReservations": sum(r.is_active(now) for r in customer.reservations.values()),
                "activeSavingsPlans": sum(plan.is_active(now) for plan in customer.savings_plans.values()),
                "activeTransfers": sum(transfer.status == "Active" for transfer in customer.transfers.values()),
                "blockers": len(removal_blockers(customer, now)),
            }
        )
    return web.json_response({"now": format_iso(now), "items": items})


# ---- Clock ----


@routes.get("/_sandbox/clock")
async def get_clock(request: web.Request) -> web.Response:
    return web.json_response({"now": format_iso(_state(request).clock.now())})


@routes.post("/_sandbox/clock")
async def move_clock(request: web.Request) -> web.Response:
    clock = _state(request).clock
    body = await _json(request)
    try:
        if "set" in body:
            clock.set(parse_iso(str(body["set"])))
        elif "advanceDays" in body or "advanceHours" in body:
            clock.advance(timedelta(days=float(body.get("advanceDays", 0)), hours=float(body.get("advanceHours", 0))))
        else:
            raise _bad_request('expected {"advanceDays": n}, {"advanceHours": n} or {"set": iso}')
    except (TypeError, ValueError) as exc:
        raise _bad_request(str(exc)) from None
    return web.json_response({"now": format_iso(clock.now())})


# ---- What only a person (or Microsoft) can do ----


@routes.post("/_sandbox/customers/{customer_id}/reservations/{order_id}/cancel")
async def cancel_reservation(request: web.Request) -> web.Response:
    world = _state(request).world
    try:
        reservation = world.cancel_reservation(request.match_info["customer_id"], request.match_info["order_id"])
    except ApiFault as fault:
        raise _status_error(fault) from None
    return web.json_response({"orderId": reservation.order_id, "cancelled": True})


@routes.post("/_sandbox/customers/{customer_id}/subscriptions")
async def add_subscription(request: web.Request) -> web.Response:
    state = _state(request)
    customer_id = request.match_info["customer_id"]
    spec = await _json(request)
    try:
        customer = state.world.customer(customer_id)
        subscription = build_subscription(
            customer.id, spec, state.seed.get("offers", {}), now=state.clock.now(), index=len(customer.subscriptions)
        )
        state.world.add_subscription(customer.id, subscription)
    except ApiFault as fault:
        raise _status_error(fault) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad_request(f"invalid subscription: {exc}") from None
    return web.json_response(wire.subscription_json(customer.id, subscription, state.clock.now()), status=201)


@routes.post("/_sandbox/customers/{customer_id}/subscriptions/{subscription_id}/azureEntitlements")
async def add_azure_entitlement(request: web.Request) -> web.Response:
    """``{"friendlyName"?: str, "id"?: str}``: an active Azure subscription under the Azure plan."""
    world = _state(request).world
    customer_id, plan_id = request.match_info["customer_id"], request.match_info["subscription_id"]
    spec = await _json(request)
    entitlement_id, name = spec.get("id"), spec.get("friendlyName", "Azure subscription")
    if entitlement_id is not None and (not isinstance(entitlement_id, str) or not entitlement_id.strip()):
        raise _bad_request("id must be a non-empty string")
    if not isinstance(name, str):
        raise _bad_request("friendlyName must be a string")
    try:
        plan = world.subscription(customer_id, plan_id)
        entitlement = world.add_azure_entitlement(
            customer_id, plan.id, entitlement_id or derived_id(plan.id, "azure", str(len(plan.azure_entitlements))), name
        )
    except ApiFault as fault:
        raise _status_error(fault) from None
    return web.json_response(wire.azure_entitlement_json(plan, entitlement), status=201)


@routes.post("/_sandbox/customers/{customer_id}/subscriptions/{subscription_id}/reactivate")
async def reactivate_subscription(request: web.Request) -> web.Response:
    return _subscription_command(request, "reactivate_subscription")


@routes.post("/_sandbox/customers/{customer_id}/subscriptions/{subscription_id}/suspend")
async def suspend_subscription(request: web.Request) -> web.Response:
    return _subscription_command(request, "suspend_subscription")


@routes.post("/_sandbox/customers/{customer_id}/subscriptions/{subscription_id}/cancel")
async def cancel_subscription(request: web.Request) -> web.Response:
    return _subscription_command(request, "cancel_subscription")


@routes.post("/_sandbox/customers/{customer_id}/orders/{order_id}/cancel")
async def cancel_order(request: web.Request) -> web.Response:
    world = _state(request).world
    customer_id = request.match_info["customer_id"]
    try:
        order = world.cancel_order_in_portal(customer_id, request.match_info["order_id"])
    except ApiFault as fault:
        raise _status_error(fault) from None
    return web.json_response(wire.order_json(customer_id.lower(), order))


@routes.post("/_sandbox/customers/{customer_id}/subscriptions/{subscription_id}/touch")
async def touch_subscription(request: web.Request) -> web.Response:
    return _subscription_command(request, "touch_subscription")


def _subscription_command(request: web.Request, command: str) -> web.Response:
    world = _state(request).world
    customer_id, subscription_id = request.match_info["customer_id"], request.match_info["subscription_id"]
    try:
        subscription = getattr(world, command)(customer_id, subscription_id)
    except ApiFault as fault:
        raise _status_error(fault) from None
    return web.json_response(wire.subscription_json(customer_id.lower(), subscription, world.now()))


# ---- Transfers requested by another (simulated) partner ----


@routes.get("/_sandbox/transfers")
async def list_transfers(request: web.Request) -> web.Response:
    world = _state(request).world
    items = []
    for customer_id in list(world.customers):
        customer = world.customer(customer_id)  # applies elapsed time (completions, expiry)
        items += [wire.transfer_json(transfer) for transfer in customer.transfers.values()]
    return web.json_response({"items": items})


@routes.post("/_sandbox/transfers")
async def create_transfer(request: web.Request) -> web.Response:
    """``{"customerId", "targetPartnerName", "subscriptionIds": [...], "targetPartnerTenantId"?,
    "targetPartnerEmailId"?, "expirationTime"?: iso, "failSubscriptionIds"?: [...], "lineItems"?: false}``:
    another partner asks for these subscriptions (or savings plans, by order id); answers the
    TransferEntity. ``"lineItems": false`` creates it without line items, as Microsoft describes the
    target partner's request ("the source partner updates the transfer with line item details"):
    the accept then brings them."""
    state = _state(request)
    spec = await _json(request)
    customer_id = spec.get("customerId")
    if not isinstance(customer_id, str) or not customer_id.strip():
        raise _bad_request("customerId must be a customer id")
    world = state.world
    try:
        customer = world.customer(customer_id)
        transfer_id = spec.get("id") or derived_id(customer.id, "transfer", str(len(customer.transfers)), format_iso(state.clock.now()))
        transfer = world.create_transfer(customer.id, spec, str(transfer_id))
    except ApiFault as fault:
        raise _status_error(fault) from None
    except (TypeError, ValueError) as exc:
        raise _bad_request(str(exc)) from None
    return web.json_response(wire.transfer_json(transfer), status=201)


@routes.post("/_sandbox/transfers/{transfer_id}/fail")
async def fail_transfer_lines(request: web.Request) -> web.Response:
    """``{"lineItemIds": [0, ...], "transferError"?: str}``: these line items fail at completion."""
    world = _state(request).world
    body = await _json(request)
    line_ids, message = body.get("lineItemIds"), body.get("transferError")
    if not isinstance(line_ids, list) or not line_ids:
        raise _bad_request("lineItemIds must be a non-empty list")
    if message is not None and not isinstance(message, str):
        raise _bad_request("transferError must be a string")
    transfer_id = request.match_info["transfer_id"].lower()
    owner = next((customer.id for customer in world.customers.values() if transfer_id in customer.transfers), None)
    if owner is None:
        raise web.HTTPNotFound(text=json.dumps({"error": f"transfer {transfer_id} not found"}), content_type="application/json")
    try:
        transfer = world.fail_transfer_lines(owner, transfer_id, [str(item) for item in line_ids], message)
    except ApiFault as fault:
        raise _status_error(fault) from None
    return web.json_response(wire.transfer_json(transfer))


# ---- Faults ----


@routes.get("/_sandbox/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"items": [fault.to_json() for fault in _state(request).faults.queued()]})


@routes.post("/_sandbox/faults")
async def queue_fault(request: web.Request) -> web.Response:
    body = await _json(request)
    count, status, when = body.get("count", 1), body.get("status", 503), body.get("when", "before")
    method, path_contains = body.get("method"), body.get("pathContains")
    if not isinstance(count, int) or count < 1:
        raise _bad_request("count must be a positive integer")
    if status not in FAULT_STATUSES:
        raise _bad_request(f"status must be one of {list(FAULT_STATUSES)}")
    if when not in ("before", "after"):
        raise _bad_request('when must be "before" or "after"')
    if method is not None and not isinstance(method, str):
        raise _bad_request("method must be a string")
    if path_contains is not None and not isinstance(path_contains, str):
        raise _bad_request("pathContains must be a string")
    fault = QueuedFault(
        remaining=count,
        status=status,
        when=when,
        path_contains=path_contains,
        method=method.upper() if method else None,
    )
    _state(request).faults.queue(fault)
    return web.json_response(fault.to_json(), status=201)


@routes.delete("/_sandbox/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return web.json_response({"items": []})


# ---- Latency spikes, throttling bursts, outage ----


@routes.get("/_sandbox/spikes")
async def list_spikes(request: web.Request) -> web.Response:
    return web.json_response({"items": [spike.to_json() for spike in _state(request).spikes.queued()]})


@routes.post("/_sandbox/spikes")
async def queue_spike(request: web.Request) -> web.Response:
    """``{"count": 1, "ms": 2000, "pathContains"?: str, "method"?: str}``: delay matching requests."""
    body = await _json(request)
    count, milliseconds = body.get("count", 1), body.get("ms", 2000)
    method, path_contains = body.get("method"), body.get("pathContains")
    if not isinstance(count, int) or count < 1:
        raise _bad_request("count must be a positive integer")
    if not isinstance(milliseconds, (int, float)) or milliseconds < 0:
        raise _bad_request("ms must be a number >= 0")
    if method is not None and not isinstance(method, str):
        raise _bad_request("method must be a string")
    if path_contains is not None and not isinstance(path_contains, str):
        raise _bad_request("pathContains must be a string")
    spike = QueuedSpike(
        remaining=count, milliseconds=float(milliseconds), path_contains=path_contains, method=method.upper() if method else None
    )
    _state(request).spikes.queue(spike)
    return web.json_response(spike.to_json(), status=201)


@routes.post("/_sandbox/throttle")
async def throttle_everyone(request: web.Request) -> web.Response:
    """``{"seconds": n}``: every /v1 request gets 429 with Retry-After for the next n seconds."""
    seconds = (await _json(request)).get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 < seconds <= 3600:
        raise _bad_request("seconds must be a number between 0 and 3600")
    bursts = _state(request).bursts
    bursts.start(float(seconds))
    return web.json_response({"retryAfter": bursts.retry_after()})


@routes.get("/_sandbox/outage")
async def get_outage(request: web.Request) -> web.Response:
    return web.json_response(_state(request).outage.to_json())


@routes.post("/_sandbox/outage")
async def switch_outage(request: web.Request) -> web.Response:
    """``{"on": true, "mode": "reset" | "503"}`` takes Partner Center down; ``{"on": false}`` brings it back."""
    body = await _json(request)
    on, mode = body.get("on"), body.get("mode", "reset")
    if not isinstance(on, bool):
        raise _bad_request("on must be true or false")
    if mode not in OUTAGE_MODES:
        raise _bad_request(f"mode must be one of {list(OUTAGE_MODES)}")
    outage = _state(request).outage
    outage.switch(on, mode)
    return web.json_response(outage.to_json())


# ---- Microsoft Graph: the partner app's delegated permissions ----


def _permissions_json(state: SandboxState) -> dict[str, Any]:
    return {"granted": sorted(state.graph.permissions)}


@routes.get("/_sandbox/graph/permissions")
async def get_graph_permissions(request: web.Request) -> web.Response:
    """``{"granted": [...]}``: the delegated Graph permissions the partner app holds now."""
    return web.json_response(_permissions_json(_state(request)))


@routes.put("/_sandbox/graph/permissions")
async def set_graph_permissions(request: web.Request) -> web.Response:
    """``{"granted": ["User.ReadWrite.All", ...]}`` replaces them (as an admin re-consenting would)."""
    granted = (await _json(request)).get("granted")
    if not isinstance(granted, list) or not all(isinstance(item, str) and item.strip() for item in granted):
        raise _bad_request("granted must be a list of permission names")
    state = _state(request)
    state.graph.permissions = {item.strip() for item in granted}
    return web.json_response(_permissions_json(state))


@routes.delete("/_sandbox/graph/permissions/{permission}")
async def revoke_graph_permission(request: web.Request) -> web.Response:
    """Take one permission away: Graph calls needing it answer 403 ``Authorization_RequestDenied``."""
    state = _state(request)
    wanted = request.match_info["permission"].lower()
    state.graph.permissions = {item for item in state.graph.permissions if item.lower() != wanted}
    return web.json_response(_permissions_json(state))


@routes.post("/_sandbox/graph/permissions/{permission}")
async def grant_graph_permission(request: web.Request) -> web.Response:
    state = _state(request)
    state.graph.permissions.add(request.match_info["permission"])
    return web.json_response(_permissions_json(state))
