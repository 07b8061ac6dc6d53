"""The app over real HTTP: Teams-shaped activities in, a recording connector for Teams' side."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from app import BACKGROUND, CLIENT, SANDBOX
from bench.buttons import button_data, buttons
from partner_center import Relationship
from tests.bot.teams import CHANNEL_THREAD, Teams, card_with
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text


async def test_a_channel_message_with_a_mention_gets_the_plan_in_the_thread(teams: tuple[Teams, Any]) -> None:
    bot, _ = teams
    assert await bot.say("remove Wingtip Toys") == 201
    cards = [c.card for c in bot.connector.sent if c.card]
    assert cards and "Wingtip Toys" in card_text(cards[0])
    assert all(c.conversation_id == CHANNEL_THREAD for c in bot.connector.sent)
    for card in cards:
        assert_valid_card(card)


async def test_an_action_execute_click_is_answered_200_with_the_next_card(teams: tuple[Teams, Any]) -> None:
    # botbuilder 4.17.1 answers 500 to this; bot/http.py must not.
    bot, _ = teams
    await bot.say("remove Wingtip Toys")
    card_id, card = card_with(bot.connector, "decide")
    status, body, _ = await bot.click(card_id, "decide", button_data(card, "decide", decision="approve"))
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])


async def test_a_malformed_click_gets_an_error_invoke_response(teams: tuple[Teams, Any]) -> None:
    bot, _ = teams
    status, body, _ = await bot.click("x", "decide", {"caseId": ""})
    assert status == 400 and body["type"] == "application/vnd.microsoft.error"
    bad, _, _ = await bot.post({"type": "message"})  # not an activity Teams would send
    garbage_status = (
        await bot.http.post(f"{bot.bot_url}/api/messages", data=b"{not json", headers={"Content-Type": "application/json"})
    ).status
    assert garbage_status == 400 and bad == 400


async def test_health_reports_ready_with_reasons(teams: tuple[Teams, Any]) -> None:
    bot, _ = teams
    async with bot.http.get(f"{bot.bot_url}/healthz") as response:
        body = await response.json()
    assert response.status == 200 and body == {
        "ready": True,
        "status": "ok",
        "checks": {"storage": "ok", "partnerCenter": "ok", "partnerCenterToken": "ok"},
    }


async def test_full_removal_of_a_customer_with_mixed_blockers_over_http(teams: tuple[Teams, Any]) -> None:
    bot, app = teams
    assert await bot.say("remove Contoso Ltd") == 201
    timings: list[float] = []
    card_id, card = card_with(bot.connector, "decide")
    while any(b["verb"] == "decide" for b in buttons(card).values()):
        status, body, elapsed = await bot.click(card_id, "decide", button_data(card, "decide", decision="approve"))
        assert status == 200, body
        timings.append(elapsed)
        card = body["value"]
    await app[BACKGROUND].drain()
    # The status card (the last clicked card) was updated in place while the work ran.
    assert any(u.activity_id == card_id for u in bot.connector.updated)
    final_id, final = card_with(bot.connector, "confirm_removal")
    status, body, elapsed = await bot.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
    assert status == 200
    timings.append(elapsed)
    await app[BACKGROUND].drain()
    result = [u for u in bot.connector.updated if u.activity_id == final_id][-1].card
    assert_valid_card(result)
    assert "Contoso Ltd" in card_text(result)
    # Everyone scrolling back to the plan sees it is over: the plan message was redrawn, without its cancel button.
    plan = next(c for c in bot.connector.sent if c.card and "Removal plan" in card_text(c.card))
    redrawn = [u.card for u in bot.connector.updated if u.activity_id == plan.activity_id]
    assert redrawn and "Relationship removed" in card_text(redrawn[-1])
    assert "cancel_case" not in {b["verb"] for b in buttons(redrawn[-1]).values()}
    client = app[CLIENT]
    customer_id = button_data(final, "confirm_removal")["caseId"]
    assert customer_id
    [contoso_id] = [c["id"] for c in await _summary(bot.http, app) if c.get("companyName") == "Contoso Ltd"]
    assert await client.read_relationship(contoso_id) is Relationship.NONE
    assert max(timings) < 1.0, f"invoke answers took {timings}"
    print(f"\ninvoke response times (s): {[round(t, 3) for t in timings]}")


async def _summary(http: aiohttp.ClientSession, app: Any) -> list[dict[str, Any]]:
    async with http.get(f"{app[SANDBOX].base_url}/_sandbox/customers") as response:
        summary = await response.json()
    return summary["items"] if isinstance(summary, dict) else summary


async def test_action_submit_messages_advance_the_removal_too(teams: tuple[Teams, Any]) -> None:
    bot, _ = teams
    await bot.say("remove Wingtip Toys")
    _, card = card_with(bot.connector, "decide")
    before = len(bot.connector.sent)
    assert await bot.submit("decide", button_data(card, "decide", decision="approve")) == 201
    await asyncio.sleep(0)
    assert len(bot.connector.sent) > before


async def test_cancel_on_the_plan_card_keeps_the_plan_and_posts_the_cancelled_card(teams: tuple[Teams, Any]) -> None:
    """The plan message is redrawn on every state change: the click's answer there must be the plan
    too, or the two race and the loser vanishes (seen in the Playground: the cancelled card lost)."""
    bot, app = teams
    assert await bot.say("remove Contoso Pharma") == 201
    sent = next(c for c in bot.connector.sent if c.card and "Removal plan for Contoso Pharma" in card_text(c.card))
    plan_id, plan = sent.activity_id, sent.card
    status, body, _ = await bot.click(plan_id, "cancel_case", button_data(plan, "cancel_case"))
    await app[BACKGROUND].drain()
    assert status == 200
    answered = body["value"]
    assert "Removal plan for Contoso Pharma" in card_text(answered) and "Cancelled" in card_text(answered)
    assert "cancel_case" not in {b["verb"] for b in buttons(answered).values()}
    redrawn = [u.card for u in bot.connector.updated if u.activity_id == plan_id]
    assert all("Removal plan for Contoso Pharma" in card_text(card) for card in redrawn)  # never anything else there
    cancelled = [c for c in bot.connector.sent if c.card and "is cancelled" in card_text(c.card)]
    assert len(cancelled) == 1 and "Contoso Pharma" in card_text(cancelled[0].card)
