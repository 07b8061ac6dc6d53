"""Run the sandbox on a real socket for the duration of an ``async with``."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from .app import create_sandbox_app
from .clock import SandboxClock
from .options import SandboxOptions
from .requestlog import RequestLog
from .state import STATE
from .world import World

__all__ = ("RunningSandbox", "running_sandbox")


class RunningSandbox:
    """A sandbox listening on a socket.

    Attributes:
        base_url: ``http://host:port`` (``https`` when served with TLS); the
            Partner Center root is ``base_url + "/v1"``, the token authority
            ``base_url + "/" + DEMO.tenant``.
        app: the aiohttp application.
    """

    def __init__(self, *, base_url: str, app: web.Application) -> None:
        self.base_url = base_url
        self.app = app

    @property
    def world(self) -> World:
        """The in-memory world, for assertions (the same object across resets)."""
        return self.app[STATE].world

    @property
    def clock(self) -> SandboxClock:
        return self.app[STATE].clock

    @property
    def requests(self) -> RequestLog:
        return self.app[STATE].log

    def __repr__(self) -> str:
        return f"RunningSandbox(base_url={self.base_url!r})"


@asynccontextmanager
async def running_sandbox(
    *,
    options: SandboxOptions | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[RunningSandbox]:
    """Serve a fresh sandbox on ``host:port`` (0 = any free port) until the block exits.

    Example::

        async with running_sandbox(options=SandboxOptions(rate_limit=5)) as sandbox:
            async with aiohttp.ClientSession(sandbox.base_url) as session:
                ...

    :param ssl_context: serve HTTPS (MSAL accepts only ``https`` authorities).
    """
    app = create_sandbox_app(options=options)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound_port = runner.addresses[0][1]
        scheme = "https" if ssl_context is not None else "http"
        url_host = f"[{host}]" if ":" in host else host
        yield RunningSandbox(base_url=f"{scheme}://{url_host}:{bound_port}", app=app)
    finally:
        await runner.cleanup()
