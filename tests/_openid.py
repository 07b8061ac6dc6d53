"""The Bot Framework's token side on loopback: OpenID metadata and signing keys served from
127.0.0.1, and tokens signed here, the way the Bot Connector signs what it sends to a bot.

The bot fetches the metadata, then its ``jwks_uri`` (:mod:`bot.signing_keys`; botbuilder's own
fetch did it synchronously, inside the bot's event loop); the server runs on its own loop in a
thread, so that it answers whatever the bot's loop does. The keys are held per metadata URL for
the process, across tests: each :class:`OpenIdProvider` has its own port, hence its own URL and
held keys. ``stall_seconds`` and ``broken`` make the host hang or fail.

    with OpenIdProvider() as provider:
        settings = Settings(app_id=APP_ID, app_password="...", sandbox=True, bot_openid_metadata_url=provider.metadata_url)
        token = provider.token(audience=APP_ID, service_url=connector_url)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ("ISSUER", "OpenIdProvider", "SigningKey", "hs256_token")

ISSUER = "https://api.botframework.com"  # what the Bot Connector puts in "iss"


@dataclass(frozen=True)
class SigningKey:
    """An RSA key, its ``kid``, and the channels it is endorsed for (the JWK's ``endorsements``)."""

    kid: str
    endorsements: tuple[str, ...] = ("msteams",)
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        return {
            **RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True),
            "kid": self.kid,
            "use": "sig",
            "endorsements": list(self.endorsements),
        }

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class OpenIdProvider:
    """Serves ``/v1/.well-known/openidconfiguration`` and ``/v1/keys`` for the published keys.

    :param keys: the keys in the JWKS (default: one endorsed for ``msteams``).
    """

    def __init__(self, keys: list[SigningKey] | None = None) -> None:
        self.keys = keys or [SigningKey("teams-key")]
        self.fetches: list[str] = []  # paths requested, in order
        self.stall_seconds = 0.0  # answer that much later (a hanging host)
        self.broken = False  # answer 500 (a host that fails)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/.well-known/openidconfiguration"

    def key(self, kid: str) -> SigningKey:
        return next(k for k in self.keys if k.kid == kid)

    def token(
        self,
        *,
        audience: str,
        service_url: str,
        key: SigningKey | None = None,
        lifetime: float = 3600,
        not_before: float | None = None,
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """A channel token as the Bot Connector makes it; every part can be made wrong (a claim or
        header given as None is left out)."""
        key = key or self.keys[0]
        now = time.time()
        payload = {
            "iss": ISSUER,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": int(now - 60 if not_before is None else not_before),
            "iat": int(now - 60),
            "exp": int(now + lifetime),
            **(claims or {}),
        }
        header = {"kid": key.kid, **(headers or {})}
        signing_key = None if algorithm == "none" else key.private
        return jwt.encode(
            {name: value for name, value in payload.items() if value is not None},
            signing_key,
            algorithm=algorithm,
            headers={name: value for name, value in header.items() if value is not None},
        )

    # ---- the server, on its own loop in a thread ----

    def __enter__(self) -> OpenIdProvider:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="openid-provider", daemon=True)
        self._thread.start()
        if not started.wait(timeout=10):
            raise RuntimeError("the OpenID provider did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _serve(self, started: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

    async def _misbehave(self, request: web.Request) -> None:
        self.fetches.append(request.path)
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        if self.broken:
            raise web.HTTPInternalServerError()

    async def _metadata(self, request: web.Request) -> web.Response:
        await self._misbehave(request)
        base = f"http://127.0.0.1:{self.port}"
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{base}/v1/authorize",
                "jwks_uri": f"{base}/v1/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        await self._misbehave(request)
        return web.json_response({"keys": [key.jwk() for key in self.keys]})


def hs256_token(secret: bytes, payload: dict[str, Any], *, kid: str) -> str:
    """An HS256 token keyed with ``secret`` (e.g. the RSA public key's PEM: the classic
    algorithm-confusion forgery). Made by hand: PyJWT refuses to HMAC with a PEM key."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{part(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
