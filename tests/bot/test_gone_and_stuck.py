"""Nothing half-done in silence (issue 16), over real HTTP: the app, a sandbox on a socket, and a
recording Teams that can throw the bot out of a conversation.

- The bot is removed from the case's team while the case is being carried out: the case still
  gets to its final confirmation, which reaches the requester 1:1 and the notification channel
  (in another team); a click there removes the relationship, and the result goes there too. The
  resume sweep reads nothing more from Partner Center once the case has moved on.
- Partner Center fails the re-check for ever and Teams refuses everything in the case's
  conversation: within the configured number of attempts the case is failed as needing a person,
  and that is announced once.
- Partner Center refuses one item (a 4xx) while Teams refuses the case's conversation: the failed
  item is announced once, and the question it raises goes to the channel and the requester.

The sandbox's request log is the witness of what reached Partner Center.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import app as app_module
from app import BACKGROUND, STORE, create_app
from bench.buttons import button_data, buttons
from bench.connector import Recorded, RecordingConnector
from bot.settings import Settings
from partner_center import RetryPolicy, connect
from pc_sandbox import RunningSandbox, SandboxOptions, running_sandbox
from removal import CaseState
from removal.audit import AuditTrail
from removal.case import NEEDS_PERSON
from removal.store import CaseStore
from tests._helpers import operator, sandbox_requests
from tests.bot.teams import CHANNEL_THREAD, TENANT, Teams, eventually
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

REPO = Path(__file__).resolve().parents[2]
CASE_CHANNEL = CHANNEL_THREAD.split(";", 1)[0]  # the channel the removal is asked in (its team loses the bot)
NOTIFY_CHANNEL = "19:offboarding-ops@thread.tacv2"  # the notification channel, in another team
PERSONAL = "a:1:1-29:ann"  # the 1:1 chat the recording connector opens with the requester
_QUICK_RETRY = RetryPolicy(attempts=4, timeout_seconds=10, wait_initial=0.05, wait_max=0.3, wait_jitter=0.05)


@dataclass
class TeamsWithoutTheBot(RecordingConnector):
    """A recording connector where conversations can lose the bot: every send, update and new
    thread there is answered 403 ``BotNotInConversationRoster``, as Teams does once the bot was
    removed from the team (the base connector's ``fail`` refuses sends only, a given number of times)."""

    gone: set[str] = field(default_factory=set)

    def remove_bot(self, *conversation_ids: str) -> None:
        self.gone.update(conversation_ids)

    def _refuse(self, conversation: str, body: dict[str, Any]) -> web.Response | None:
        if conversation in self.gone:
            self.refused.append(Recorded("refused 403", conversation, "", body))
            error = {"code": "BotNotInConversationRoster", "message": "The bot is not part of the conversation roster."}
            return web.json_response({"error": error}, status=403)
        return super()._refuse(conversation, body)

    async def _update(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        if conversation in self.gone:
            refused = self._refuse(conversation, await request.json())
            assert refused is not None
            return refused
        return await super()._update(request)


@dataclass
class Stack:
    teams: Teams
    app: Any
    sandbox: RunningSandbox
    connector: TeamsWithoutTheBot
    http: aiohttp.ClientSession

    async def case(self) -> Any:
        keys = await self.app[STORE].list_keys("cases/")
        [case] = [await CaseStore(self.app[STORE]).get(key.removeprefix("cases/")) for key in keys]
        return case

    async def reads(self, customer_id: str) -> int:
        """Partner Center reads about the customer so far (the sandbox's log)."""
        requests = await sandbox_requests(self.http, self.sandbox)
        return sum(1 for r in requests if r["method"] == "GET" and f"/customers/{customer_id}" in r["path"])

    def sent_to(self, conversation_id: str) -> list[Recorded]:
        return [call for call in self.connector.sent if call.conversation_id == conversation_id]

    async def audit_actions(self) -> list[str]:
        return [record["action"] for _, record in await AuditTrail(self.app[STORE]).everything()]


def _seed(path: Path, *, name: str, customer_id: str, legacy: int) -> str:
    seed = json.loads((REPO / "pc_sandbox/seed.json").read_text(encoding="utf-8"))
    seed["customers"].append(
        {
            "id": customer_id,
            "companyName": name,
            "domain": f"{name.split()[0].lower()}.onmicrosoft.com",
            "generate": {"legacyActive": legacy, "legacyOffers": ["O365_E3"], "friendlyNameFormat": "{offerName} - Store {number:02d}"},
        }
    )
    path.write_text(json.dumps(seed), encoding="utf-8")
    return str(path)


@asynccontextmanager
async def _stack(aiohttp_server: Any, tmp_path: Path, options: SandboxOptions, **settings: Any) -> AsyncIterator[Stack]:
    connector = TeamsWithoutTheBot()
    connector_server = await aiohttp_server(connector.app())
    async with running_sandbox(options=options) as sandbox:
        bot = create_app(
            Settings(
                _env_file=None,
                sandbox_url=sandbox.base_url,
                storage="sqlite",
                sqlite_path=tmp_path / "offboard.db",
                requests_per_minute=100_000,
                notify_channels=[NOTIFY_CHANNEL],
                resume_interval_seconds=0.2,
                **settings,
            )
        )
        bot_server = await aiohttp_server(bot)
        async with aiohttp.ClientSession() as http:
            teams = Teams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
            stack = Stack(teams, bot, sandbox, connector, http)
            await _install_in_the_notification_channel(teams)
            yield stack
            await bot[BACKGROUND].drain()
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)


async def _install_in_the_notification_channel(teams: Teams) -> None:
    """The bot learns where the notification channel is from an activity there."""
    status, _, _ = await teams.post(
        teams._activity(  # noqa: SLF001
            type="message",
            text="<at>Offboard</at> help",
            entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": "<at>Offboard</at>"}],
            conversation={"id": f"{NOTIFY_CHANNEL};messageid=7", "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
            channelData={"tenant": {"id": TENANT}, "team": {"id": "19:ops-team@thread.tacv2"}, "channel": {"id": NOTIFY_CHANNEL}},
        )
    )
    assert status in (200, 201)


def _with(calls: list[Recorded], verb: str) -> list[Recorded]:
    return [call for call in calls if call.card and verb in {b["verb"] for b in buttons(call.card).values()}]


async def _approve_all(stack: Stack) -> None:
    [(card_id, card)] = [(c.activity_id, c.card) for c in _with(stack.connector.calls, "approve_all")][-1:]
    status, _, _ = await stack.teams.click(card_id, "approve_all", button_data(card, "approve_all"))
    assert status == 200


async def _click_in_the_personal_chat(teams: Teams, card_id: str, verb: str, data: dict[str, Any]) -> tuple[int, Any]:
    """A click on a card in the requester's 1:1 chat with the bot (not in the case's channel)."""
    status, body, _ = await teams.post(
        teams._activity(  # noqa: SLF001
            type="invoke",
            name="adaptiveCard/action",
            replyToId=card_id,
            value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
            conversation={"id": PERSONAL, "conversationType": "personal", "tenantId": TENANT},
            channelData={"tenant": {"id": TENANT}},
        )
    )
    return status, body


# ---- The bot is removed from the case's team mid-execution ----

_GONE = "Gone Stores Ltd"
_GONE_ID = "5f0e0c5e-0000-4000-8000-000000000160"


async def test_the_bot_removed_from_the_team_mid_execution_finishes_the_case_in_the_channel_and_the_personal_chat(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    options = SandboxOptions(seed_path=_seed(tmp_path / "seed.json", name=_GONE, customer_id=_GONE_ID, legacy=30), latency_ms=120)
    async with _stack(aiohttp_server, tmp_path, options) as stack:
        assert await stack.teams.say(f"remove {_GONE}") == 201
        await _approve_all(stack)

        async def some_written() -> int:
            requests = await sandbox_requests(stack.http, stack.sandbox)
            return sum(1 for r in requests if r["method"] == "PATCH" and _GONE_ID in r["path"]) >= 3

        await eventually(some_written, timeout=30, what="3 suspensions")
        stack.connector.remove_bot(CHANNEL_THREAD, CASE_CHANNEL)  # the bot is removed from the team
        assert (await stack.case()).state is CaseState.EXECUTING, "removed mid-execution: slow the sandbox down"

        # The case gets to its final confirmation, and it reaches the channel and the requester.
        async def final_confirmation_delivered() -> bool:
            return bool(_with(stack.sent_to(NOTIFY_CHANNEL), "confirm_removal") and _with(stack.sent_to(PERSONAL), "confirm_removal"))

        await eventually(final_confirmation_delivered, timeout=60, what="the final confirmation in the channel and the 1:1 chat")
        case = await stack.case()
        assert case.state is CaseState.READY and case.conversation_gone_at is not None
        assert len(case.done) == 30 and not case.failed
        [thread] = _with(stack.sent_to(NOTIFY_CHANNEL), "confirm_removal")
        assert _GONE in card_text(thread.card) and "<at>Ann Admin</at>" in thread.body["text"]
        assert "can no longer post in the conversation" in thread.body["text"]
        # Teams said it once (or twice, for a card update under way meanwhile): the case remembers.
        assert 1 <= len([r for r in stack.connector.refused if r.conversation_id == CHANNEL_THREAD]) <= 2
        assert "case.conversation_gone" in await stack.audit_actions()

        # The resume sweep (every 0.2 s) leaves the case alone: no Partner Center read while it waits.
        reads = await stack.reads(_GONE_ID)
        await asyncio.sleep(2.0)
        assert await stack.reads(_GONE_ID) == reads, "the sweep must not re-read Partner Center for a case that has moved on"

        # The requester confirms in the 1:1 chat: the relationship is removed, and they are told there.
        [personal] = _with(stack.sent_to(PERSONAL), "confirm_removal")
        status, _ = await _click_in_the_personal_chat(
            stack.teams, personal.activity_id, "confirm_removal", button_data(personal.card, "confirm_removal")
        )
        assert status == 200
        await stack.app[BACKGROUND].drain()
        await eventually(lambda: _removed(stack), timeout=30, what="the removal")
        assert stack.sandbox.world.customers[_GONE_ID].relationship == "none"
        results = [c for c in stack.sent_to(NOTIFY_CHANNEL) if c.card and "is removed" in card_text(c.card)]
        assert len(results) == 1, "the result card (with the link to re-establish) goes to the channel"
        assert any(c.card and "is removed" in card_text(c.card) for c in stack.sent_to(PERSONAL))
        reads = await stack.reads(_GONE_ID)
        await asyncio.sleep(1.0)
        assert await stack.reads(_GONE_ID) == reads
    print(f"\n{len(stack.connector.refused)} sends refused by Teams; {reads} Partner Center reads in all")


async def _removed(stack: Stack) -> bool:
    return (await stack.case()).state is CaseState.REMOVED


# ---- Partner Center fails the re-check for ever, Teams refuses the case's conversation ----

_STUCK = "Stuck Stores Ltd"
_STUCK_ID = "5f0e0c5e-0000-4000-8000-000000000161"


async def test_a_case_failing_the_same_way_again_and_again_ends_as_needing_a_person_announced_once(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "connect", functools.partial(connect, retry=_QUICK_RETRY))
    options = SandboxOptions(seed_path=_seed(tmp_path / "seed.json", name=_STUCK, customer_id=_STUCK_ID, legacy=3))
    async with _stack(aiohttp_server, tmp_path, options, max_case_attempts=3, case_backoff_max_seconds=0.5) as stack:
        assert await stack.teams.say(f"remove {_STUCK}") == 201
        # From now on the re-check's reads fail (5xx: "not answering") while Partner Center
        # answers the sweep's probe: the case pauses, resumes, pauses again...
        await operator(
            stack.http, stack.sandbox, "faults", {"count": 100_000, "status": 503, "method": "GET", "pathContains": "/entitlements"}
        )
        stack.connector.remove_bot(CHANNEL_THREAD, CASE_CHANNEL)  # ...and Teams refuses everything there
        await _approve_all(stack)

        async def given_up() -> bool:
            return (await stack.case()).state is CaseState.FAILED

        await eventually(given_up, timeout=60, what="the case to be failed as needing a person")
        await stack.app[BACKGROUND].drain()  # the state is saved first, then people are told
        case = await stack.case()
        assert case.error is not None and case.error.reason == NEEDS_PERSON
        assert (case.failed_attempts.count, case.failed_attempts.kind) == (3, "unavailable"), case.failed_attempts
        assert len(case.done) == 3, "what was carried out stays carried out"
        actions = await stack.audit_actions()
        assert actions.count("case.paused") == 2 and actions.count("case.needs_person") == 1

        # Nothing more is read. (The last re-check's other reads may still be retrying when the
        # case gives up, as asyncio.gather leaves them running: let them end first.)
        reads = await eventually(lambda: _settled_reads(stack, _STUCK_ID), timeout=10, what="the last reads to end")
        await asyncio.sleep(1.5)  # several sweeps
        assert await stack.reads(_STUCK_ID) == reads, "nothing more is read once a person is needed"
        # Announced once, in the channel and to the requester (paused/resumed cards are not re-routed).
        [announced] = stack.sent_to(NOTIFY_CHANNEL)
        assert _STUCK in card_text(announced.card)
        [personal] = stack.sent_to(PERSONAL)
        assert _STUCK in card_text(personal.card)
        # The status card (from any chat: "Show status") says why, in the reader's language.
        assert "a person needs to look at this case" in card_text(await _status_card(stack, case.id))
    print(f"\ngave up after {case.failed_attempts.count} attempts; {reads} Partner Center reads in all")


async def _settled_reads(stack: Stack, customer_id: str) -> int:
    """The customer's read count once it stays the same for half a second (0 while it moves)."""
    before = await stack.reads(customer_id)
    await asyncio.sleep(0.5)
    return before if await stack.reads(customer_id) == before else 0


async def _status_card(stack: Stack, case_id: str) -> dict[str, Any]:
    status, body, _ = await stack.teams.click("any", "status_page", {"caseId": case_id, "page": 0})
    assert status == 200
    return body["value"]


# ---- Partner Center refuses one item, Teams refuses the case's conversation ----


async def test_an_item_partner_center_refuses_is_announced_once_and_asked_about_in_the_channel(aiohttp_server: Any, tmp_path: Path) -> None:
    async with _stack(aiohttp_server, tmp_path, SandboxOptions()) as stack:
        assert await stack.teams.say("remove Wingtip Toys") == 201  # its Azure plan: to suspend
        case = await stack.case()
        [plan] = [item for item in case.items if item.kind.value == "azure_plan"]
        # Someone creates an Azure subscription under the plan: suspending it is now refused (403).
        await operator(
            stack.http,
            stack.sandbox,
            f"customers/{case.customer.id}/subscriptions/{plan.item_id}/azureEntitlements",
            {"friendlyName": "New prod"},
        )
        stack.connector.remove_bot(CHANNEL_THREAD, CASE_CHANNEL)
        await _approve_all(stack)
        await stack.app[BACKGROUND].drain()

        case = await stack.case()
        assert case.state is CaseState.AWAITING_APPROVAL, "the changed item is asked about again"
        item = case.item(plan.key)
        assert item is not None and item.since_plan == "changed"
        threads = stack.sent_to(NOTIFY_CHANNEL)
        failed = [c for c in threads if c.card and plan.name in card_text(c.card) and not _with([c], "decide")]
        assert len(failed) == 1, [card_text(c.card) for c in threads if c.card]
        assert _with(threads, "decide"), "the new question goes to the channel"
        assert _with(stack.sent_to(PERSONAL), "decide"), "and to the requester"
        await asyncio.sleep(1.0)  # several sweeps: nothing is announced again
        assert len(stack.sent_to(NOTIFY_CHANNEL)) == len(threads)
