"""The processes a bench runs against, all on 127.0.0.1.

- the sandbox: ``python -m pc_sandbox`` with the bench's seed, latency and rate;
- the bot: ``python app.py`` against it (or the echo bot, ``python -m bench.echo_bot``), each in
  its own process as in production, so that the load generator does not share its event loop;
- Teams' side: the recording Bot Connector of the HTTP tests, in the bench's process, which the
  bots reply to, and :class:`Chat`, which posts Teams-shaped activities.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp import web

from bench.connector import RecordingConnector
from bench.ports import free_port
from pc_sandbox.seed import read_seed

__all__ = ("Chat", "Process", "Stack", "bench_customer", "running_stack", "write_seed")

REPO = Path(__file__).resolve().parents[1]
TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"


def bench_customer(prefix: str, number: int, *, subscriptions: int) -> dict[str, Any]:
    """A seed entry for a customer with ``subscriptions`` active legacy subscriptions (all blockers)."""
    return {
        "id": f"b0000000-0000-4000-8000-{zlib.crc32(prefix.encode()) % 10**4:04d}{number:08d}",
        "companyName": f"{prefix} {number:04d}",
        "domain": f"{prefix.lower().replace(' ', '')}{number:04d}.onmicrosoft.com",
        "generate": {"legacyActive": subscriptions, "legacyOffers": ["O365_E3", "O365_E1"]},
    }


def write_seed(folder: Path, extra_customers: list[dict[str, Any]]) -> Path:
    """The packaged demo world (Tailspin Toys has the 1,000 subscriptions) plus ``extra_customers``."""
    seed = read_seed()
    seed["customers"] = [*seed["customers"], *extra_customers]
    path = folder / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    return path


class Process:
    """A child process with its output in a log file, stopped with its whole process group."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log: Path, url: str, ready_path: str) -> None:
        self.name, self.argv, self.env, self.log, self.url, self._ready_path = name, argv, env, log, url, ready_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, http: aiohttp.ClientSession, *, timeout: float = 60) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log.read_text()[-3000:]}")
            try:
                async with http.get(f"{self.url}{self._ready_path}") as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start within {timeout} s:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Stack:
    http: aiohttp.ClientSession
    sandbox_url: str
    sandbox: Process
    bot: Process
    connector: RecordingConnector
    connector_url: str
    folder: Path

    async def sandbox_requests(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.sandbox_url}/_sandbox/requests") as response:
            return (await response.json())["items"]

    async def clear_sandbox_requests(self) -> None:
        async with self.http.delete(f"{self.sandbox_url}/_sandbox/requests") as response:
            response.raise_for_status()

    async def sandbox_customers(self) -> dict[str, dict[str, Any]]:
        async with self.http.get(f"{self.sandbox_url}/_sandbox/customers") as response:
            return {c["companyName"]: c for c in (await response.json())["items"]}

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far (user + system) by the bot and by the sandbox."""
        used = {}
        for process in (self.bot, self.sandbox):
            times = psutil.Process(process.pid).cpu_times()
            used[process.name] = times.user + times.system
        return used

    def chat(self, conversation: str, *, user: str = "ann") -> Chat:
        return Chat(self, conversation, user=user)


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


@asynccontextmanager
async def running_stack(
    *,
    name: str,
    seed_customers: list[dict[str, Any]] | None = None,
    latency_ms: float = 0,
    rate_per_minute: int = 0,
    bot: str = "offboard",
    bot_env: dict[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """Sandbox + bot (``offboard``, ``echo`` or ``stock-echo``) + recording connector, stopped at the end."""
    with tempfile.TemporaryDirectory(prefix=f"offboard-bench-{name}-") as scratch:
        folder = Path(scratch)
        connector = RecordingConnector()
        runner = web.AppRunner(connector.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        connector_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        sandbox_port, bot_port = free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        seed = write_seed(folder, seed_customers or [])
        rate = ["--rate-limit", str(rate_per_minute), "--rate-window-seconds", "60"] if rate_per_minute else []
        sandbox = Process(
            "sandbox",
            _python("-m", "pc_sandbox", "--port", str(sandbox_port), "--latency-ms", str(latency_ms),
                    "--seed", str(seed), *rate),
            env=dict(os.environ), log=folder / "sandbox.log", url=sandbox_url, ready_path="/_sandbox/clock",
        )  # fmt: skip
        env = {
            **os.environ,
            "OFFBOARD_PORT": str(bot_port),
            "OFFBOARD_SANDBOX_URL": sandbox_url,
            "OFFBOARD_STORAGE": "sqlite",
            "OFFBOARD_SQLITE_PATH": str(folder / "offboard.db"),
            "MicrosoftAppId": "",
            **(bot_env or {}),
        }
        if bot in ("echo", "stock-echo"):
            argv = _python("-m", "bench.echo_bot", "--port", str(bot_port), *(["--stock-adapter"] if bot == "stock-echo" else []))
        else:
            argv = _python("app.py")
        bot_process = Process(bot, argv, env=env, log=folder / "bot.log", url=f"http://127.0.0.1:{bot_port}", ready_path="/healthz")
        connector_limits = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector_limits, timeout=aiohttp.ClientTimeout(total=600)) as http:
            try:
                await sandbox.start(http)
                await bot_process.start(http)
                yield Stack(http, sandbox_url, sandbox, bot_process, connector, connector_url, folder)
            finally:
                bot_process.stop()
                sandbox.stop()
                await runner.cleanup()


class Chat:
    """One Teams conversation (a personal chat with the bot) posting Teams-shaped activities."""

    def __init__(self, stack: Stack, conversation: str, *, user: str) -> None:
        self.stack, self.conversation, self.user = stack, conversation, user
        self._ids = 0

    def activity(self, **fields: Any) -> dict[str, Any]:
        self._ids += 1
        return {
            "id": f"{self.conversation}-{self._ids}",
            "channelId": "msteams",
            "serviceUrl": self.stack.connector_url,
            "from": {
                "id": f"29:{self.user}",
                "name": self.user.title(),
                "aadObjectId": f"00000000-0000-4000-8000-{zlib.crc32(self.user.encode()):012d}",
            },
            "recipient": {"id": "28:offboard", "name": "Offboard"},
            "conversation": {"id": self.conversation, "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
            "timestamp": "2026-11-21T10:00:00.000Z",
            **fields,
        }

    def message(self, text: str) -> dict[str, Any]:
        return self.activity(type="message", text=text)

    def click(self, card_activity_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.activity(
            type="invoke",
            name="adaptiveCard/action",
            replyToId=card_activity_id,
            value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
        )

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any, float]:
        """Post one activity; its HTTP status, body and the seconds until the answer."""
        started = time.perf_counter()
        async with self.stack.http.post(f"{self.stack.bot.url}/api/messages", json=activity) as response:
            text = await response.text()
            elapsed = time.perf_counter() - started
            return response.status, (json.loads(text) if text else None), elapsed

    async def say(self, text: str) -> tuple[int, Any, float]:
        return await self.post(self.message(text))
