"""The behaviour wrapped around every ``/v1`` request, outermost first:

1. ``correlate_and_log`` - echo ``MS-RequestId``/``MS-CorrelationId``, set
   ``MS-CV``, turn every error into Partner Center's JSON body, log the request;
2. ``simulate_outage`` - while an operator says Partner Center is down: drop
   the connection, or answer 503;
3. ``add_latency`` - the configured delay, plus a latency spike now and then;
4. ``inject_faults`` - a 5xx before processing, or after it (lost response);
5. ``authenticate`` - bearer token check (401);
6. ``throttle`` - 429 + ``Retry-After`` in a burst, or per (partner tenant,
   resource family) over the rate;
7. ``replay_duplicates`` - idempotent writes by ``MS-RequestId``.

Faults sit outside authentication because a real outage does not read tokens;
replay sits inside throttling because a retried request still counts.
Operator (``/_sandbox``) and token routes pass straight through. What the
sandbox does on purpose is noted on the request (``INJECTED``) and logged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from . import errors
from .auth import authenticate_bearer
from .clock import format_iso
from .errors import ApiFault, json_response
from .idempotency import StoredResponse
from .ratelimit import resource_family
from .requestlog import LoggedRequest
from .state import CALLER, INJECTED, REPLAYED, STATE

__all__ = ("SANDBOX_MIDDLEWARES",)

logger = logging.getLogger(__name__)

_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_DROPPED = "outage-reset"  # the label of a dropped connection (logged with status 0)


def _is_v1(request: web.Request) -> bool:
    # Partner Center's webhook registration lives beside /v1 (``/webhooks/v1/registration``) and
    # goes through the same gateway: same tokens, errors, throttling and request log.
    return request.path == "/v1" or request.path.startswith(("/v1/", "/webhooks/v1/"))


async def _respond(handler: Handler, request: web.Request) -> web.StreamResponse:
    """Call the handler; a refusal becomes the response it stands for."""
    try:
        return await handler(request)
    except ApiFault as fault:
        return fault.to_response()


def _fault_for_http_exception(exc: web.HTTPException) -> ApiFault:
    if exc.status == 404:
        return ApiFault(404, errors.NOT_FOUND, "Not found")
    if exc.status == 405:
        return ApiFault(405, 0, "Method not allowed")
    return ApiFault(exc.status, 0, exc.reason)


@web.middleware
async def correlate_and_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_v1(request):
        return await handler(request)
    state = request.app[STATE]
    request_id = request.headers.get("MS-RequestId") or str(uuid.uuid4())
    correlation_id = request.headers.get("MS-CorrelationId") or str(uuid.uuid4())
    arrived = format_iso(state.clock.now())
    request[INJECTED] = []
    request[REPLAYED] = False
    try:
        response = await handler(request)
    except ApiFault as fault:
        response = fault.to_response()
    except web.HTTPException as exc:  # routing: unknown path or method
        response = _fault_for_http_exception(exc).to_response()
    except Exception:  # a sandbox bug must still look like Partner Center to the client
        logger.exception("unhandled error in %s %s", request.method, request.path)
        response = ApiFault(500, errors.UNEXPECTED, "Unexpected service error").to_response()
    response.headers["MS-RequestId"] = request_id
    response.headers["MS-CorrelationId"] = correlation_id
    response.headers["MS-CV"] = base64.b64encode(secrets.token_bytes(12)).decode() + ".0"
    noted: list[str] = request[INJECTED]
    injected = tuple(noted)
    state.log.append(
        LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.raw_path.partition("?")[2],  # as sent, still URL-encoded
            status=0 if _DROPPED in injected else response.status,
            requestId=request_id,
            correlationId=correlation_id,
            at=arrived,
            injected=injected,
            replayed=request[REPLAYED],
        )
    )
    return response


@web.middleware
async def simulate_outage(request: web.Request, handler: Handler) -> web.StreamResponse:
    outage = request.app[STATE].outage
    if not _is_v1(request) or not outage.on:
        return await handler(request)
    if outage.mode == "503":
        request[INJECTED].append("outage-503")
        raise ApiFault(503, errors.UNEXPECTED, "The service is unavailable")
    # Nothing is sent back: the client sees the connection closed under it.
    request[INJECTED].append(_DROPPED)
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=503)


@web.middleware
async def add_latency(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_v1(request):
        return await handler(request)
    state = request.app[STATE]
    delay_ms = state.options.latency_ms
    spike_ms = state.spikes.take(request.method, request.path)
    if spike_ms > 0:
        request[INJECTED].append("spike")
        delay_ms += spike_ms
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)
    return await handler(request)


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_v1(request):
        return await handler(request)
    faults = request.app[STATE].faults
    before = faults.take(request.method, request.path, "before")
    if before is not None:
        request[INJECTED].append("5xx-before")
        raise before
    response = await _respond(handler, request)
    after = faults.take(request.method, request.path, "after")
    if after is not None:
        request[INJECTED].append("5xx-after")
        raise after  # the work is done; only the answer is lost
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_v1(request):
        request[CALLER] = authenticate_bearer(request, request.app[STATE])
    return await handler(request)


@web.middleware
async def throttle(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_v1(request):
        return await handler(request)
    state = request.app[STATE]
    retry_after = state.bursts.retry_after()
    if retry_after is not None:
        request[INJECTED].append("429-burst")
        return _too_many_requests(retry_after)
    key = (request[CALLER].tenant_id, resource_family(request.path))
    retry_after = state.limiter.check(key)
    if retry_after is not None:
        return _too_many_requests(retry_after)
    return await handler(request)


def _too_many_requests(retry_after: int) -> web.Response:
    # Not the usual {code, description} shape: this is what the gateway sends (reference §9).
    return json_response(
        {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {retry_after} seconds."},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


@web.middleware
async def replay_duplicates(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("MS-RequestId")
    if not _is_v1(request) or request.method not in _WRITE_METHODS or not request_id:
        return await handler(request)
    store = request.app[STATE].idempotency
    key = (request_id, request.method, request.path)
    async with store.exclusive(key):
        stored = store.get(key)
        if stored is not None:
            request[REPLAYED] = True
            headers = {"Content-Type": stored.content_type} if stored.content_type else None
            return web.Response(status=stored.status, body=stored.body, headers=headers)
        response = await _respond(handler, request)
        if response.status < 500 and isinstance(response, web.Response):
            body = response.body if isinstance(response.body, bytes) else b""
            store.put(key, StoredResponse(response.status, body, response.headers.get("Content-Type")))
        return response


SANDBOX_MIDDLEWARES = (
    correlate_and_log,
    simulate_outage,
    add_latency,
    inject_faults,
    authenticate,
    throttle,
    replay_duplicates,
)
