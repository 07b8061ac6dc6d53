"""The package surface the client tests and the bot depend on."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from pc_sandbox import DEMO, SandboxClock, SandboxOptions, World, create_sandbox_app, running_sandbox

from ._helpers import START


def test_demo_identities():
    assert (DEMO.tenant, DEMO.client_id, DEMO.client_secret, DEMO.refresh_token) == (
        "sandbox",
        "sandbox-app",
        "sandbox-secret",
        "sandbox-refresh-token",
    )
    assert len(DEMO.partner_tenant_id) == 36
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEMO.tenant = "other"  # type: ignore[misc]


def test_options_defaults_and_validation():
    options = SandboxOptions()
    assert (options.latency_ms, options.rate_limit, options.rate_window_seconds, options.fault_rate) == (0, 0, 60, 0.0)
    assert (options.seed_path, options.random_seed, options.clock, dict(options.client_certificates)) == (
        None,
        0,
        None,
        {},
    )
    with pytest.raises(TypeError):
        SandboxOptions(5)  # type: ignore[misc]  # keyword-only
    with pytest.raises(ValueError, match="fault_rate"):
        SandboxOptions(fault_rate=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.latency_ms = 1  # type: ignore[misc]


async def test_create_sandbox_app_without_options_serves_the_packaged_demo(aiohttp_client):
    client = await aiohttp_client(create_sandbox_app())
    async with client.get("/_sandbox/customers") as response:
        assert response.status == 200
        customers = (await response.json())["items"]
    assert len(customers) == 13 and {"Contoso Ltd", "Wingtip Toys"} <= {c["companyName"] for c in customers}


async def test_running_sandbox_serves_on_a_free_port():
    clock = SandboxClock(START, frozen=True)
    async with running_sandbox(options=SandboxOptions(clock=clock), host="127.0.0.1", port=0) as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
        assert not sandbox.base_url.endswith(":0")
        assert isinstance(sandbox.world, World)
        assert sandbox.clock is clock
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{sandbox.base_url}/_sandbox/clock") as response:
                assert await response.json() == {"now": "2026-03-02T09:00:00Z"}


async def test_custom_seed_file(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(
        '{"customers": [{"id": "11111111-1111-4111-8111-111111111111", "companyName": "Solo", '
        '"domain": "solo.onmicrosoft.com", "subscriptions": [{"offerName": "Office 365 E1"}]}]}',
        encoding="utf-8",
    )
    async with running_sandbox(options=SandboxOptions(seed_path=str(seed))) as sandbox:
        assert [customer.company_name for customer in sandbox.world.customers.values()] == ["Solo"]
