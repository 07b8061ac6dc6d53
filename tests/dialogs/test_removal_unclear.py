"""A refused or unclear removal is never shown as removed, in the card or in the audit (issue 17).

Through the whole bot (TestAdapter) against the sandbox, whose knobs make the removal PATCH
answer 400/3000 ("Invalid property", error-codes.md) or 403/20002, make reads of the customer
answer 403/20002 (a customer that revoked DAP/GDAP, microsoft/Partner-Smart-Office#12), and
refuse app+user calls without MFA (401/900421).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest

from bench.buttons import button_data
from partner_center import PartnerCenterClient, Relationship
from pc_sandbox.state import STATE
from removal import CaseState
from tests._helpers import sandbox_requests
from tests.dialogs.harness import BOB, Conversation, card_text


def knobs(sandbox: Any, **changes: Any) -> None:
    state = sandbox.app[STATE]
    state.options = dataclasses.replace(state.options, **changes)


async def _confirm_fabrikam(chat: Conversation) -> tuple[str, dict[str, Any]]:
    """Fabrikam Inc: nothing blocks, so the first answer is the final confirmation."""
    turn = await chat.say("remove Fabrikam Inc")
    final = turn.cards[-1]
    return button_data(final, "confirm_removal")["caseId"], final


async def _remove(chat: Conversation, final: dict[str, Any]) -> dict[str, Any]:
    await chat.click("confirm_removal", button_data(final, "confirm_removal"), user=BOB)
    await chat.settle()
    return chat.updates[-1]


@pytest.mark.parametrize(("answer", "code"), [("400-3000", "3000"), ("403-20002", "20002")])
async def test_a_refused_removal_is_shown_as_refused_and_audited_so(
    client: PartnerCenterClient, sandbox: Any, answer: str, code: str
) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    case_id, final = await _confirm_fabrikam(chat)
    knobs(sandbox, removal_patch_answer=answer)
    card = await _remove(chat, final)
    text = card_text(card)
    # Before: 3000 and 20002 meant "no relationship", and the card said "The removal was
    # accepted but the customer still reads as 'reseller'" with Partner Center's code lost.
    assert "Partner Center refused" in text and code in text and "accepted" not in text
    case = await chat.store.get(case_id)
    assert case.state is CaseState.FAILED and case.removed_at is None
    assert case.error is not None and case.error.code == code
    history = await chat.audit.history(case.customer.id)
    outcome = [e for e in history if e["action"].startswith("removal.") and e["action"] != "removal.started"][-1]
    assert outcome["action"] == "removal.failed" and outcome["result"] == "failed"
    assert not [e for e in history if e["action"] == "removal.done"]
    assert await client.read_relationship(case.customer.id) is Relationship.RESELLER


@pytest.mark.parametrize(("locale", "words"), [("en-US", "Unclear"), ("fr-FR", "Incertain"), ("ru-RU", "Неясно")])
async def test_an_unclear_removal_is_shown_as_unclear_never_removed(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession, locale: str, words: str
) -> None:
    chat = Conversation(client, clock=sandbox.clock.now, locale=locale)
    case_id, final = await _confirm_fabrikam(chat)
    # The PATCH is refused with 3000 and the customer cannot be read back (403/20002) while it
    # is still in the customer list: nothing confirms either outcome.
    knobs(sandbox, removal_patch_answer="400-3000", delegated_access_revoked=True)
    card = await _remove(chat, final)
    text = card_text(card)
    assert words in text and "3000" in text
    assert "https://admin.microsoft.com/" not in text  # not the result card
    case = await chat.store.get(case_id)
    assert case.state is CaseState.FAILED and case.removed_at is None
    assert case.error is not None and case.error.reason == "removal_unclear"
    assert case.error.description.startswith("Unclear: check in Partner Center")
    history = await chat.audit.history(case.customer.id)
    [outcome] = [e for e in history if e["action"] == "removal.unclear"]
    assert outcome["result"] == "unclear" and "Unclear: check in Partner Center" in outcome["detail"]
    assert not [e for e in history if e["action"] == "removal.done"]


async def test_a_resumed_removal_with_a_403_pre_read_sends_the_patch(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    """A customer that revoked DAP/GDAP reads as 403/20002. Before: the removal took that for
    "relationship already none", sent nothing and recorded REMOVED while the customer was still
    a reseller. Now the PATCH is sent and the removal confirmed by a positive signal."""
    chat = Conversation(client, clock=sandbox.clock.now)
    case_id, final = await _confirm_fabrikam(chat)
    knobs(sandbox, delegated_access_revoked=True, removed_customer_read="403")
    await _remove(chat, final)
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert len(patches) == 1
    case = await chat.store.get(case_id)
    assert case.state is CaseState.REMOVED
    history = await chat.audit.history(case.customer.id)
    [done] = [e for e in history if e["action"] == "removal.done"]
    assert done["detail"] == "relationship confirmed none by list"
    assert "Fabrikam Inc" not in [c.name for c in await client.find_customers("CompanyName", "Fabrikam")]


async def test_a_403_pre_read_and_a_refused_patch_is_not_removed(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    case_id, final = await _confirm_fabrikam(chat)
    knobs(sandbox, delegated_access_revoked=True, removal_patch_answer="403-20002")
    await _remove(chat, final)
    case = await chat.store.get(case_id)
    assert case.state is CaseState.FAILED and case.error.reason == "removal_unclear"


async def test_mfa_refusal_of_the_removal_says_the_consent_must_be_renewed(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    case_id, final = await _confirm_fabrikam(chat)
    knobs(sandbox, mfa_enforced=True, user_mfa=False)
    # The app+user token the plan was read with came from an MFA sign-in; make it one without.
    tokens = sandbox.app[STATE].tokens._tokens
    for value, issued in list(tokens.items()):
        tokens[value] = dataclasses.replace(issued, mfa=False)
    card = await _remove(chat, final)
    assert "The consent must be renewed by a person with MFA" in card_text(card)
    case = await chat.store.get(case_id)
    assert case.state is CaseState.FAILED and case.error.code == "900421"
