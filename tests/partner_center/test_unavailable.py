"""Partner Center not answering versus refusing, as the client tells them apart."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from partner_center import (
    ConflictError,
    NotFoundError,
    PartnerCenterClient,
    PartnerCenterError,
    SubscriptionStatus,
    ThrottledError,
    UnavailableError,
    is_unavailable,
)
from tests._helpers import customer_named, operator, sandbox_requests


def test_unavailable_means_no_answer_5xx_or_throttled_never_a_refusal() -> None:
    assert is_unavailable(UnavailableError("down", status=503))
    assert is_unavailable(UnavailableError("Partner Center did not answer: ServerDisconnectedError"))
    assert is_unavailable(ThrottledError("slow down", retry_after=3, status=429))
    assert not is_unavailable(ConflictError("stale", status=400, code="2055"))
    assert not is_unavailable(NotFoundError("gone", status=404))
    assert not is_unavailable(PartnerCenterError("refused", status=400, code="800002"))


@pytest.mark.parametrize("mode", ["reset", "503"])
async def test_is_answering_asks_once_and_sees_an_outage(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession, mode: str
) -> None:
    assert await client.is_answering()
    await operator(http, sandbox, "outage", {"on": True, "mode": mode})
    before = len(await sandbox_requests(http, sandbox))
    assert not await client.is_answering()
    # One attempt, no retries of ours (one MS-RequestId); aiohttp itself resends an idempotent
    # request once when a kept-alive connection is dropped, hence maybe two sends.
    sent = (await sandbox_requests(http, sandbox))[before:]
    assert len({r["requestId"] for r in sent}) == 1 and len(sent) <= 2
    with pytest.raises(UnavailableError):
        await client.get_customer("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
    await operator(http, sandbox, "outage", {"on": False})
    assert await client.is_answering()


async def test_is_answering_is_false_while_everyone_is_throttled(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    await operator(http, sandbox, "throttle", {"seconds": 5})
    assert not await client.is_answering()


async def test_a_subscription_suspended_or_cancelled_in_the_portal_is_not_written_again(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    subscriptions = await client.list_subscriptions(contoso.id)
    legacy = next(s for s in subscriptions if s.product_type and s.product_type.id == "OnlineServices")
    nce = next(s for s in subscriptions if s.product_type and s.product_type.id == "OnlineServicesNCE")
    await operator(http, sandbox, f"customers/{contoso.id}/subscriptions/{legacy.id}/suspend")
    await operator(http, sandbox, f"customers/{contoso.id}/subscriptions/{nce.id}/cancel")
    assert (await client.suspend_subscription(contoso.id, legacy.id)).status is SubscriptionStatus.SUSPENDED
    assert (await client.cancel_subscription(contoso.id, nce.id)).status is SubscriptionStatus.DELETED
    assert (await client.suspend_subscription(contoso.id, nce.id)).status is SubscriptionStatus.DELETED
    assert not [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
