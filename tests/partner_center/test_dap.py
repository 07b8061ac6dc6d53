"""Removing DAP (``allowDelegatedAccess``) against a loopback Partner Center speaking the documented format.

Request body: ``documented/remove-dap-request.json``, verbatim from
learn.microsoft.com/partner-center/developer/remove-dap; the customer read is ``customer.json``.
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

from partner_center import AuthError, PartnerCenterClient, PartnerCenterError, PartnerLimits, RateSettings, RetryPolicy
from partner_center.errors import RemovalUnclearError

DOCUMENTED = Path(__file__).parent / "documented"
CUSTOMER = "11111111-1111-1111-1111-111111111111"


def documented(name: str) -> Any:
    return json.loads((DOCUMENTED / name).read_text(encoding="utf-8"))


class _Tokens:
    async def access_token(self, *, needs_user: bool) -> str:
        return "app-user-token" if needs_user else "app-token"

    async def forget(self, token: str) -> None:
        return None


@dataclass
class _PartnerCenter:
    allow: bool | None = True
    apply_patch: bool = True
    patches: list[tuple[Any, str]] = field(default_factory=list)


def _app(state: _PartnerCenter) -> web.Application:
    async def customer(request: web.Request) -> web.Response:
        if request.method == "PATCH":
            state.patches.append((await request.json(), request.headers.get("Authorization", "")))
            if request.headers.get("Authorization") != "Bearer app-user-token":
                return web.json_response({"code": 800001, "description": "App+User only"}, status=401)
            if state.apply_patch:
                state.allow = False
            return web.json_response({})
        body = documented("customer.json")
        if state.allow is None:
            del body["allowDelegatedAccess"]
        else:
            body["allowDelegatedAccess"] = state.allow
        return web.json_response(body)

    app = web.Application()
    app.router.add_route("*", "/v1/customers/{id}", customer)
    return app


@dataclass
class _Fixture:
    client: PartnerCenterClient
    state: _PartnerCenter


@pytest.fixture
async def partner_center(aiohttp_server: Any) -> AsyncIterator[_Fixture]:
    state = _PartnerCenter()
    server = await aiohttp_server(_app(state))
    async with aiohttp.ClientSession() as session:
        client = PartnerCenterClient(
            session=session,
            base_url=str(server.make_url("")).rstrip("/"),
            tokens=_Tokens(),
            limits=PartnerLimits(RateSettings()),
            retry=RetryPolicy(attempts=1),
        )
        yield _Fixture(client, state)


async def test_dap_is_removed_with_the_documented_body_as_app_user_and_read_back(partner_center: _Fixture) -> None:
    result = await partner_center.client.remove_dap(CUSTOMER)
    assert not result.already_removed and result.request_id
    assert partner_center.state.patches == [(documented("remove-dap-request.json"), "Bearer app-user-token")]
    assert (await partner_center.client.get_customer(CUSTOMER)).allow_delegated_access is False


async def test_dap_already_removed_is_not_written(partner_center: _Fixture) -> None:
    partner_center.state.allow = False
    result = await partner_center.client.remove_dap(CUSTOMER)
    assert result.already_removed and result.request_id == ""
    assert partner_center.state.patches == []


async def test_a_customer_read_without_the_flag_is_written_and_an_absent_flag_after_is_unclear(
    partner_center: _Fixture,
) -> None:
    partner_center.state.allow = None
    partner_center.state.apply_patch = False
    with pytest.raises(RemovalUnclearError):
        await partner_center.client.remove_dap(CUSTOMER)
    assert len(partner_center.state.patches) == 1


async def test_an_accepted_patch_that_leaves_dap_is_an_error(partner_center: _Fixture) -> None:
    partner_center.state.apply_patch = False
    with pytest.raises(PartnerCenterError, match="still allows delegated access"):
        await partner_center.client.remove_dap(CUSTOMER)


async def test_the_flag_is_tolerant(partner_center: _Fixture) -> None:
    partner_center.state.allow = None
    assert (await partner_center.client.get_customer(CUSTOMER)).allow_delegated_access is None


async def test_an_app_only_token_is_refused_and_nothing_read_back(partner_center: _Fixture) -> None:
    class _AppOnly(_Tokens):
        async def access_token(self, *, needs_user: bool) -> str:
            return "app-token"

    partner_center.client._transport._tokens = _AppOnly()
    with pytest.raises(AuthError):
        await partner_center.client.remove_dap(CUSTOMER)
