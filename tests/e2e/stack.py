"""The running parts of an end-to-end test: the sandbox, the bot, a Teams-language shim, the Playground.

Everything listens on 127.0.0.1 and is a real process (or, for the shim, a real HTTP server): the
Partner Center sandbox (``python -m pc_sandbox``), the bot (``python app.py`` against
that sandbox), and the Microsoft 365 Agents Playground (npm, pinned) with both of its telemetry
switches set (``tests._playground``). The Playground posts to the bot through :class:`TeamsLanguage`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from bench.ports import free_port
from tests._playground import running_playground

REPO = Path(__file__).resolve().parents[2]


class TeamsLanguage:
    """Sets the language of the person at the Playground, as Teams would from their settings.

    The Playground writes ``locale: "en-US"`` into every activity it makes, and has no setting for
    it. Teams sends the user's own language there (and in the ``clientInfo`` entity). This proxy
    sits between the Playground and the bot and, while :attr:`locale` is set, rewrites exactly
    those two fields; everything else (body, headers, the bot's answer) passes through untouched.
    """

    def __init__(self, bot_url: str) -> None:
        self.bot_url = bot_url
        self.locale: str | None = None
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="teams-language", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def __enter__(self) -> TeamsLanguage:
        self._thread.start()
        assert self._ready.wait(10), "the Teams-language proxy did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/api/messages", self._forward)
        runner = web.AppRunner(app)

        async def start() -> None:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._session = ClientSession()

        self._loop.run_until_complete(start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._session.close())
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.locale:
            activity = json.loads(body)
            activity["locale"] = self.locale
            for entity in activity.get("entities") or []:
                if entity.get("type") == "clientInfo":
                    entity["locale"] = self.locale
            body = json.dumps(activity).encode()
        headers = {name: value for name, value in request.headers.items() if name.lower() in ("authorization", "content-type")}
        async with self._session.post(self.bot_url, data=body, headers=headers) as answer:
            return web.Response(status=answer.status, body=await answer.read(), content_type=answer.content_type)


@dataclass
class Stack:
    sandbox: str  # the sandbox's base URL (its operator endpoints under /_sandbox)
    bot: str  # the bot's base URL
    playground: str  # the Playground page
    language: TeamsLanguage
    logs: Path

    def customer(self, name: str) -> dict[str, Any]:
        """The sandbox's view of a customer, by company name (the operator endpoint)."""
        with urllib.request.urlopen(f"{self.sandbox}/_sandbox/customers", timeout=10) as answer:
            customers = json.load(answer)
        items = customers["items"] if isinstance(customers, dict) else customers
        return next(item for item in items if item["companyName"] == name)


@contextmanager
def running_stack(folder: Path) -> Iterator[Stack]:
    """Start the sandbox, the bot, the language proxy and the Playground; stop them all at the end."""
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sandbox_port, bot_port = free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    bot = f"http://127.0.0.1:{bot_port}"
    with ExitStack() as stack:
        # Azure cancellations show at once here (the documented ~10 minutes: tests/dialogs/test_azure_plan.py).
        sandbox_command = [sys.executable, "-m", "pc_sandbox", "--port", str(sandbox_port), "--azure-cancel-delay-minutes", "0"]
        stack.enter_context(_process(sandbox_command, logs / "sandbox.log", REPO))
        _wait_for(f"{sandbox}/_sandbox/customers", "the sandbox")
        env = {
            "OFFBOARD_PORT": str(bot_port),
            "OFFBOARD_SANDBOX_URL": sandbox,
            "OFFBOARD_STORAGE": "sqlite",
            "OFFBOARD_SQLITE_PATH": str(folder / "offboard.db"),
            "OFFBOARD_RESUME_INTERVAL_SECONDS": "5",
        }
        stack.enter_context(_process([sys.executable, "app.py"], logs / "bot.log", REPO, env))
        _wait_for(f"{bot}/healthz", "the bot")
        language = stack.enter_context(TeamsLanguage(f"{bot}/api/messages"))
        playground_log = stack.enter_context((logs / "playground.log").open("wb"))
        playground_port = stack.enter_context(running_playground(folder / "playground", language.url, output=playground_log))
        playground = f"http://127.0.0.1:{playground_port}/"
        _wait_for(playground, "the Agents Playground")
        yield Stack(sandbox, bot, playground, language, logs)


@contextmanager
def _process(argv: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            try:
                os.killpg(process.pid, 15)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, 9)


def _wait_for(url: str, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not answer at {url} within {seconds:.0f} s") from None
            time.sleep(0.2)
