"""The Microsoft Graph subset Offboard uses, under ``/graph/v1.0`` (issue 19's contract).

Partner tenant (a token with ``tid`` = the partner): GDAP relationships — list with
``$filter``, get, terminate (``POST …/{id}/requests``), delete while ``created``.
Customer tenant (a token with ``tid`` = that customer, which works only through GDAP): the
organization's notification contacts and privacy profile, guest users, service principals.

Handlers stay thin: the :func:`graph_gate` middleware authenticates (401
``InvalidAuthenticationToken``), throttles (429 ``TooManyRequests``) and renders every
:class:`~.graph_errors.GraphFault` in Graph's error shape; each handler checks who may call
(permission and GDAP role: :meth:`~.graph_world.GraphWorld.authorize`), asks the
:class:`~.graph_world.GraphWorld`, and shapes the answer with ``graph_wire``.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from . import graph_errors, graph_wire
from .clock import format_iso
from .demo import DEMO
from .graph_access import GraphOperation
from .graph_errors import GraphFault
from .graph_query import page_of, parse_owner_filter, parse_relationship_filter, parse_select, parse_user_filter
from .graph_world import GraphWorld
from .requestlog import LoggedRequest
from .state import CALLER, INJECTED, STATE, SandboxState
from .tokens import GRAPH_AUDIENCE, IssuedToken

__all__ = ("GRAPH_ROOT", "graph_gate", "routes")

logger = logging.getLogger(__name__)

GRAPH_ROOT = "/graph/v1.0"
_RELATIONSHIPS = GRAPH_ROOT + "/tenantRelationships/delegatedAdminRelationships"
_RELATIONSHIP = _RELATIONSHIPS + "/{relationship_id}"

routes = web.RouteTableDef()


def _graph(request: web.Request) -> GraphWorld:
    return request.app[STATE].graph


def _caller(request: web.Request) -> IssuedToken:
    return request[CALLER]


# ---- Who may call ----


def _partner_call(request: web.Request, operation: GraphOperation) -> None:
    """A partner-tenant call: the token must be the partner's own (``tid``)."""
    caller = _caller(request)
    if caller.tenant_id != DEMO.partner_tenant_id:
        raise graph_errors.invalid_token("Access token validation failure: the token's tenant is not the partner tenant.")
    _check_delegated(caller)
    _graph(request).authorize(operation, tenant_id=caller.tenant_id)


def _customer_call(request: web.Request, operation: GraphOperation) -> str:
    """A customer-tenant call: the token must have been issued in a customer tenant; returns it."""
    caller = _caller(request)
    graph = _graph(request)
    if not graph.is_customer_tenant(caller.tenant_id):
        # Graph itself would serve the partner's own tenant here; the sandbox serves customer
        # tenants only, and refuses loudly so a client using the wrong authority notices.
        raise graph_errors.invalid_token("Access token validation failure: the token's tenant is not a customer tenant of the sandbox.")
    _check_delegated(caller)
    graph.authorize(operation, tenant_id=caller.tenant_id)
    return caller.tenant_id


def _check_delegated(caller: IssuedToken) -> None:
    # The sandbox's app has delegated permissions only (contract: Graph calls are app+user); an
    # app-only token carries no roles, which Graph refuses with 403 (ASSUMPTION for the exact body).
    if caller.app_only:
        raise graph_errors.insufficient_privileges()


async def _json_body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        raise graph_errors.bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise graph_errors.bad_request("The request body must be a JSON object.")
    return body


def _paged(request: web.Request, entity_set: str, items: list[dict[str, Any]]) -> web.Response:
    page = page_of(request, len(items), default_size=request.app[STATE].options.graph_page_size)
    value = items[page.offset : page.offset + page.size]
    return web.json_response(graph_wire.collection(entity_set, value, next_link=page.next_link))


# ---- GDAP relationships (partner tenant) ----


@routes.get(_RELATIONSHIPS)
async def list_relationships(request: web.Request) -> web.Response:
    _partner_call(request, GraphOperation.LIST_RELATIONSHIPS)
    wanted = parse_relationship_filter(request.query.get("$filter"))
    graph = _graph(request)
    found = graph.relationships_of(wanted.tenant_id, status=wanted.status)
    items = [graph_wire.relationship_json(relationship, etag=graph.etag(relationship)) for relationship in found]
    return _paged(request, "tenantRelationships/delegatedAdminRelationships", items)


@routes.get(_RELATIONSHIP)
async def get_relationship(request: web.Request) -> web.Response:
    _partner_call(request, GraphOperation.LIST_RELATIONSHIPS)
    graph = _graph(request)
    relationship = graph.relationship(request.match_info["relationship_id"])
    return web.json_response(graph_wire.relationship_json(relationship, etag=graph.etag(relationship)))


@routes.delete(_RELATIONSHIP)
async def delete_relationship(request: web.Request) -> web.Response:
    _partner_call(request, GraphOperation.DELETE_RELATIONSHIP)
    _graph(request).delete(request.match_info["relationship_id"], if_match=request.headers.get("If-Match"))
    return web.Response(status=204)


@routes.post(_RELATIONSHIP + "/requests")
async def create_relationship_request(request: web.Request) -> web.Response:
    _partner_call(request, GraphOperation.TERMINATE_RELATIONSHIP)
    graph = _graph(request)
    relationship_id = request.match_info["relationship_id"]
    graph.relationship(relationship_id)  # 404 before judging the body
    body = await _json_body(request)
    created = graph.terminate(relationship_id, body.get("action"))
    relationship = graph.relationship(relationship_id)
    location = f"{request.scheme}://{request.host}{_RELATIONSHIPS}/{relationship.id}/requests/{created.id}"
    return web.json_response(
        graph_wire.relationship_request_json(created, status="created", last_modified=created.created),
        status=201,
        headers={"Location": location},
    )


@routes.get(_RELATIONSHIP + "/requests")
async def list_relationship_requests(request: web.Request) -> web.Response:
    _partner_call(request, GraphOperation.LIST_RELATIONSHIPS)
    graph = _graph(request)
    relationship = graph.relationship(request.match_info["relationship_id"])
    items = [
        graph_wire.relationship_request_json(item, status=graph.request_status(relationship), last_modified=relationship.last_modified)
        for item in relationship.requests.values()
    ]
    return web.json_response(graph_wire.collection("delegatedAdminRelationshipRequests", items))


@routes.get(_RELATIONSHIP + "/requests/{request_id}")
async def get_relationship_request(request: web.Request) -> web.Response:
    _partner_call(request, GraphOperation.LIST_RELATIONSHIPS)
    graph = _graph(request)
    relationship, found = graph.relationship_request(request.match_info["relationship_id"], request.match_info["request_id"])
    return web.json_response(
        graph_wire.relationship_request_json(found, status=graph.request_status(relationship), last_modified=relationship.last_modified)
    )


# ---- The signed-in user (partner tenant) ----


@routes.get(GRAPH_ROOT + "/me/memberOf")
async def list_my_memberships(request: web.Request) -> web.Response:
    """The demo admin agent's groups (learn.microsoft.com/graph/api/user-list-memberof): the
    partner tenant's ``AdminAgents`` group unless the operator took the user out of it."""
    caller = _caller(request)
    if caller.app_only:
        # /me has no user behind an app-only token: Graph answers 400 with this message.
        raise graph_errors.bad_request("/me request is only valid with delegated authentication flow.")
    _partner_call(request, GraphOperation.LIST_MY_MEMBERSHIPS)
    select = parse_select(request.query.get("$select"))
    groups = graph_wire.partner_groups(admin_agent=request.app[STATE].admin_agent)
    return _paged(request, "directoryObjects", [graph_wire.group_json(group, select=select) for group in groups])


# ---- Customer tenant ----


@routes.get(GRAPH_ROOT + "/organization")
async def get_organization(request: web.Request) -> web.Response:
    tenant_id = _customer_call(request, GraphOperation.READ_ORGANIZATION)
    organization = _graph(request).directory(tenant_id).organization
    return web.json_response(graph_wire.collection("organization", [graph_wire.organization_json(organization)]))


@routes.patch(GRAPH_ROOT + "/organization/{organization_id}")
async def update_organization(request: web.Request) -> web.Response:
    tenant_id = _customer_call(request, GraphOperation.UPDATE_ORGANIZATION)
    body = await _json_body(request)
    _graph(request).update_organization(tenant_id, request.match_info["organization_id"], body)
    return web.Response(status=204)  # organization-update: 204 No Content


@routes.get(GRAPH_ROOT + "/users")
async def list_users(request: web.Request) -> web.Response:
    tenant_id = _customer_call(request, GraphOperation.LIST_USERS)
    guests_only = parse_user_filter(request.query.get("$filter"))
    select = parse_select(request.query.get("$select"))
    users = _graph(request).users(tenant_id, guests_only=guests_only)
    return _paged(request, "users", [graph_wire.user_json(user, select=select) for user in users])


@routes.delete(GRAPH_ROOT + "/users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    tenant_id = _customer_call(request, GraphOperation.DELETE_USER)
    _graph(request).delete_user(tenant_id, request.match_info["user_id"])
    return web.Response(status=204)


@routes.get(GRAPH_ROOT + "/servicePrincipals")
async def list_service_principals(request: web.Request) -> web.Response:
    tenant_id = _customer_call(request, GraphOperation.LIST_SERVICE_PRINCIPALS)
    owner = parse_owner_filter(request.query.get("$filter"))
    select = parse_select(request.query.get("$select"))
    principals = _graph(request).service_principals(tenant_id, owner=owner)
    return _paged(request, "servicePrincipals", [graph_wire.service_principal_json(item, select=select) for item in principals])


@routes.delete(GRAPH_ROOT + "/servicePrincipals/{principal_id}")
async def delete_service_principal(request: web.Request) -> web.Response:
    tenant_id = _customer_call(request, GraphOperation.DELETE_SERVICE_PRINCIPAL)
    _graph(request).delete_service_principal(tenant_id, request.match_info["principal_id"])
    return web.Response(status=204)


# ---- Around every Graph request ----


def _is_graph(request: web.Request) -> bool:
    return request.path == GRAPH_ROOT or request.path.startswith(GRAPH_ROOT + "/")


def authenticate_graph(request: web.Request, state: SandboxState) -> IssuedToken:
    """The caller's token, or 401 ``InvalidAuthenticationToken`` (learn.microsoft.com/graph/
    resolve-auth-errors): missing, unknown or expired, or not issued for Graph (``aud``)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise graph_errors.invalid_token("Access token is empty.")
    issued = state.tokens.find(value.strip())
    if issued is None:
        raise graph_errors.invalid_token("Access token validation failure. Invalid or expired token.")
    if issued.audience != GRAPH_AUDIENCE:
        raise graph_errors.invalid_token("Access token validation failure. Invalid audience.")
    return issued


def _throttle(request: web.Request, state: SandboxState) -> None:
    """The sandbox's throttling (operator bursts, ``rate_limit`` per tenant), as Graph's 429
    ``TooManyRequests`` with ``Retry-After`` (learn.microsoft.com/graph/throttling)."""
    retry_after = state.bursts.retry_after()
    if retry_after is not None:
        request[INJECTED].append("429-burst")
    else:
        retry_after = state.limiter.check((request[CALLER].tenant_id, "graph"))
    if retry_after is not None:
        raise GraphFault(
            429,
            graph_errors.TOO_MANY_REQUESTS,
            "Too many requests. Retry after the time in Retry-After.",
            headers={"Retry-After": str(retry_after)},
        )


def _fault_for_http_exception(exc: web.HTTPException) -> GraphFault:
    if exc.status == 404:  # Graph answers an unknown path segment with 400 BadRequest
        return graph_errors.bad_request("Resource not found for the segment in the request URL.")
    if exc.status == 405:
        return GraphFault(405, graph_errors.METHOD_NOT_ALLOWED, "The HTTP method is not allowed for this resource.")
    return GraphFault(exc.status, graph_errors.GENERAL_EXCEPTION, exc.reason)


@web.middleware
async def graph_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, throttle, render Graph errors, echo ``client-request-id``, log."""
    if not _is_graph(request):
        return await handler(request)
    state = request.app[STATE]
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    arrived = state.clock.now()
    request[INJECTED] = []
    response: web.StreamResponse
    try:
        request[CALLER] = authenticate_graph(request, state)
        _throttle(request, state)
        response = await handler(request)
    except GraphFault as fault:
        response = fault.to_response(now=state.clock.now(), request_id=request_id, client_request_id=client_request_id)
    except web.HTTPException as exc:  # routing: unknown path or method
        response = _fault_for_http_exception(exc).to_response(
            now=state.clock.now(), request_id=request_id, client_request_id=client_request_id
        )
    except Exception:  # a sandbox bug must still look like Graph to the client
        logger.exception("unhandled error in %s %s", request.method, request.path)
        unexpected = GraphFault(500, graph_errors.GENERAL_EXCEPTION, "An unexpected error occurred.")
        response = unexpected.to_response(now=state.clock.now(), request_id=request_id, client_request_id=client_request_id)
    response.headers["request-id"] = request_id
    response.headers["client-request-id"] = client_request_id
    state.log.append(
        LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.raw_path.partition("?")[2],
            status=response.status,
            requestId=request_id,
            correlationId=client_request_id,
            at=format_iso(arrived),
            injected=tuple(str(note) for note in request[INJECTED]),
        )
    )
    return response
