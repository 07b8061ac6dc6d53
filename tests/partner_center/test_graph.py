"""The Graph client against a loopback server speaking Microsoft Graph's documented wire format.

The bodies are ``tests/partner_center/documented/graph-*.json`` (its README says which are
Microsoft's examples verbatim and which are reconstructed). The server keeps a little state (the
relationships' statuses, the organization's lists, who is still there) so that reads-after-writes,
idempotency and the 403/429/5xx paths are those of the real client over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from partner_center import (
    GdapStatus,
    GraphClient,
    GraphPermissionError,
    NotFoundError,
    PartnerCenterError,
    PartnerLimits,
    RateSettings,
    RetryPolicy,
    ThrottledError,
)
from partner_center.graph import Needs
from partner_center.graph_models import PRIVACY_CONTACT

DOCUMENTED = Path(__file__).parent / "documented"
CUSTOMER = "52eaad04-13a2-4a2f-9ce8-93a294fadf36"  # "Contoso Inc" in Microsoft's list example
ACTIVE = "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
TERMINATED = "1041ef52-a99b-4245-a3be-cbd3fa7c5ed1-8777b240-c6f0-4469-9e98-a3205431b836"
PENDING = "4b227261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
CREATED = "c45e5ffb-3de2-4938-a214-b7eed802db66-4be56058-bb48-4a8e-8282-6cf0e98e6c9d"
PARTNER_TENANT = "d4a5b6c7-0000-4000-8000-0000000000aa"
PARTNER_DOMAINS = ("offboardpartner.onmicrosoft.com",)


def documented(name: str) -> Any:
    return json.loads((DOCUMENTED / name).read_text(encoding="utf-8"))


class _GraphTokens:
    """Gives ``token-partner`` or ``token-<tenant>``; records what was asked."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    async def graph_token(self, *, tenant: str | None = None) -> str:
        self.asked.append(tenant)
        return f"token-{tenant or 'partner'}"

    async def forget(self, token: str) -> None:
        return None


@dataclass
class _Graph:
    """The fake's state and knobs."""

    relationships: dict[str, dict[str, Any]] = field(default_factory=dict)
    organization: dict[str, Any] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)  # "METHOD /path-start" answered 403
    failures: list[int] = field(default_factory=list)  # statuses answered before the next real answer
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    patches: list[Any] = field(default_factory=list)
    page_size: int = 2
    lose_next_post_answer: bool = False  # the terminate lands, its answer is a 503


def _error(status: int, name: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(documented(name), status=status, headers=headers)


def _graph_error(status: int, code: str, message: str) -> web.Response:
    body = {"error": {"code": code, "message": message, "innerError": {"date": "2026-11-21T12:00:00", "request-id": "r"}}}
    return web.json_response(body, status=status)


def _app(state: _Graph) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        state.requests.append((request.method, request.path_qs, dict(request.headers)))
        customer_call = not request.path.startswith("/v1.0/tenantRelationships")
        wanted = f"Bearer token-{CUSTOMER if customer_call else 'partner'}"
        if request.headers.get("Authorization") != wanted:
            return _graph_error(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if state.failures:
            status = state.failures.pop(0)
            if status == 429:
                return _error(429, "graph-error-429.json", headers={"Retry-After": "0"})
            return _graph_error(status, "ServiceUnavailable", "The service is temporarily unavailable.")
        if any(f"{request.method} {request.path}".startswith(rule) for rule in state.denied):
            return _error(403, "graph-error-403.json")
        return await handler(request)

    async def list_relationships(request: web.Request) -> web.Response:
        wanted = f"customer/tenantId eq '{CUSTOMER}'"
        if request.query.get("$filter") != wanted:
            return _graph_error(400, "BadRequest", "Invalid filter clause")
        matching = [r for r in state.relationships.values() if r["customer"]["tenantId"] == CUSTOMER]
        start = int(request.query.get("$skiptoken", "0"))
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/tenantRelationships/$metadata#delegatedAdminRelationships",
            "value": matching[start : start + state.page_size],
        }
        if start + state.page_size < len(matching):
            body["@odata.nextLink"] = str(request.url.update_query({"$skiptoken": str(start + state.page_size)}))
        return web.json_response(body)

    def relationship_or_404(request: web.Request) -> dict[str, Any] | web.Response:
        found = state.relationships.get(request.match_info["id"])
        return found if found is not None else _graph_error(404, "Request_ResourceNotFound", "Not found")

    async def get_relationship(request: web.Request) -> web.Response:
        found = relationship_or_404(request)
        return found if isinstance(found, web.Response) else web.json_response(found)

    async def post_request(request: web.Request) -> web.Response:
        found = relationship_or_404(request)
        if isinstance(found, web.Response):
            return found
        if await request.json() != {"action": "terminate"}:
            return _graph_error(400, "BadRequest", "Unsupported action")
        if found["status"] != "active":
            return _graph_error(400, "BadRequest", f"The relationship is {found['status']}")
        found["status"] = "terminationRequested"
        if state.lose_next_post_answer:
            state.lose_next_post_answer = False
            return _graph_error(503, "ServiceUnavailable", "The service is temporarily unavailable.")
        answer = {**documented("graph-relationship-request.json"), "action": "terminate"}
        location = f"{request.url}/{answer['id']}"
        return web.json_response(answer, status=201, headers={"Location": location})

    async def delete_relationship(request: web.Request) -> web.Response:
        found = relationship_or_404(request)
        if isinstance(found, web.Response):
            return found
        if request.headers.get("If-Match") != found["@odata.etag"]:
            return _graph_error(412, "PreconditionFailed", "The etag does not match")
        if found["status"] != "created":
            return _graph_error(400, "BadRequest", "Only a created relationship can be deleted")
        del state.relationships[found["id"]]
        return web.Response(status=204)

    async def organization(request: web.Request) -> web.Response:
        return web.json_response({"value": [state.organization]})

    async def patch_organization(request: web.Request) -> web.Response:
        body = await request.json()
        state.patches.append(body)
        state.organization.update(body)
        return web.Response(status=204)

    async def users(request: web.Request) -> web.Response:
        if request.query.get("$filter") != "userType eq 'Guest'":
            return _graph_error(400, "BadRequest", "Invalid filter clause")
        return web.json_response({"value": [u for u in state.users.values() if u["userType"] == "Guest"]})

    async def principals(request: web.Request) -> web.Response:
        if request.query.get("$filter") != f"appOwnerOrganizationId eq {PARTNER_TENANT}":
            return _graph_error(400, "BadRequest", "Invalid filter clause")
        owned = [p for p in state.principals.values() if p["appOwnerOrganizationId"] == PARTNER_TENANT]
        return web.json_response({"value": owned})

    def delete_from(collection: dict[str, dict[str, Any]]) -> Any:
        async def handler(request: web.Request) -> web.Response:
            if collection.pop(request.match_info["id"], None) is None:
                return _graph_error(404, "Request_ResourceNotFound", "Resource does not exist")
            return web.Response(status=204)

        return handler

    app = web.Application(middlewares=[guard])
    base = "/v1.0/tenantRelationships/delegatedAdminRelationships"
    app.router.add_get(base, list_relationships)
    app.router.add_get(base + "/{id}", get_relationship)
    app.router.add_delete(base + "/{id}", delete_relationship)
    app.router.add_post(base + "/{id}/requests", post_request)
    app.router.add_get("/v1.0/organization", organization)
    app.router.add_patch("/v1.0/organization/{id}", patch_organization)
    app.router.add_get("/v1.0/users", users)
    app.router.add_delete("/v1.0/users/{id}", delete_from(state.users))
    app.router.add_get("/v1.0/servicePrincipals", principals)
    app.router.add_delete("/v1.0/servicePrincipals/{id}", delete_from(state.principals))
    return app


def _seeded() -> _Graph:
    state = _Graph()
    for item in documented("graph-delegated-admin-relationships.json")["value"]:
        state.relationships[item["id"]] = item
    # Put the subsidiary's terminated one with our customer too, and add one still 'created'.
    state.relationships[TERMINATED]["customer"] = {"tenantId": CUSTOMER, "displayName": "Contoso Inc"}
    state.relationships[CREATED] = {
        **state.relationships[ACTIVE],
        "id": CREATED,
        "@odata.etag": 'W/"created-1"',
        "displayName": "MLT_2b5d4f3e-0000-4000-8000-000000000001",
        "status": "created",
        "activatedDateTime": None,
        "endDateTime": None,
    }
    state.organization = documented("graph-organization.json")
    state.organization.update(
        technicalNotificationMails=["admin@contoso.com", "noc@offboardpartner.onmicrosoft.com"],
        securityComplianceNotificationMails=["SOC@OffboardPartner.onmicrosoft.com"],
        privacyProfile={"contactEmail": "privacy@offboardpartner.onmicrosoft.com", "statementUrl": "https://contoso.com/privacy"},
    )
    state.users = {u["id"]: u for u in documented("graph-guest-users.json")["value"]}
    state.principals = {p["id"]: p for p in documented("graph-service-principals.json")["value"]}
    state.principals["other"] = {"id": "other", "appId": "x", "displayName": "Someone else's", "appOwnerOrganizationId": "f" * 8}
    return state


@dataclass
class _Fixture:
    client: GraphClient
    state: _Graph
    tokens: _GraphTokens


@pytest.fixture
async def graph(aiohttp_server: Any) -> AsyncIterator[_Fixture]:
    state = _seeded()
    server = await aiohttp_server(_app(state))
    tokens = _GraphTokens()
    async with aiohttp.ClientSession() as session:
        client = GraphClient(
            session=session,
            base_url=str(server.make_url("/v1.0")),
            tokens=tokens,
            limits=PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=8)),
            retry=RetryPolicy(attempts=4, wait_initial=0.01, wait_max=0.01, wait_jitter=0.0),
        )
        yield _Fixture(client, state, tokens)


async def test_relationships_with_a_customer_are_read_from_every_page(graph: _Fixture) -> None:
    """Verbatim (tenantrelationship-list-delegatedadminrelationships): all fields read; pages followed."""
    found = await graph.client.relationships_with(CUSTOMER)
    assert [r.id for r in found] == [ACTIVE, TERMINATED, PENDING, CREATED]
    active, terminated, pending, created = found
    assert active.status is GdapStatus.ACTIVE and active.auto_extends is True and active.duration == "P730D"
    assert active.role_ids == ("dd4db9a0-cc4a-4213-9f9f-70242232d97e",)
    assert active.etag == 'W/"JyIwMzAwZTM0ZS0wMDAwLTAyMDAtMDAwMC02MTRjZjI1YzAwMDAiJw=="'
    assert active.customer.display_name == "Contoso Inc" and active.end_date_time is not None
    assert terminated.status is GdapStatus.TERMINATED and terminated.auto_extends is False
    assert terminated.termination_underway
    assert pending.status is GdapStatus.APPROVAL_PENDING and pending.raw_status == "approvalPending"
    assert pending.end_date_time is None and len(pending.role_ids) == 9
    assert created.is_microsoft_default and not active.is_microsoft_default
    lists = [path for method, path, _ in graph.state.requests if method == "GET"]
    assert len(lists) == 2 and "skiptoken=2" in lists[1]
    assert graph.tokens.asked == [None, None]  # the partner tenant's token


async def test_an_unknown_status_is_unknown_with_its_text_kept(graph: _Fixture) -> None:
    graph.state.relationships[ACTIVE]["status"] = "unknownFutureValue"
    relationship = await graph.client.relationship(ACTIVE)
    assert relationship.status is GdapStatus.UNKNOWN and relationship.raw_status == "unknownFutureValue"


async def test_terminate_posts_the_request_and_reads_it_back(graph: _Fixture) -> None:
    """The request body and the 201 answer (delegatedadminrelationship-post-requests)."""
    done = await graph.client.terminate(ACTIVE)
    assert done.relationship.status is GdapStatus.TERMINATION_REQUESTED and not done.already_ended
    assert done.request is not None and done.request.action == "terminate" and done.request.status == "created"
    methods = [method for method, _, _ in graph.state.requests]
    assert methods == ["GET", "POST", "GET"]
    post_headers = graph.state.requests[1][2]
    assert post_headers["client-request-id"] and post_headers["Authorization"] == "Bearer token-partner"


async def test_terminate_twice_writes_once(graph: _Fixture) -> None:
    await graph.client.terminate(ACTIVE)
    again = await graph.client.terminate(ACTIVE)
    assert again.already_ended and again.request is None
    assert [method for method, _, _ in graph.state.requests].count("POST") == 1


@pytest.mark.parametrize("status", ["terminating", "terminated", "expired"])
async def test_terminate_of_a_relationship_already_ending_sends_nothing(graph: _Fixture, status: str) -> None:
    graph.state.relationships[ACTIVE]["status"] = status
    done = await graph.client.terminate(ACTIVE)
    assert done.already_ended and done.relationship.raw_status == status
    assert [method for method, _, _ in graph.state.requests] == ["GET"]


async def test_a_refused_terminate_that_reads_back_terminating_is_done(graph: _Fixture) -> None:
    """A retried POST whose first attempt landed: Graph refuses the second (400); the read decides."""
    graph.state.lose_next_post_answer = True
    done = await graph.client.terminate(ACTIVE)
    assert done.relationship.status is GdapStatus.TERMINATION_REQUESTED and done.already_ended
    assert [method for method, _, _ in graph.state.requests] == ["GET", "POST", "POST", "GET"]


async def test_terminate_of_a_pending_relationship_raises_graphs_refusal(graph: _Fixture) -> None:
    with pytest.raises(PartnerCenterError, match="approvalPending") as caught:
        await graph.client.terminate(PENDING)
    assert caught.value.status == 400 and caught.value.code == "BadRequest"


async def test_a_created_relationship_is_deleted_with_its_etag_and_a_repeat_is_not_an_error(graph: _Fixture) -> None:
    created = await graph.client.relationship(CREATED)
    assert await graph.client.delete_created(CREATED, created.etag or "") is True
    assert CREATED not in graph.state.relationships
    assert await graph.client.delete_created(CREATED, created.etag or "") is False
    with pytest.raises(NotFoundError):
        await graph.client.relationship(CREATED)


async def test_deleting_an_active_relationship_is_refused(graph: _Fixture) -> None:
    active = await graph.client.relationship(ACTIVE)
    with pytest.raises(PartnerCenterError) as caught:
        await graph.client.delete_created(ACTIVE, active.etag or "")
    assert caught.value.status == 400


async def test_organization_contacts_are_read_in_the_customer_tenant(graph: _Fixture) -> None:
    """Verbatim (organization-get), served as GET /organization's list."""
    contacts = await graph.client.organization_contacts(CUSTOMER)
    assert contacts.id == "84841066-274d-4ec0-a5c1-276be684bdd3" and contacts.marketing_notification_emails == []
    assert contacts.partner_addresses(PARTNER_DOMAINS) == {
        "technicalNotificationMails": ("noc@offboardpartner.onmicrosoft.com",),
        "securityComplianceNotificationMails": ("SOC@OffboardPartner.onmicrosoft.com",),
        PRIVACY_CONTACT: ("privacy@offboardpartner.onmicrosoft.com",),
    }
    assert graph.tokens.asked == [CUSTOMER]


async def test_the_documented_organization_has_no_partner_address(graph: _Fixture) -> None:
    graph.state.organization = documented("graph-organization.json")  # privacyProfile contactEmail ""
    cleanup = await graph.client.clear_partner_contacts(CUSTOMER, PARTNER_DOMAINS)
    assert cleanup.removed == {} and graph.state.patches == []


async def test_clearing_contacts_patches_only_the_lists_with_partner_addresses(graph: _Fixture) -> None:
    cleanup = await graph.client.clear_partner_contacts(CUSTOMER, PARTNER_DOMAINS)
    assert graph.state.patches == [
        {
            "technicalNotificationMails": ["admin@contoso.com"],
            "securityComplianceNotificationMails": [],
            "privacyProfile": {"contactEmail": None, "statementUrl": "https://contoso.com/privacy"},
        }
    ]
    assert cleanup.contacts.technical_notification_mails == ["admin@contoso.com"]
    assert set(cleanup.removed) == {"technicalNotificationMails", "securityComplianceNotificationMails", PRIVACY_CONTACT}
    again = await graph.client.clear_partner_contacts(CUSTOMER, PARTNER_DOMAINS)
    assert again.removed == {} and len(graph.state.patches) == 1


async def test_partner_guests_are_matched_by_mail_or_ext_upn(graph: _Fixture) -> None:
    """Reconstructed (user resource): the guest without mail is found by its #EXT# UPN."""
    guests = await graph.client.partner_guests(CUSTOMER, PARTNER_DOMAINS)
    assert [g.display_name for g in guests] == ["Adele Partner", "Ben Partner"]
    assert guests[1].mail == "" and guests[1].external_user_state == "PendingAcceptance"
    assert await graph.client.delete_user(CUSTOMER, guests[0].id) is True
    assert await graph.client.delete_user(CUSTOMER, guests[0].id) is False
    assert [g.display_name for g in await graph.client.partner_guests(CUSTOMER, PARTNER_DOMAINS)] == ["Ben Partner"]


async def test_partner_service_principals_are_listed_and_deleted(graph: _Fixture) -> None:
    found = await graph.client.partner_service_principals(CUSTOMER, PARTNER_TENANT)
    assert [(p.display_name, p.app_id) for p in found] == [("Offboard partner tools", "65415bb1-9267-4313-bbf5-ae259732ee12")]
    assert await graph.client.delete_service_principal(CUSTOMER, found[0].id) is True
    assert await graph.client.partner_service_principals(CUSTOMER, PARTNER_TENANT) == []
    with pytest.raises(ValueError, match="badly formed"):
        await graph.client.partner_service_principals(CUSTOMER, "' or 1 eq 1")


async def test_a_403_says_what_the_call_needed(graph: _Fixture) -> None:
    """Verbatim shape (graph errors page), the contract's code and message."""
    graph.state.denied = {"DELETE /v1.0/users/"}
    guests = await graph.client.partner_guests(CUSTOMER, PARTNER_DOMAINS)  # reading is still allowed
    with pytest.raises(GraphPermissionError) as caught:
        await graph.client.delete_user(CUSTOMER, guests[0].id)
    error = caught.value
    assert error.status == 403 and error.code == "Authorization_RequestDenied"
    assert error.description == "Insufficient privileges to complete the operation."
    assert error.needs == Needs.DELETE_USERS and "User Administrator" in str(error)
    assert error.data and error.data[0]["request-id"] == "4a0e4b8e-0000-4000-8000-00000000e403"


@pytest.mark.parametrize(
    ("rule", "call", "needs"),
    [
        ("GET /v1.0/tenantRelationships", "relationships", Needs.READ_RELATIONSHIPS),
        ("POST /v1.0/tenantRelationships", "terminate", Needs.WRITE_RELATIONSHIPS),
        ("GET /v1.0/organization", "contacts", Needs.READ_ORGANIZATION),
        ("PATCH /v1.0/organization", "clear", Needs.WRITE_ORGANIZATION),
        ("GET /v1.0/users", "guests", Needs.READ_USERS),
        ("GET /v1.0/servicePrincipals", "principals", Needs.READ_APPLICATIONS),
        ("DELETE /v1.0/servicePrincipals", "delete_principal", Needs.DELETE_APPLICATIONS),
    ],
)
async def test_each_call_names_its_needs(graph: _Fixture, rule: str, call: str, needs: str) -> None:
    graph.state.denied = {rule}
    client = graph.client
    calls = {
        "relationships": lambda: client.relationships_with(CUSTOMER),
        "terminate": lambda: client.terminate(ACTIVE),
        "contacts": lambda: client.organization_contacts(CUSTOMER),
        "clear": lambda: client.clear_partner_contacts(CUSTOMER, PARTNER_DOMAINS),
        "guests": lambda: client.partner_guests(CUSTOMER, PARTNER_DOMAINS),
        "principals": lambda: client.partner_service_principals(CUSTOMER, PARTNER_TENANT),
        "delete_principal": lambda: client.delete_service_principal(CUSTOMER, "59e617e5-e447-4adc-8b88-00af644d7c92"),
    }
    with pytest.raises(GraphPermissionError) as caught:
        await calls[call]()
    assert caught.value.needs == needs


async def test_429_and_5xx_are_retried(graph: _Fixture) -> None:
    graph.state.failures = [429, 503, 500]
    assert len(await graph.client.relationships_with(CUSTOMER)) == 4


async def test_429_past_the_retries_is_throttled_with_graphs_body(graph: _Fixture) -> None:
    graph.state.failures = [429] * 4
    with pytest.raises(ThrottledError) as caught:
        await graph.client.relationship(ACTIVE)
    assert caught.value.code == "TooManyRequests" and caught.value.retry_after == 0.0


async def test_a_token_for_the_wrong_tenant_is_refused(graph: _Fixture) -> None:
    class _PartnerOnly(_GraphTokens):
        async def graph_token(self, *, tenant: str | None = None) -> str:
            return "token-partner"

    graph.client._transport._tokens = _PartnerOnly()  # type: ignore[assignment]
    graph.client._tokens = _PartnerOnly()
    with pytest.raises(PartnerCenterError) as caught:
        await graph.client.organization_contacts(CUSTOMER)
    assert caught.value.status == 401 and caught.value.code == "InvalidAuthenticationToken"


async def test_a_next_link_to_another_host_is_not_followed(graph: _Fixture) -> None:
    graph.state.page_size = 1
    assert len(await graph.client.relationships_with(CUSTOMER)) == 4  # links to its own origin: followed
    with pytest.raises(PartnerCenterError, match="another host"):
        await graph.client._transport.send("GET", "https://evil.example/v1.0/users", needs_user=True)
