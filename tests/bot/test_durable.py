"""Durable, idempotent removals over real HTTP: duplicate clicks, two instances on one Azurite
container, and a bot process killed in the middle of a 50-item case.

The sandbox's request log is the witness of what reached Partner Center.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app import BACKGROUND, SANDBOX, create_app
from bench.buttons import button_data, buttons
from bench.connector import RecordingConnector
from bench.ports import free_port
from bot.settings import Settings
from pc_sandbox import SandboxOptions, running_sandbox
from removal import CaseState, Outcome
from removal.store import CaseStore
from storage import SqliteStore
from tests._azurite import Azurite, azurite  # noqa: F401  (the session fixture, for pytest to find)
from tests._helpers import sandbox_requests
from tests.bot.teams import Teams, card_with, eventually
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

REPO = Path(__file__).resolve().parents[2]
_WRITES = ("PATCH", "POST")


def _writes(requests: list[dict[str, Any]], customer_id: str) -> Counter[tuple[str, str]]:
    """Partner Center writes that were accepted, per (method, path), for one customer."""
    return Counter((r["method"], r["path"]) for r in requests if r["method"] in _WRITES and customer_id in r["path"] and r["status"] < 300)


async def _customer_id(http: aiohttp.ClientSession, sandbox_url: str, name: str) -> str:
    async with http.get(f"{sandbox_url}/_sandbox/customers") as response:
        [found] = [c["id"] for c in (await response.json())["items"] if c["companyName"] == name]
    return found


async def _stored_case(path: Path) -> Any:
    """The one open case in the bot's SQLite file (read beside the running bot: WAL)."""
    store = SqliteStore(path)
    try:
        [case] = await CaseStore(store).open_cases()
    finally:
        await store.close()
    return case


# ---- Duplicate clicks on one instance ----


async def test_twenty_duplicate_invokes_make_one_partner_center_write(teams: tuple[Teams, Any]) -> None:
    teams, app = teams
    sandbox = app[SANDBOX]
    await teams.say("remove Wingtip Toys")
    card_id, card = card_with(teams.connector, "decide")
    first = await teams.click(card_id, "decide", button_data(card, "decide", decision="approve"))
    last_question = first[1]["value"]

    # The last decision, delivered 20 times at once (double clicks, Teams retries): one execution.
    last = button_data(last_question, "decide", decision="approve")
    answers = await asyncio.gather(*(teams.click(card_id, "decide", last) for _ in range(20)))
    assert all(status == 200 and body["type"].endswith("adaptive") for status, body, _ in answers)
    # Every clicker sees the case as it is (carrying out / done), not an error and not the question.
    assert all("decide" not in {b["verb"] for b in buttons(body["value"]).values()} for _, body, _ in answers)
    await app[BACKGROUND].drain()

    final_id, final = card_with(teams.connector, "confirm_removal")
    confirm = button_data(final, "confirm_removal")
    answers = await asyncio.gather(*(teams.click(final_id, "confirm_removal", confirm) for _ in range(20)))
    assert all(status == 200 for status, _, _ in answers)
    await app[BACKGROUND].drain()

    async with aiohttp.ClientSession() as http:
        customer_id = await _customer_id(http, sandbox.base_url, "Wingtip Toys")
        writes = _writes(await sandbox_requests(http, sandbox), customer_id)
    assert writes and set(writes.values()) == {1}, writes
    assert writes[("PATCH", f"/v1/customers/{customer_id}")] == 1  # the removal itself, once
    # A late duplicate still gets the current card: the result.
    status, body, _ = await teams.click(final_id, "confirm_removal", confirm)
    assert status == 200 and "Wingtip Toys" in card_text(body["value"])


# ---- Two instances on one Azurite container ----


@pytest.fixture
async def two_instances(aiohttp_server: Any, azurite: Azurite) -> AsyncIterator[tuple[Teams, Teams, Any, Any]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    # Azure cancellations show at once here (the ~10-minute wait: tests/dialogs/test_azure_plan.py).
    async with running_sandbox(options=SandboxOptions(latency_ms=5, azure_cancel_delay=timedelta(0))) as sandbox:
        container = f"twoinstances{os.getpid()}{id(sandbox) % 100000}"
        settings = Settings(
            _env_file=None,
            storage="blob",
            blob_connection_string=azurite.connection_string,
            blob_container=container,
            sandbox_url=sandbox.base_url,
        )
        first, second = create_app(settings), create_app(settings)
        first_server, second_server = await aiohttp_server(first), await aiohttp_server(second)
        connector_url = str(connector_server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as http:
            yield (
                Teams(http, str(first_server.make_url("")).rstrip("/"), connector_url, connector),
                Teams(http, str(second_server.make_url("")).rstrip("/"), connector_url, connector),
                (first, second),
                sandbox,
            )


async def test_two_instances_on_one_blob_store_write_each_item_once_and_agree(two_instances: tuple[Teams, Teams, Any, Any]) -> None:
    a, b, apps, sandbox = two_instances
    await a.say("remove Contoso Ltd")
    card_id, card = card_with(a.connector, "decide")
    instances = [a, b]
    clicks = 0
    while "decide" in {x["verb"] for x in buttons(card).values()}:
        data = button_data(card, "decide", decision="approve")
        # Alternate instances, and deliver each click to the other instance too, at once.
        here, there = instances[clicks % 2], instances[(clicks + 1) % 2]
        (status, body, _), (other_status, _other_body, _) = await asyncio.gather(
            here.click(card_id, "decide", data), there.click(card_id, "decide", data)
        )
        assert status == other_status == 200
        card = body["value"]
        clicks += 1
    for app in apps:
        await app[BACKGROUND].drain()

    final_id, final = card_with(a.connector, "confirm_removal")
    confirm = button_data(final, "confirm_removal")
    await asyncio.gather(a.click(final_id, "confirm_removal", confirm), b.click(final_id, "confirm_removal", confirm))
    for app in apps:
        await app[BACKGROUND].drain()

    async with aiohttp.ClientSession() as http:
        customer_id = await _customer_id(http, sandbox.base_url, "Contoso Ltd")
        writes = _writes(await sandbox_requests(http, sandbox), customer_id)
    assert clicks >= 3 and len(writes) >= clicks and set(writes.values()) == {1}, writes
    # Both instances tell the same story about the case, whichever is asked.
    (_, from_a, _), (_, from_b, _) = await asyncio.gather(
        a.click(final_id, "confirm_removal", confirm), b.click(final_id, "confirm_removal", confirm)
    )
    assert from_a == from_b and "Contoso Ltd" in card_text(from_a["value"])
    for call in a.connector.calls:
        if call.card:
            assert_valid_card(call.card)


# ---- A bot process killed mid-way ----


def _seed_with_fifty_subscriptions(path: Path) -> Path:
    seed = json.loads((REPO / "pc_sandbox/seed.json").read_text(encoding="utf-8"))
    seed["customers"].append(
        {
            "id": "5f0e0c5e-0000-4000-8000-000000000050",
            "companyName": "Fifty Stores Ltd",
            "domain": "fiftystores.onmicrosoft.com",
            "generate": {"legacyActive": 50, "legacyOffers": ["O365_E3"], "friendlyNameFormat": "{offerName} - Store {number:02d}"},
        }
    )
    path.write_text(json.dumps(seed), encoding="utf-8")
    return path


class BotProcess:
    """``python app.py`` in its own process, against an external sandbox and a SQLite file."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=REPO, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

        async def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(healthy, timeout=60, what="the bot to start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.mark.slow
async def test_a_bot_killed_mid_case_resumes_and_writes_every_item_once(aiohttp_server: Any, tmp_path: Path) -> None:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    options = SandboxOptions(latency_ms=150, seed_path=str(_seed_with_fifty_subscriptions(tmp_path / "seed.json")))
    async with running_sandbox(options=options) as sandbox, aiohttp.ClientSession() as http:
        port = free_port()
        env = {
            **os.environ,
            "OFFBOARD_PORT": str(port),
            "OFFBOARD_SANDBOX_URL": sandbox.base_url,
            "OFFBOARD_STORAGE": "sqlite",
            "OFFBOARD_SQLITE_PATH": str(tmp_path / "offboard.db"),
            "OFFBOARD_LEASE_SECONDS": "3",
            "OFFBOARD_RESUME_INTERVAL_SECONDS": "0.5",
        }
        bot = BotProcess(env, port, tmp_path / "bot.log")
        teams = Teams(http, bot.url, str(connector_server.make_url("")).rstrip("/"), connector)
        try:
            await bot.start(http)
            assert await teams.say("remove Fifty Stores Ltd") == 201
            card_id, card = card_with(connector, "approve_all")
            status, _body, _ = await teams.click(card_id, "approve_all", button_data(card, "approve_all"))
            assert status == 200
            customer_id = await _customer_id(http, sandbox.base_url, "Fifty Stores Ltd")

            async def some_written() -> int:
                count = sum(_writes(await sandbox_requests(http, sandbox), customer_id).values())
                return count if count >= 10 else 0

            written_before_kill = await eventually(some_written, timeout=60, what="10 suspensions")
            bot.kill()
            after_kill = sum(_writes(await sandbox_requests(http, sandbox), customer_id).values())
            assert after_kill < 50, "the case finished before the kill: slow the sandbox down"

            await bot.start(http)  # same SQLite file; the dead instance's lease expires after 3 s

            async def ready() -> bool:
                # The state is saved, then the card posted: wait for both before stopping the bot.
                posted = any(call.card and "confirm_removal" in str(call.card) for call in connector.sent)
                return posted and (await _stored_case(tmp_path / "offboard.db")).state is CaseState.READY

            await eventually(ready, timeout=90, what="the resumed case to finish")
        finally:
            bot.stop()

        requests = await sandbox_requests(http, sandbox)
        writes = _writes(requests, customer_id)
        assert len(writes) == 50 and set(writes.values()) == {1}, f"each subscription written once: {writes}"
        case = await _stored_case(tmp_path / "offboard.db")
        assert case.state is CaseState.READY
        assert sum(item.outcome is Outcome.DONE for item in case.items) == 50
        assert "resuming case" in (tmp_path / "bot.log").read_text()
        print(f"\nkilled after {written_before_kill}-{after_kill} of 50 writes; resumed and finished; 50 writes in all")
