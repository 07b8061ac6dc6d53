"""The package surface the client tests and the bot depend on."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

import pc_sandbox as sandbox_package
from pc_sandbox import DEMO, SandboxClock, SandboxOptions, World, create_sandbox_app, running_sandbox

from ._helpers import START



def test_all_lists_exactly_the_public_names():
    assert list(sandbox_package.__all__) == sorted(sandbox_package.__all__)
    for name in sandbox_package.__all__:
        assert getattr(sandbox_package, name) is not None
    public = {name for name in vars(sandbox_package) if not name.startswith("_") and not _is_module(name)}
    assert public - {"annotations"} == set(sandbox_package.__all__)


def _is_module(name: str) -> bool:
    return type(getattr(sandbox_package, name)).__name__ == "module"


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
        None, 0, None, {},
    )
    with pytest.raises(TypeError):
        SandboxOptions(5)  # type: ignore[misc]  # keyword-only
    with pytest.raises(ValueError):
        SandboxOptions(fault_rate=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.latency_ms = 1  # type: ignore[misc]


def test_create_sandbox_app_without_options():
    assert create_sandbox_app() is not None


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
