"""Shared fixtures: a fresh sandbox app per test behind pytest-aiohttp's client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from pc_sandbox import SandboxClock, SandboxOptions, create_sandbox_app

from ._helpers import START, fetch_token, user_headers_for

MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def clock() -> SandboxClock:
    """Frozen, so dates in assertions are exact."""
    return SandboxClock(START, frozen=True)


@pytest.fixture
def make_client(aiohttp_client, clock: SandboxClock) -> MakeClient:
    """Build a sandbox with the given SandboxOptions fields (the test clock by default)."""

    async def make(**options) -> TestClient:
        options.setdefault("clock", clock)
        return await aiohttp_client(create_sandbox_app(options=SandboxOptions(**options)))

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    return await make_client()


@pytest.fixture
async def user_headers(client: TestClient) -> dict[str, str]:
    """App+User bearer headers (what the removal needs)."""
    return await user_headers_for(client)


@pytest.fixture
async def app_headers(client: TestClient) -> dict[str, str]:
    """App-only bearer headers."""
    return {"Authorization": f"Bearer {await fetch_token(client, app_only=True)}"}
