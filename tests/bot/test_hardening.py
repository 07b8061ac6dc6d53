"""Hardening (issue 9), over real HTTP: the real app, a sandbox on a socket, a recording Teams.

- Partner Center faults: 20 % 5xx before processing plus 5 % after it (the write applied, the
  answer lost), bursts of 429 and 2 s latency spikes: a 200-item case completes, each
  subscription changed exactly once.
- An outage in the middle of a case: the case pauses, says so in its language, and resumes on
  its own when Partner Center is back, each item still written once.

"No duplicate writes", precisely: a write is *effective* when the sandbox processed it — a PATCH
that reached the handler, which is every logged PATCH except those refused before processing
(an injected 5xx-before, a 429, an outage) and those answered from the idempotency store
(``replayed``: the retry of a write whose answer was lost, same MS-RequestId). A 5xx *after*
processing is effective (the change happened). Every subscription must have exactly one
effective PATCH, and the sandbox world must show exactly one change of it (its version moved
by one). Retries of refused attempts are fine and are counted, not forbidden.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import app as app_module
from app import BACKGROUND, SANDBOX, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bot.case_messages import CaseMessageBook
from bot.settings import Settings
from partner_center import RetryPolicy, connect
from pc_sandbox import RunningSandbox, SandboxOptions, running_sandbox
from removal import CaseState, Decision, Outcome
from removal.store import CaseStore
from tests._helpers import operator, sandbox_requests
from tests.bot.teams import Teams, card_with, eventually
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

REPO = Path(__file__).resolve().parents[2]
_REFUSED_BEFORE_PROCESSING = frozenset({"5xx-before", "429-burst", "outage-503", "outage-reset"})


# ---- The stack ----


@dataclass
class Stack:
    teams: Teams
    app: Any
    sandbox: RunningSandbox
    connector: RecordingConnector
    http: aiohttp.ClientSession

    async def case(self) -> Any:
        [case] = await CaseStore(self.app[STORE]).open_cases()
        return case

    def posted(self, needle: str) -> bool:
        """Whether a card sent or updated so far shows ``needle``."""
        return any(call.card and needle in card_text(call.card) for call in self.connector.calls)

    async def ready(self) -> bool:
        """The final confirmation is posted *and* the case is stored as ready: the workflow saves
        the state, then posts the card (state first, then messages), and the test wants both."""
        posted = any(call.card and "confirm_removal" in json.dumps(call.card) for call in self.connector.calls)
        return posted and (await self.case()).state is CaseState.READY


async def _until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    async def check() -> bool:
        return condition()

    await eventually(check, timeout=timeout, what=what)


def _seed(path: Path, *, name: str, customer_id: str, legacy: int, nce: int = 0) -> str:
    seed = json.loads((REPO / "pc_sandbox/seed.json").read_text(encoding="utf-8"))
    seed["customers"].append(
        {
            "id": customer_id,
            "companyName": name,
            "domain": f"{name.split()[0].lower()}.onmicrosoft.com",
            "generate": {
                "legacyActive": legacy,
                "nceInsideWindow": nce,
                "legacyOffers": ["O365_E3", "O365_E1"],
                "nceOffers": ["M365_BP_NCE"],
                "friendlyNameFormat": "{offerName} - Store {number:03d}",
            },
        }
    )
    path.write_text(json.dumps(seed), encoding="utf-8")
    return str(path)


@asynccontextmanager
async def _stack(aiohttp_server: Any, tmp_path: Path, options: SandboxOptions) -> AsyncIterator[Stack]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    async with running_sandbox(options=options) as sandbox:
        settings = Settings(
            _env_file=None,
            sandbox_url=sandbox.base_url,
            storage="sqlite",
            sqlite_path=tmp_path / "offboard.db",
            requests_per_minute=100_000,  # the sandbox's own faults are the subject, not our pacing
            resume_interval_seconds=0.3,
        )
        bot = create_app(settings)
        bot_server = await aiohttp_server(bot)
        async with aiohttp.ClientSession() as http:
            teams = Teams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
            yield Stack(teams, bot, sandbox, connector, http)
            await bot[BACKGROUND].drain()
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)


async def _say(teams: Teams, text: str, *, locale: str = "en-US") -> int:
    mention = "<at>Offboard</at>"
    status, _, _ = await teams.post(
        teams._activity(
            type="message",
            text=f"{mention} {text}",
            locale=locale,
            entities=[{"type": "mention", "mentioned": {"id": "28:offboard", "name": "Offboard"}, "text": mention}],
        )
    )
    return status


async def _approve_all(stack: Stack) -> None:
    card_id, card = card_with(stack.connector, "approve_all")
    status, _, _ = await stack.teams.click(card_id, "approve_all", button_data(card, "approve_all"))
    assert status == 200


# ---- Reading the sandbox's log ----


def _processed(request: dict[str, Any]) -> bool:
    """The sandbox's handler ran for it: not refused before processing, not a replay."""
    return not request.get("replayed") and not _REFUSED_BEFORE_PROCESSING & set(request.get("injected", ()))


def _effective_patches(requests: list[dict[str, Any]], customer_id: str) -> Counter[str]:
    """Subscription PATCHes the sandbox processed, per path (see the module docstring)."""
    return Counter(
        r["path"] for r in requests if r["method"] == "PATCH" and f"/customers/{customer_id}/subscriptions/" in r["path"] and _processed(r)
    )


def _fault_counts(requests: list[dict[str, Any]]) -> dict[str, int]:
    injected = Counter(label for r in requests for label in r.get("injected", ()))
    return {
        "requests": len(requests),
        "5xx before": injected["5xx-before"],
        "5xx after": injected["5xx-after"],
        "429 burst": injected["429-burst"],
        "429 rate": sum(r["status"] == 429 and "429-burst" not in r.get("injected", ()) for r in requests),
        "spikes": injected["spike"],
        "outage": injected["outage-reset"] + injected["outage-503"],
        # Attempts that repeat an earlier one's MS-RequestId: what the client retried.
        "retries": len(requests) - len({r["requestId"] for r in requests}),
        "replayed": sum(bool(r.get("replayed")) for r in requests),
    }


def _assert_each_subscription_changed_once(stack: Stack, requests: list[dict[str, Any]], customer_id: str, count: int) -> None:
    effective = _effective_patches(requests, customer_id)
    assert len(effective) == count and set(effective.values()) == {1}, {p: n for p, n in effective.items() if n != 1}
    subscriptions = stack.sandbox.world.customers[customer_id].subscriptions.values()
    assert sorted(s.status for s in subscriptions) == sorted(s.status for s in subscriptions if s.status in ("suspended", "deleted"))
    assert {s.version for s in subscriptions} == {2}  # one change each: the seed is version 1


# ---- 1. Faults: 5xx, bursts of 429, latency spikes ----

_BIG = "Two Hundred Stores Ltd"
_BIG_ID = "5f0e0c5e-0000-4000-8000-000000000200"


# The production budget (8 attempts) with shorter backoffs; 429s still wait their Retry-After.
# With the production waits the same run takes about a minute.
_TEST_RETRY = RetryPolicy(attempts=8, timeout_seconds=120, wait_initial=0.1, wait_max=2.0, wait_jitter=0.2)


@pytest.mark.slow
async def test_a_200_item_case_completes_through_5xx_429_bursts_and_spikes_writing_each_item_once(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "connect", functools.partial(connect, retry=_TEST_RETRY))
    options = SandboxOptions(
        seed_path=_seed(tmp_path / "seed.json", name=_BIG, customer_id=_BIG_ID, legacy=170, nce=30),
        fault_rate=0.2,
        fault_after_rate=0.05,
        throttle_burst_every=5,
        throttle_burst_seconds=1.5,
        spike_rate=0.05,
        spike_ms=2000,
        random_seed=2026,
    )
    started = time.perf_counter()
    async with _stack(aiohttp_server, tmp_path, options) as stack:
        assert await _say(stack.teams, f"remove {_BIG}") == 201
        await _approve_all(stack)
        await eventually(stack.ready, timeout=90, what="the final confirmation")
        case = await stack.case()
        assert case.state is CaseState.READY and len(case.items) == 200
        assert all(item.outcome is Outcome.DONE and item.error is None for item in case.items)
        final_id, final = card_with(stack.connector, "confirm_removal")
        status, _, _ = await stack.teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
        assert status == 200
        await _until(lambda: stack.sandbox.world.customers[_BIG_ID].relationship == "none", timeout=30, what="the removal")
        await stack.app[BACKGROUND].drain()
        requests = await sandbox_requests(stack.http, stack.sandbox)
        _assert_each_subscription_changed_once(stack, requests, _BIG_ID, 200)
        removals = [
            r
            for r in requests
            if r["method"] == "PATCH"
            and r["path"] == f"/v1/customers/{_BIG_ID}"
            and _processed(r)
            and (r["status"] == 200 or "5xx-after" in r.get("injected", ()))
        ]
        assert len(removals) == 1, removals  # the relationship removed once (a later PATCH finds it gone: 403)
        counts = _fault_counts(requests)
    elapsed = time.perf_counter() - started
    # Enough of each fault to mean something (deterministic in kind, not in exact numbers).
    assert counts["5xx before"] >= 50 and counts["5xx after"] >= 10 and counts["429 burst"] >= 5 and counts["spikes"] >= 10
    print(f"\n200 items in {elapsed:.1f} s: {counts}")


# ---- 2. An outage in the middle of a case ----

_MID = "Quarante Magasins SA"
_MID_ID = "5f0e0c5e-0000-4000-8000-000000000040"
# Quick to notice an outage (production: about a minute of retries before pausing).
_QUICK_RETRY = RetryPolicy(attempts=4, timeout_seconds=10, wait_initial=0.05, wait_max=0.3, wait_jitter=0.05)


@pytest.mark.parametrize("mode", ["reset", "503"])
async def test_an_outage_mid_case_pauses_it_in_its_language_and_it_resumes_writing_each_item_once(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(app_module, "connect", functools.partial(connect, retry=_QUICK_RETRY))
    options = SandboxOptions(seed_path=_seed(tmp_path / "seed.json", name=_MID, customer_id=_MID_ID, legacy=40), latency_ms=40)
    async with _stack(aiohttp_server, tmp_path, options) as stack:
        assert await _say(stack.teams, f"supprimer {_MID}", locale="fr-FR") == 201
        await _approve_all(stack)

        async def some_written() -> int:
            return sum(_effective_patches(await sandbox_requests(stack.http, stack.sandbox), _MID_ID).values()) >= 8

        await eventually(some_written, timeout=30, what="8 suspensions")
        await operator(stack.http, stack.sandbox, "outage", {"on": True, "mode": mode})
        paused_text = "L'Espace partenaires ne répond pas ; la suppression est en pause et reprendra d'elle-même."
        await _until(lambda: stack.posted(paused_text), timeout=30, what="the paused message")
        case = await stack.case()
        assert case.state is CaseState.PAUSED and case.pause is not None and case.pause.resume_to is CaseState.EXECUTING
        assert not case.failed, "Partner Center's silence fails no item"
        done_while_up = len(case.done)
        assert 8 <= done_while_up < 40
        # The status card says it too, in place.
        assert any(call.method == "update" and call.card and paused_text in card_text(call.card) for call in stack.connector.calls)

        await asyncio.sleep(1.5)  # the resume loop asks Partner Center every 0.3 s: still down
        assert (await stack.case()).state is CaseState.PAUSED

        await operator(stack.http, stack.sandbox, "outage", {"on": False})
        await eventually(stack.ready, timeout=60, what="the final confirmation")
        assert stack.posted("L'Espace partenaires répond de nouveau")
        case = await stack.case()
        assert case.state is CaseState.READY and case.pause is None
        assert sum(item.outcome is Outcome.DONE for item in case.items) == 40
        requests = await sandbox_requests(stack.http, stack.sandbox)
        _assert_each_subscription_changed_once(stack, requests, _MID_ID, 40)
        counts = _fault_counts(requests)
        assert counts["outage"] >= 1
    print(f"\noutage ({mode}) after {done_while_up} of 40 items; resumed and finished: {counts}")


async def test_an_outage_during_the_removal_pauses_it_and_the_relationship_is_removed_once(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "connect", functools.partial(connect, retry=_QUICK_RETRY))
    options = SandboxOptions(seed_path=_seed(tmp_path / "seed.json", name=_MID, customer_id=_MID_ID, legacy=3))
    async with _stack(aiohttp_server, tmp_path, options) as stack:
        assert await _say(stack.teams, f"remove {_MID}") == 201
        await _approve_all(stack)
        await eventually(stack.ready, timeout=30, what="the final confirmation")
        final_id, final = card_with(stack.connector, "confirm_removal")
        await operator(stack.http, stack.sandbox, "outage", {"on": True, "mode": "503"})
        status, _, _ = await stack.teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
        assert status == 200
        # The "removing…" card turns into the paused card, in place.
        await _until(lambda: "Partner Center is not answering" in _last_update_of(stack.connector, final_id), timeout=30, what="the pause")
        case = await stack.case()
        assert case.state is CaseState.PAUSED and case.pause is not None and case.pause.resume_to is CaseState.REMOVING
        await operator(stack.http, stack.sandbox, "outage", {"on": False})
        await _until(lambda: stack.sandbox.world.customers[_MID_ID].relationship == "none", timeout=30, what="the removal")
        await stack.app[BACKGROUND].drain()
        await _until(lambda: "is removed" in _last_update_of(stack.connector, final_id), timeout=30, what="the result card")
        requests = await sandbox_requests(stack.http, stack.sandbox)
    removals = [r for r in _removal_patches(requests, _MID_ID) if _processed(r)]
    assert [r["status"] for r in removals] == [200]


# ---- 3. A changing world: what people do in the portal between the plan and the removal ----


async def _approved_to_final_confirmation(teams: Teams, app: Any, name: str) -> tuple[str, dict[str, Any]]:
    """Ask for the removal, approve everything, wait for the final confirmation card."""
    assert await teams.say(f"remove {name}") == 201
    card_id, card = card_with(teams.connector, "approve_all")
    status, _, _ = await teams.click(card_id, "approve_all", button_data(card, "approve_all"))
    assert status == 200
    await app[BACKGROUND].drain()
    return card_with(teams.connector, "confirm_removal")


def _removal_patches(requests: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] == "PATCH" and r["path"].rstrip("/") == f"/v1/customers/{customer_id}"]


def _last_update_of(connector: RecordingConnector, activity_id: str) -> str:
    """The text of the last card ``activity_id`` was updated to ("" if never)."""
    updates = [call for call in connector.calls if call.method == "update" and call.activity_id == activity_id and call.card]
    return card_text(updates[-1].card) if updates else ""


async def _refused_then_asked(teams: Teams, app: Any, change: Callable[[aiohttp.ClientSession, Any, str], Any], expected_line: str) -> None:
    """Change Partner Center after the final confirmation is shown, click "Remove relationship":
    nothing is removed, the card says what blocks now, the plan is redrawn, a decision is asked;
    approving it carries it out and the removal then goes through."""
    sandbox = app[SANDBOX]
    final_id, final = await _approved_to_final_confirmation(teams, app, "Contoso Ltd")
    case = await CaseStore(app[STORE]).open_for_customer("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
    assert case is not None and case.state is CaseState.READY
    async with aiohttp.ClientSession() as http:
        name = await change(http, sandbox, case.customer.id)
        status, _, _ = await teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
        assert status == 200
        await app[BACKGROUND].drain()
        assert not _removal_patches(await sandbox_requests(http, sandbox), case.customer.id), "the removal must not be sent"

        case = await CaseStore(app[STORE]).get(case.id)
        assert case is not None and case.state is CaseState.AWAITING_APPROVAL
        [item] = [i for i in case.items if i.name == name]
        assert item.decision.value == "pending" and item.since_plan
        # The final card now says that nothing was removed, and names what blocks now.
        refused = _last_update_of(teams.connector, final_id)
        assert "Nothing was removed" in refused and name in refused and expected_line in refused
        assert "Offboard asks about each new blocker below" in refused
        # The plan card is redrawn: waiting for approvals, the item listed.
        plan = _last_update_of(teams.connector, (await CaseMessageBook(app[STORE]).get(case.id)).plan)
        assert "Waiting for approvals" in plan and name in plan
        # The question about it is posted.
        question_id, question = card_with(teams.connector, "decide")
        approve = button_data(question, "decide", itemKey=item.key, decision="approve")
        status, _, _ = await teams.click(question_id, "decide", approve)
        assert status == 200
        await app[BACKGROUND].drain()
        final_id, final = card_with(teams.connector, "confirm_removal")
        status, _, _ = await teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal"))
        await app[BACKGROUND].drain()
        requests = await sandbox_requests(http, sandbox)
    assert sandbox.world.customers[case.customer.id].relationship == "none"
    assert len([r for r in _removal_patches(requests, case.customer.id) if r["status"] == 200]) == 1


async def test_a_subscription_reactivated_after_the_final_confirmation_stops_the_removal_and_is_asked_again(
    teams: tuple[Teams, Any],
) -> None:
    async def reactivate(http: aiohttp.ClientSession, sandbox: Any, customer_id: str) -> str:
        [legacy] = [s for s in sandbox.world.customers[customer_id].subscriptions.values() if s.product_type == "OnlineServices"]
        assert legacy.status == "suspended"
        await operator(http, sandbox, f"customers/{customer_id}/subscriptions/{legacy.id}/reactivate")
        return legacy.friendly_name

    await _refused_then_asked(*teams, reactivate, "active again")


async def test_a_subscription_bought_after_the_final_confirmation_stops_the_removal_and_is_asked_about(teams: tuple[Teams, Any]) -> None:
    async def buy(http: aiohttp.ClientSession, sandbox: Any, customer_id: str) -> str:
        bought = await operator(
            http,
            sandbox,
            f"customers/{customer_id}/subscriptions",
            {"offer": "O365_E1", "quantity": 5, "friendlyName": "Office 365 E1 - New shop"},
        )
        return bought["friendlyName"]

    await _refused_then_asked(*teams, buy, "new since the plan")


async def test_blockers_cleared_in_the_portal_before_execution_are_done_without_a_write(teams: tuple[Teams, Any]) -> None:
    teams_, app = teams
    sandbox = app[SANDBOX]
    assert await teams_.say("remove Contoso Ltd") == 201
    case = await CaseStore(app[STORE]).open_for_customer("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
    assert case is not None
    by_action = {item.action.value: item for item in case.items}
    cleared = [by_action["suspend"], by_action["cancel_subscription"], by_action["cancel_order"]]
    async with aiohttp.ClientSession() as http:
        # Someone else, in the Partner Center portal, before anyone approves.
        await operator(http, sandbox, f"customers/{case.customer.id}/subscriptions/{by_action['suspend'].item_id}/suspend")
        await operator(http, sandbox, f"customers/{case.customer.id}/subscriptions/{by_action['cancel_subscription'].item_id}/cancel")
        await operator(http, sandbox, f"customers/{case.customer.id}/orders/{by_action['cancel_order'].item_id}/cancel")
        card_id, card = card_with(teams_.connector, "approve_all")
        status, _, _ = await teams_.click(card_id, "approve_all", button_data(card, "approve_all"))
        assert status == 200
        await app[BACKGROUND].drain()
        requests = await sandbox_requests(http, sandbox)
    case = await CaseStore(app[STORE]).get(case.id)
    assert case is not None and case.state is CaseState.READY
    assert case.blocker_items and all(item.outcome is Outcome.DONE and item.error is None for item in case.blocker_items)
    # "Approve all" approved the partner's access too (issue 19: a partner guest, the
    # Microsoft-created GDAP); with the default timing it is torn down after the removal, not now.
    assert case.teardown_items and all(
        item.decision is Decision.APPROVED and item.outcome is Outcome.NOT_STARTED for item in case.teardown_items
    )
    writes = [r for r in requests if r["method"] in ("PATCH", "POST")]
    for item in cleared:
        assert not [r for r in writes if item.item_id in r["path"]], f"{item.name} was written"
    # Only the Azure plan needed the bot: its two Azure subscriptions cancelled, then the plan suspended.
    assert len(writes) == 3 and {r["status"] for r in writes} <= {200, 202}
    card_with(teams_.connector, "confirm_removal")
