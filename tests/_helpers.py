"""What tests say to the sandbox and the client besides the fixtures: its request log, its operator
controls, customer lookups and the short retry policy (pytest discourages importing from conftest)."""

from __future__ import annotations

from typing import Any

import aiohttp

from partner_center import Customer, PartnerCenterClient, RetryPolicy

__all__ = ("FAST_RETRY", "customer_named", "operator", "sandbox_customer_id", "sandbox_requests")

# Short waits: the sandbox answers in microseconds; 429 waits still honour Retry-After.
FAST_RETRY = RetryPolicy(attempts=6, timeout_seconds=60, wait_initial=0.02, wait_max=0.2, wait_jitter=0.02)


async def sandbox_requests(http: aiohttp.ClientSession, sandbox: Any) -> list[dict[str, Any]]:
    """The sandbox's log of /v1 requests: the witness of what the client really sent."""
    async with http.get(f"{sandbox.base_url}/_sandbox/requests") as response:
        items: list[dict[str, Any]] = (await response.json())["items"]
        return items


async def operator(http: aiohttp.ClientSession, sandbox: Any, path: str, body: Any = None) -> Any:
    """POST to one of the sandbox's ``/_sandbox`` controls (move the clock, queue a fault...)."""
    async with http.post(f"{sandbox.base_url}/_sandbox/{path}", json=body or {}) as response:
        assert response.status < 300, await response.text()
        return await response.json(content_type=None)


async def customer_named(client: PartnerCenterClient, name: str) -> Customer:
    """The one customer with exactly this company name, found through the client."""
    [customer] = [c for c in await client.find_customers("CompanyName", name) if c.name == name]
    return customer


async def sandbox_customer_id(http: aiohttp.ClientSession, sandbox: Any, name: str) -> str:
    """A customer's tenant id from the sandbox's operator summary (finds removed ones too)."""
    async with http.get(f"{sandbox.base_url}/_sandbox/customers") as response:
        summary = await response.json()
    items = summary["items"] if isinstance(summary, dict) else summary
    [found] = [c["id"] for c in items if c.get("companyName", c.get("name")) == name]
    return str(found)
