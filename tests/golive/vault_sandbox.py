"""A sandbox that serves its Key Vault stand-in over TLS, for the Key Vault, token-store and consent tests.

One sandbox application on two sockets: plain HTTP (Partner Center, the token endpoint, the sign-in
pages, the operator endpoints; as every other test reaches them) and TLS (the Key Vault stand-in:
the Azure SDK sends bearer tokens over TLS only). The TLS certificate is issued by a test CA
(trustme) for the vault's name, ``offboard-test.vault.azure.net``, which the clients route to the
TLS socket: the SDK's check that the challenge's resource (``https://vault.azure.net``) matches the
vault's host stays on, as in production.

:func:`sandbox_with_vault` runs it in the test's event loop; :class:`VaultSandboxThread` in a
thread of its own (the browser tests, whose Playwright keeps the main thread's loop).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

from bot.settings import Settings, open_key_vault
from pc_sandbox import SandboxOptions, create_sandbox_app
from pc_sandbox.server import RunningSandbox
from storage import KeyVaultSecrets

VAULT_NAME = "offboard-test.vault.azure.net"
VAULT_URL = f"https://{VAULT_NAME}/"
TOKEN_SECRET = "partner-center-token-cache"


@dataclass
class VaultSandbox:
    """A running sandbox with its vault: what a bot, a command or a test needs to reach both.

    The HTTP helpers are synchronous: from a test running in the sandbox's own loop, call them
    through ``asyncio.to_thread``."""

    sandbox: RunningSandbox
    tls_port: int
    ca_file: Path

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    def env(self) -> dict[str, Any]:
        """The settings (environment) of a bot or command on this sandbox, secrets in its vault."""
        return {
            "OFFBOARD_SANDBOX_URL": self.base_url,
            "OFFBOARD_KEY_VAULT_URL": VAULT_URL,
            "OFFBOARD_SANDBOX_VAULT_ADDRESS": f"127.0.0.1:{self.tls_port}",
            "OFFBOARD_SANDBOX_CA_FILE": str(self.ca_file),
        }

    def settings(self, **overrides: Any) -> Settings:
        return Settings(_env_file=None, **{**self.env(), **overrides})

    def secrets(self) -> KeyVaultSecrets:
        """The vault, as the bot opens it."""
        vault = open_key_vault(self.settings())
        assert vault is not None
        return vault

    def secret_listing(self) -> Mapping[str, Any]:
        """The operator's view of the vault (names, versions, tags; no values), read over HTTP."""
        with urllib.request.urlopen(f"{self.base_url}/_sandbox/keyvault/secrets", timeout=10) as answer:
            listing: Mapping[str, Any] = json.load(answer)
        return listing

    def rest(self, path: str, *, token: str) -> Any:
        """``GET https://<vault>/<path>?api-version=7.5`` on the stand-in's TLS socket, as any REST client."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = False  # the socket is addressed by IP; the certificate names the vault
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.tls_port}/{path.lstrip('/')}?api-version=7.5",
            headers={"Authorization": f"Bearer {token}", "Host": VAULT_NAME},
        )
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return json.load(answer)

    def vault_token(self) -> str:
        """A token for the vault (client credentials at the sandbox's token endpoint)."""
        body = b"grant_type=client_credentials&client_id=sandbox-app&client_secret=sandbox-secret&scope=https%3A%2F%2Fvault.azure.net%2F.default"
        request = urllib.request.Request(
            f"{self.base_url}/sandbox/oauth2/v2.0/token", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return str(json.load(answer)["access_token"])

    def operator(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method != "GET" else None)
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else None


def _tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(VAULT_NAME, "127.0.0.1").configure_cert(context)
    ca_file = folder / "sandbox-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


@asynccontextmanager
async def sandbox_with_vault(folder: Path, options: SandboxOptions | None = None) -> AsyncIterator[VaultSandbox]:
    """The sandbox on HTTP and its vault on TLS, in this event loop, until the block exits."""
    context, ca_file = _tls(folder)
    app = create_sandbox_app(options=options)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        (_, http_port), (_, tls_port) = (address[:2] for address in runner.addresses)
        yield VaultSandbox(RunningSandbox(base_url=f"http://127.0.0.1:{http_port}", app=app), tls_port, ca_file)
    finally:
        await runner.cleanup()


class VaultSandboxThread:
    """:func:`sandbox_with_vault` in a thread of its own, for synchronous tests (``with ... as vault:``)."""

    def __init__(self, folder: Path, options: SandboxOptions | None = None) -> None:
        self._folder, self._options = folder, options
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._running: VaultSandbox | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="vault-sandbox", daemon=True)

    def __enter__(self) -> VaultSandbox:
        self._thread.start()
        assert self._ready.wait(30), "the sandbox did not start"
        if self._error is not None:
            raise self._error
        assert self._running is not None
        return self._running

    def __exit__(self, *_: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            self._stop = asyncio.Event()
            try:
                async with sandbox_with_vault(self._folder, self._options) as running:
                    self._running = running
                    self._ready.set()
                    await self._stop.wait()
            except BaseException as error:
                self._error = error
                self._ready.set()
                raise

        try:
            self._loop.run_until_complete(serve())
        finally:
            self._loop.close()
