""" "Removed" is confirmed positively, over HTTP against the sandbox (issue 17, audit #8, #9, §3.13).

The documented signals of a removal (developer/remove-a-reseller-relationship-with-a-customer.md,
remove-a-relationship.md): a read showing ``relationshipToPartner: none``, or the customer gone
from the customer list. A 403/20002 is not one (microsoft/Partner-Smart-Office#12: it also comes
from a DAP/GDAP revocation), 3000 is "400 Invalid property" (error-codes.md), and what
``GET /v1/customers/{id}`` answers after a removal is undocumented: the sandbox's
``removed_customer_read`` knob plays each variant.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest

from partner_center import PartnerCenterClient, PartnerCenterError, Relationship
from partner_center.errors import NoRelationshipError, RemovalUnclearError, error_from_response
from pc_sandbox.state import STATE
from tests._helpers import customer_named, sandbox_requests


def knobs(sandbox: Any, **changes: Any) -> None:
    state = sandbox.app[STATE]
    state.options = dataclasses.replace(state.options, **changes)


async def _patches(http: aiohttp.ClientSession, sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]


def test_3000_is_invalid_property_not_no_relationship() -> None:
    # Before: any 3000 (and 20002 at any status) became NoRelationshipError ("not ours any more").
    error = error_from_response(400, {"code": 3000, "description": "Invalid property"}, correlation_id="c", request_id="r")
    assert not isinstance(error, NoRelationshipError)
    assert (error.status, error.code, error.description) == (400, "3000", "Invalid property")
    assert isinstance(error_from_response(403, {"code": 20002, "description": "x"}, correlation_id="", request_id=""), NoRelationshipError)


@pytest.mark.parametrize(("read", "confirmed_by"), [("200", "read"), ("403", "list"), ("404", "list")])
async def test_each_post_removal_read_variant(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession, read: str, confirmed_by: str
) -> None:
    fabrikam = await customer_named(client, "Fabrikam Inc")
    knobs(sandbox, removed_customer_read=read)
    result = await client.remove_relationship(fabrikam.id, domain=fabrikam.domain)
    assert not result.already_removed and result.request_id
    # 200 none is read as none; 403/20002 and 404 prove nothing, so the customer list decides.
    assert result.confirmed_by == confirmed_by
    expected = Relationship.NONE if read == "200" else Relationship.UNKNOWN
    if read == "404":
        with pytest.raises(PartnerCenterError):
            await client.read_relationship(fabrikam.id)
    else:
        assert await client.read_relationship(fabrikam.id) is expected
    assert "Fabrikam Inc" not in [c.name for c in await client.find_customers("CompanyName", "Fabrikam")]
    # A repeat with the read answering 403/404: the PATCH is sent again (the pre-read proves
    # nothing) and the list confirms; with 200 none the pre-read confirms and nothing is sent.
    before = len(await _patches(http, sandbox))
    again = await client.remove_relationship(fabrikam.id, domain=fabrikam.domain)
    assert again.already_removed
    assert len(await _patches(http, sandbox)) == before + (0 if read == "200" else 1)


@pytest.mark.parametrize("answer", ["400-3000", "403-20002"])
async def test_a_refused_patch_with_the_relationship_still_there_is_a_refusal(
    client: PartnerCenterClient, sandbox: Any, answer: str
) -> None:
    fabrikam = await customer_named(client, "Fabrikam Inc")
    knobs(sandbox, removal_patch_answer=answer)
    with pytest.raises(PartnerCenterError) as refused:
        await client.remove_relationship(fabrikam.id, domain=fabrikam.domain)
    # Partner Center's own status and code, not "accepted but still reads as reseller".
    status, code = answer.split("-")
    assert (refused.value.status, refused.value.code) == (int(status), code)
    assert "accepted" not in refused.value.description
    assert not isinstance(refused.value, RemovalUnclearError)
    assert await client.read_relationship(fabrikam.id) is Relationship.RESELLER


@pytest.mark.parametrize("answer", ["400-3000", "403-20002"])
async def test_a_refused_patch_that_cannot_be_read_back_is_unclear(client: PartnerCenterClient, sandbox: Any, answer: str) -> None:
    fabrikam = await customer_named(client, "Fabrikam Inc")
    # The customer revoked DAP/GDAP: every read of it answers 403/20002 while it is still ours.
    knobs(sandbox, removal_patch_answer=answer, delegated_access_revoked=True)
    with pytest.raises(RemovalUnclearError) as unclear:
        await client.remove_relationship(fabrikam.id, domain=fabrikam.domain)
    assert unclear.value.description.startswith("Unclear: check in Partner Center")
    assert unclear.value.code == answer.split("-")[1]
    assert "Fabrikam Inc" in [c.name for c in await client.find_customers("CompanyName", "Fabrikam")]


async def test_a_403_on_the_pre_read_does_not_skip_the_patch(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    # Before: the pre-read's 403/20002 read as "none", nothing was sent, and it was "already removed".
    fabrikam = await customer_named(client, "Fabrikam Inc")
    knobs(sandbox, delegated_access_revoked=True)
    assert await client.read_relationship(fabrikam.id) is Relationship.UNKNOWN
    result = await client.remove_relationship(fabrikam.id, domain=fabrikam.domain)
    assert len(await _patches(http, sandbox)) == 1
    # Once removed, the (default) read answers 200 none: that confirms it.
    assert not result.already_removed and result.request_id and result.confirmed_by == "read"
    assert "Fabrikam Inc" not in [c.name for c in await client.find_customers("CompanyName", "Fabrikam")]


async def test_without_a_domain_the_whole_list_is_checked(client: PartnerCenterClient, sandbox: Any) -> None:
    fabrikam = await customer_named(client, "Fabrikam Inc")
    knobs(sandbox, removed_customer_read="404")
    result = await client.remove_relationship(fabrikam.id)
    assert result.confirmed_by == "list"
