"""Shared fixtures: a real sandbox on loopback and a real client talking to it over HTTP."""

from __future__ import annotations

from typing import Any, AsyncIterator

import os

import aiohttp
import pytest

from partner_center import (
    Customer,
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    RetryPolicy,
    connect,
)
from pc_sandbox import SandboxOptions, running_sandbox

@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with none of Offboard's settings from the shell: a developer with live
    Partner Center credentials exported must not point a test run at a real tenant (subprocesses
    inherit the cleaned environment too)."""
    for name in list(os.environ):
        if name.startswith(("OFFBOARD_", "Microsoft", "MICROSOFT_")):
            monkeypatch.delenv(name, raising=False)


# Short waits: the sandbox answers in microseconds; 429 waits still honour Retry-After.
FAST_RETRY = RetryPolicy(attempts=6, timeout_seconds=60, wait_initial=0.02, wait_max=0.2, wait_jitter=0.02)


@pytest.fixture
def sandbox_options() -> SandboxOptions:
    return SandboxOptions()


@pytest.fixture
async def sandbox(sandbox_options: SandboxOptions) -> AsyncIterator[Any]:
    async with running_sandbox(options=sandbox_options, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sandbox: Any, http: aiohttp.ClientSession) -> PartnerCenterClient:
    return connect(
        PartnerCenterConfig.sandbox(sandbox.base_url),
        session=http,
        limits=PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32)),
        retry=FAST_RETRY,
    )


async def sandbox_requests(http: aiohttp.ClientSession, sandbox: Any) -> list[dict[str, Any]]:
    """The sandbox's log of /v1 requests: the witness of what the client really sent."""
    async with http.get(f"{sandbox.base_url}/_sandbox/requests") as response:
        return (await response.json())["items"]


async def operator(http: aiohttp.ClientSession, sandbox: Any, path: str, body: Any = None) -> Any:
    async with http.post(f"{sandbox.base_url}/_sandbox/{path}", json=body or {}) as response:
        assert response.status < 300, await response.text()
        return await response.json(content_type=None)


async def customer_named(client: PartnerCenterClient, name: str) -> Customer:
    [customer] = [c for c in await client.find_customers("CompanyName", name) if c.name == name]
    return customer


async def sandbox_customer_id(http: aiohttp.ClientSession, sandbox: Any, name: str) -> str:
    """A customer's tenant id from the sandbox's operator summary (finds removed ones too)."""
    async with http.get(f"{sandbox.base_url}/_sandbox/customers") as response:
        summary = await response.json()
    items = summary["items"] if isinstance(summary, dict) else summary
    [found] = [c["id"] for c in items if c.get("companyName", c.get("name")) == name]
    return found
