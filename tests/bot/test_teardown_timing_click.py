"""The plan card's teardown timing switch (``teardown_timing``): its payload read strictly, its
route refusing who may not decide, its answer the plan card as it now reads, once the approvals
are in a click that changes nothing; through the whole bot against the real sandbox."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from botbuilder.schema import Activity, ActivityTypes

from bench.buttons import button_data, buttons
from bot.card_actions import ChooseTeardownTiming, InvalidCardAction, card_action_of
from cards import Verb, t
from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, connect, connect_graph, token_provider
from removal import CaseState, RemovalCase
from removal.access import AccessPolicy
from removal.case import TeardownTiming
from tests._helpers import FAST_RETRY
from tests.dialogs.harness import ANN, BOB, Conversation, card_text


def _invoke(data: Any) -> Activity:
    value = {"action": {"type": "Action.Execute", "verb": "teardown_timing", "data": data}}
    return Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value=value)


def test_the_timing_is_read_as_before_or_after() -> None:
    clicked = card_action_of(_invoke({"caseId": "c1", "timing": "before"}))
    assert isinstance(clicked, ChooseTeardownTiming) and clicked.verb is Verb.TEARDOWN_TIMING
    assert clicked.timing is TeardownTiming.BEFORE and clicked.case_id == "c1"
    submitted = card_action_of(Activity(type=ActivityTypes.message, value={"verb": "teardown_timing", "caseId": "c1", "timing": "after"}))
    assert isinstance(submitted, ChooseTeardownTiming) and submitted.timing is TeardownTiming.AFTER


@pytest.mark.parametrize(
    "data",
    [
        {"caseId": "c1"},  # no timing: not read as the default
        {"caseId": "c1", "timing": ""},
        {"caseId": "c1", "timing": "soon"},
        {"caseId": "c1", "timing": "BEFORE"},
        {"caseId": "c1", "timing": ["before"]},
        {"timing": "before"},  # no case
        {"caseId": "../cases", "timing": "before"},
    ],
)
def test_anything_else_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidCardAction):
        card_action_of(_invoke(data))


# ---- Through the bot ----


def _conversation(sandbox: Any, http: aiohttp.ClientSession, access: AccessPolicy | None = None) -> Conversation:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)
    limits = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
    client = connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    graph = connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    return Conversation(client, clock=sandbox.clock.now, graph=graph, access=access)


@pytest.fixture
def chat(sandbox: Any, http: aiohttp.ClientSession) -> Conversation:
    return _conversation(sandbox, http)


async def _fabrikam(chat: Conversation) -> tuple[dict[str, Any], dict[str, Any], RemovalCase]:
    plan, step = (await chat.say("remove Fabrikam Inc")).cards
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.AWAITING_APPROVAL
    return plan, step, case


async def _timing_records(chat: Conversation, case: RemovalCase) -> list[dict[str, Any]]:
    return [record for record in await chat.audit.history(case.customer.id) if record["action"] == "teardown.timing"]


async def _stored(chat: Conversation, case_id: str) -> RemovalCase:
    case = await chat.store.get(case_id)
    assert case is not None
    return case


def _timing_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [button["data"] for button in buttons(card).values() if button["verb"] == "teardown_timing"]


async def test_switching_the_timing_answers_with_the_plan_showing_it_and_is_audited_once(chat: Conversation) -> None:
    plan, _, case = await _fabrikam(chat)
    assert _timing_buttons(plan) == [{"caseId": case.id, "timing": "before"}]  # after is the default
    chosen = await chat.click("teardown_timing", button_data(plan, "teardown_timing"))
    answer = chosen.invoke_card
    assert t("en-US", "access.heading") in card_text(answer) and "Fabrikam - Offboard support" in card_text(answer)
    assert _timing_buttons(answer) == [{"caseId": case.id, "timing": "after"}]  # and back
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.BEFORE
    [record] = await _timing_records(chat, case)
    assert record["detail"] == "before" and "Ann Admin" in record["actor"]

    # The same (now stale) button again, a double click or a Teams retry: the same plan, nothing more.
    again = await chat.click("teardown_timing", button_data(plan, "teardown_timing"))
    assert _timing_buttons(again.invoke_card) == [{"caseId": case.id, "timing": "after"}]
    assert len(await _timing_records(chat, case)) == 1

    back = await chat.click("teardown_timing", button_data(answer, "teardown_timing"))
    assert _timing_buttons(back.invoke_card) == [{"caseId": case.id, "timing": "before"}]
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.AFTER
    assert [record["detail"] for record in await _timing_records(chat, case)] == ["before", "after"]


async def test_only_an_approver_may_switch_it(sandbox: Any, http: aiohttp.ClientSession) -> None:
    chat = _conversation(sandbox, http, AccessPolicy(approvers=frozenset({BOB.aad_object_id})))
    plan, _, case = await _fabrikam(chat)
    refused = await chat.click("teardown_timing", button_data(plan, "teardown_timing"), user=ANN)
    assert t("en-US", "access.not_approver.title") in card_text(refused.invoke_card)
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.AFTER
    history = await chat.audit.history(case.customer.id)
    assert [(r["action"], r["detail"]) for r in history if r["result"] == "refused"] == [("refused.not_approver", "teardown_timing")]
    assert not await _timing_records(chat, case)

    await chat.click("teardown_timing", button_data(plan, "teardown_timing"), user=BOB)
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.BEFORE


async def test_once_everything_is_approved_the_timing_stays_and_the_plan_says_where_the_case_is(chat: Conversation) -> None:
    plan, step, case = await _fabrikam(chat)
    await chat.click("approve_all", button_data(step, "approve_all"))
    await chat.settle()
    assert (await _stored(chat, case.id)).state is CaseState.READY
    late = await chat.click("teardown_timing", button_data(plan, "teardown_timing"))
    assert t("en-US", "access.heading") in card_text(late.invoke_card)
    assert not _timing_buttons(late.invoke_card)  # nothing left to switch
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.AFTER
    assert not await _timing_records(chat, case)


async def test_a_forged_timing_is_refused_and_changes_nothing(chat: Conversation) -> None:
    _, _, case = await _fabrikam(chat)
    forged = await chat.click("teardown_timing", {"caseId": case.id, "timing": "never"})
    assert forged.invoke is not None and forged.invoke["statusCode"] == 400
    assert forged.invoke["value"]["message"] == t("en-US", "action.invalid")
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.AFTER
    unknown = await chat.click("teardown_timing", {"caseId": "no-such-case", "timing": "before"})
    assert t("en-US", "action.stale.title") in card_text(unknown.invoke_card)
