"""The Azure-subscription cancel as Microsoft documents it, and the Azure plan's two steps.

- body ``{"cancellationReason": "compromise"}`` (the only documented value; others 400/900307)
  and an app+user token ("Partners must be Global Administrators with Admin Agent roles to
  cancel"): learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription;
- "Expect about 10 mins for the status to be reflected (that is, active to inactive)" (same
  page); meanwhile the plan PATCH answers 403/900115 (developer/error-codes): carry_out sends
  the cancels and says the plan waits, without sending the PATCH, and suspends it once none is
  active.

Each of these failed on the code before (free-text reason, app-only token, plan suspended at
once and the 403 failing the item).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from partner_center import Action, PartnerCenterClient, SubscriptionStatus, carry_out, plan_removal
from partner_center.actions import AzureCancellationPending
from partner_center.blockers import is_azure_plan
from partner_center.client import AZURE_CANCELLATION_REASON
from tests._helpers import customer_named, operator, sandbox_requests


class _Recording:
    """Wraps the transport's token provider and session: which calls asked for app+user, and bodies."""

    def __init__(self, client: PartnerCenterClient) -> None:
        transport = client._transport
        self.tokens, self.session = transport._tokens, transport._session
        self.sent: list[tuple[str, str, Any, bool]] = []
        self._needs_user = False
        transport._tokens, transport._session = self, self

    async def access_token(self, *, needs_user: bool) -> str:
        self._needs_user = needs_user
        return await self.tokens.access_token(needs_user=needs_user)

    async def forget(self, token: str) -> None:
        await self.tokens.forget(token)

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        self.sent.append((method, str(url), kwargs.get("json"), self._needs_user))
        return self.session.request(method, url, **kwargs)


async def _contoso_plan(client: PartnerCenterClient) -> tuple[str, Any]:
    contoso = await customer_named(client, "Contoso Ltd")
    [plan] = [s for s in await client.list_subscriptions(contoso.id) if is_azure_plan(s)]
    return contoso.id, plan


async def test_the_cancel_sends_compromise_with_an_app_user_token(client: PartnerCenterClient) -> None:
    customer_id, plan = await _contoso_plan(client)
    [first, _] = await client.list_azure_entitlements(customer_id, plan.id)
    recording = _Recording(client)
    await client.cancel_azure_entitlement(customer_id, plan.id, first.id)
    [(method, url, body, needs_user)] = recording.sent
    assert method == "POST" and url.endswith(f"/azureEntitlements/{first.id}/cancel")
    assert body == {"cancellationReason": "compromise"} and AZURE_CANCELLATION_REASON == "compromise"
    assert needs_user is True


async def test_carry_out_cancels_then_waits_then_suspends_the_plan(
    client: PartnerCenterClient, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    customer_id, plan = await _contoso_plan(client)
    contoso = await customer_named(client, "Contoso Ltd")
    removal = await plan_removal(client, contoso, now=sandbox.clock.now())
    [azure] = [b for b in removal.blockers if b.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN]
    await http.delete(f"{sandbox.base_url}/_sandbox/requests")

    with pytest.raises(AzureCancellationPending) as waiting:
        await carry_out(client, customer_id, azure)
    assert set(waiting.value.active_ids) == set(azure.azure_subscription_ids)
    log = await sandbox_requests(http, sandbox)
    cancels = [r for r in log if r["method"] == "POST" and r["path"].endswith("/cancel")]
    assert len(cancels) == 2 and all(r["status"] == 202 for r in cancels)
    assert not [r for r in log if r["method"] == "PATCH"]  # no suspend sent while Azure applies it

    # Nine minutes later: still applying (the workflow runs the item again only once none reads
    # active: see tests/dialogs/test_azure_plan.py); the plan untouched.
    await operator(http, sandbox, "clock", {"advanceHours": 9 / 60})
    assert {e.status for e in await client.list_azure_entitlements(customer_id, plan.id)} == {"active"}
    assert (await client.get_subscription(customer_id, plan.id)).status is SubscriptionStatus.ACTIVE

    # Ten minutes after the cancels: inactive, and the plan is suspended.
    await operator(http, sandbox, "clock", {"advanceHours": 1 / 60})
    await carry_out(client, customer_id, azure)
    assert {e.status for e in await client.list_azure_entitlements(customer_id, plan.id)} == {"inactive"}
    assert (await client.get_subscription(customer_id, plan.id)).status is SubscriptionStatus.SUSPENDED
