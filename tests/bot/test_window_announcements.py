"""Refund and cancellation windows about to close are told to the approvers once, with the amount
at stake (issue 21): over real HTTP, the app on the embedded sandbox and the recording connector
as Teams, on the sandbox clock. Proseware (the sandbox's demo customer) bought Microsoft 365
Business Premium whose cancellation and the refund of 20 of its 25 seats end 30 hours after the
sandbox starts; the 5 seats added since can be reduced 4 days longer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import aiohttp
import pytest

from app import SANDBOX, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bot.settings import Settings
from bot.windows import WINDOWS
from cards.money import amount_text
from partner_center.money import Amount, closing_windows
from removal import RemovalCase
from tests.bot.teams import CHANNEL_THREAD, TENANT, Teams, card_with, eventually
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

CHANNEL = CHANNEL_THREAD.split(";", 1)[0]
BOB = "00000000-0000-0000-0000-0000000000b2"  # an approver with a personal chat with the bot
AS_BOB = {"id": "29:bob", "name": "Bob Approver", "aadObjectId": BOB}
BOB_CHAT = "a:1:personal-bob"
SUBSCRIPTION = "Microsoft 365 Business Premium - Proseware"


@pytest.fixture
async def bot(aiohttp_server: Any) -> AsyncIterator[tuple[Teams, Any]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    settings = Settings(_env_file=None, sandbox_port=0, notify_channels=[CHANNEL], approvers=[BOB], window_warn_hours=48)
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        yield Teams(http, str(server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector), app
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)


def _announcements(teams: Teams, conversation_id: str) -> list[Any]:
    """The window announcements posted in ``conversation_id`` (the channel, or a 1:1 chat)."""
    return [
        call
        for call in teams.connector.sent
        if call.conversation_id == conversation_id
        and call.card
        and SUBSCRIPTION in card_text(call.card)
        and "Proseware" in card_text(call.card)
    ]


async def _advance(teams: Teams, app: Any, hours: float) -> None:
    async with teams.http.post(f"{app[SANDBOX].base_url}/_sandbox/clock", json={"advanceHours": hours}) as response:
        assert response.status == 200


async def _case(app: Any, teams: Teams) -> RemovalCase:
    case_id = button_data(card_with(teams.connector, "cancel_case")[1], "cancel_case")["caseId"]
    stored = await app[STORE].read(f"cases/{case_id}")
    return RemovalCase.model_validate(stored.document)


async def test_a_refund_window_30_hours_from_closing_is_announced_once_with_the_amount(bot: tuple[Teams, Any]) -> None:
    teams, app = bot
    # Bob (an approver) has talked with the bot: it can reach him 1:1.
    status, _, _ = await teams.post(
        teams._activity(  # noqa: SLF001
            type="message",
            text="help",
            **{"from": AS_BOB},
            conversation={"id": BOB_CHAT, "conversationType": "personal", "tenantId": TENANT},
            channelData={"tenant": {"id": TENANT}},
        )
    )
    assert status in (200, 201)
    assert await teams.say("remove Proseware") in (200, 201)
    await eventually(lambda: _has(teams, "cancel_case"), timeout=10, what="the case's card")
    case = await _case(app, teams)
    item = next(i for i in case.blocker_items if i.name == SUBSCRIPTION)
    assert item.money is not None  # the plan read what Partner Center says about its price and windows
    now = app[SANDBOX].clock.now()
    [closing] = closing_windows([item], now, timedelta(hours=48))
    assert timedelta(hours=29) < closing.window_end - now <= timedelta(hours=30)
    assert closing.amount_at_stake.value is not None and closing.amount_at_stake.value > 0  # a price, not "no price"
    amount = amount_text(closing.amount_at_stake, "en-US")

    await app[WINDOWS].check_all()
    await app[WINDOWS].check_all()  # the next round (or another instance): nothing more
    await _advance(teams, app, 2)
    await app[WINDOWS].check_all()  # still closing within 48 hours, and announced already

    [in_channel] = _announcements(teams, CHANNEL)
    assert amount in card_text(in_channel.card)
    [to_bob] = await eventually(lambda: _async(_announcements(teams, BOB_CHAT)), timeout=5, what="Bob's 1:1 announcement")
    assert amount in card_text(to_bob.card)
    stored = await _case(app, teams)
    assert stored.windows_announced == [f"window:{item.key}:{closing.window_end.isoformat()}"]


def _seeded_partial_refund(seats: int, term_ends: datetime, now: datetime) -> Decimal:
    """By hand from pc_sandbox/seed.json: Microsoft 365 Business Premium at 22.00 a seat a month,
    bought on a one-year term less than a month ago: the billing period is the term's first month
    (term end - 12 months to term end - 11 months); a prorated refund counts its whole days left."""
    start = term_ends.replace(year=term_ends.year - 1)
    end = start.replace(month=start.month % 12 + 1, year=start.year + (start.month == 12))
    days_left, days = (end.date() - now.date()).days, (end.date() - start.date()).days
    return (Decimal("22.00") * seats * days_left / days).quantize(Decimal("0.01"), ROUND_HALF_UP)


async def test_the_cancellation_date_announces_the_20_seats_not_reducible_later(bot: tuple[Teams, Any]) -> None:
    teams, app = bot
    assert await teams.say("remove Proseware") in (200, 201)
    await eventually(lambda: _has(teams, "cancel_case"), timeout=10, what="the case's card")
    item = next(i for i in (await _case(app, teams)).blocker_items if i.name == SUBSCRIPTION)
    assert item.term_ends is not None
    now = app[SANDBOX].clock.now()
    expected = _seeded_partial_refund(20, item.term_ends, now)  # not 25: 5 seats stay reducible 4 days
    await app[WINDOWS].check_all()
    [in_channel] = _announcements(teams, CHANNEL)
    assert amount_text(Amount(value=expected, currency="USD"), "en-US") in card_text(in_channel.card)


async def test_the_5_seats_added_later_are_announced_once_inside_the_warning_time(bot: tuple[Teams, Any]) -> None:
    teams, app = bot
    assert await teams.say("remove Proseware") in (200, 201)
    await eventually(lambda: _has(teams, "cancel_case"), timeout=10, what="the case's card")
    await app[WINDOWS].check_all()  # the cancellation date (30 h) only: the tranche is 4 days out
    assert len((await _case(app, teams)).windows_announced) == 1
    await _advance(teams, app, 31)  # past the cancellation date, not yet inside 48 h of the tranche
    await app[WINDOWS].check_all()
    assert len((await _case(app, teams)).windows_announced) == 1
    await _advance(teams, app, 24)  # the tranche's window is now 41 hours away
    await app[WINDOWS].check_all()
    await app[WINDOWS].check_all()
    case = await _case(app, teams)
    assert len(case.windows_announced) == 2
    item = next(i for i in case.blocker_items if i.name == SUBSCRIPTION)
    assert item.term_ends is not None
    expected = _seeded_partial_refund(5, item.term_ends, app[SANDBOX].clock.now())
    announcements = _announcements(teams, CHANNEL)
    assert len(announcements) == 2
    assert amount_text(Amount(value=expected, currency="USD"), "en-US") in card_text(announcements[-1].card)


async def _has(teams: Teams, verb: str) -> bool:
    try:
        card_with(teams.connector, verb)
    except AssertionError:
        return False
    return True


async def _async(value: Any) -> Any:
    return value
