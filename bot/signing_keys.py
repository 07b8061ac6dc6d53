"""The Bot Framework's signing keys: fetched without blocking the bot, and fetched again when a
token names a key the bot does not hold yet.

botbuilder 4.17.1 keeps the keys of each OpenID metadata URL in ``_OpenIdMetadata``, which has
two faults that matter to a bot trusted with removals:

- it fetches with ``requests.get``, with no timeout, inside the event loop: a metadata host that
  hangs stops every conversation and every background removal of the process, for good;
- its "refresh when a key is not found" line is never reached (``_find`` raises ``IndexError``
  first), so after Microsoft publishes and starts using a new key, every message is refused
  until the daily refresh: up to a day of a deaf bot.

:mod:`bot._patches` puts :class:`SigningKeys` (by :func:`keys_for`) in its place, through the one
lookup the SDK makes (``JwtTokenExtractor.get_open_id_metadata``); the SDK's checks of the token itself (algorithm,
signature, issuer, audience, endorsements) are unchanged. Here the keys are fetched with aiohttp
under a timeout, kept a day, and fetched again at most every five minutes when a token names an
unknown ``kid``. When a fetch fails, the keys already held keep working; with none held,
:class:`SigningKeysUnavailable` (the messages endpoint answers 503, and the channel retries).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from jwt.algorithms import RSAAlgorithm

__all__ = ("PublishedKey", "SigningKeys", "SigningKeysUnavailable", "keys_for")

_log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 10.0
MAX_AGE_SECONDS = 24 * 3600.0  # the SDK's own period: Microsoft publishes new keys ahead of use
UNKNOWN_KEY_INTERVAL_SECONDS = 300.0  # forged kids must not make the bot fetch on every request
RETRY_AFTER_FAILURE_SECONDS = 30.0


class SigningKeysUnavailable(Exception):
    """No signing keys are held and none could be fetched: not the caller's fault."""


@dataclass(frozen=True)
class PublishedKey:
    """What the SDK reads of a key (the shape of its ``_OpenIdConfig``)."""

    public_key: Any
    endorsements: list[str]


class SigningKeys:
    """The keys published at one OpenID metadata URL (``await keys.get(kid)``, as the SDK calls it)."""

    def __init__(self, metadata_url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.metadata_url = metadata_url
        self._clock = clock
        self._keys: dict[str, PublishedKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, whatever came of it
        self._failed = False
        self._inflight: tuple[asyncio.AbstractEventLoop, asyncio.Task[dict[str, PublishedKey]]] | None = None

    async def get(self, key_id: str | None) -> PublishedKey:
        if not key_id:
            raise PermissionError("the token names no signing key (no kid)")
        if self._stale() and self._may_fetch(RETRY_AFTER_FAILURE_SECONDS if self._failed else 0):
            await self._refresh()
        key = self._keys.get(key_id)
        if key is None and self._may_fetch(UNKNOWN_KEY_INTERVAL_SECONDS):
            _log.info("a token names signing key %.64r, not among the %d held: fetching the keys again", key_id, len(self._keys))
            await self._refresh()
            key = self._keys.get(key_id)
        if key is None:
            if not self._keys:
                raise SigningKeysUnavailable(f"no signing keys could be fetched from {self.metadata_url}")
            raise PermissionError(f"unknown signing key {key_id[:64]!r}")
        return key

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= MAX_AGE_SECONDS

    def _may_fetch(self, interval: float) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= interval

    async def _refresh(self) -> None:
        """Fetch once for everyone waiting on this loop; a failure keeps the keys held."""
        loop = asyncio.get_running_loop()
        if self._inflight is None or self._inflight[0] is not loop or self._inflight[1].done():
            self._attempted_at = self._clock()
            self._inflight = (loop, loop.create_task(self._fetch(), name="fetch signing keys"))
        task = self._inflight[1]
        try:
            keys = await asyncio.shield(task)  # one waiter cancelled must not cancel the others' fetch
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError) as error:
            self._failed = True
            if self._keys:
                _log.warning(
                    "could not fetch the signing keys from %s (%s: %s): keeping the %d held",
                    self.metadata_url,
                    type(error).__name__,
                    error,
                    len(self._keys),
                )
                return
            _log.error("could not fetch the signing keys from %s: %s: %s", self.metadata_url, type(error).__name__, error)
            raise SigningKeysUnavailable(f"the signing keys could not be fetched from {self.metadata_url}") from None
        if self._inflight is not None and self._inflight[1] is task:
            self._keys, self._fetched_at, self._failed = keys, self._clock(), False

    async def _fetch(self) -> dict[str, PublishedKey]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(self.metadata_url, raise_for_status=True) as response:
                jwks_uri = (await response.json(content_type=None))["jwks_uri"]
            async with http.get(jwks_uri, raise_for_status=True) as response:
                published = (await response.json(content_type=None))["keys"]
        keys: dict[str, PublishedKey] = {}
        for jwk in published:
            try:
                keys[str(jwk["kid"])] = PublishedKey(RSAAlgorithm.from_jwk(json.dumps(jwk)), list(jwk.get("endorsements") or []))
            except Exception as error:  # noqa: BLE001 (one malformed key must not hide the others)
                _log.warning("ignored a malformed signing key from %s: %s", jwks_uri, error)
        if not keys:
            raise ValueError(f"{jwks_uri} publishes no usable signing key")
        return keys


_BY_URL: dict[str, SigningKeys] = {}


def keys_for(metadata_url: str) -> SigningKeys:
    """The process's one :class:`SigningKeys` for ``metadata_url``."""
    keys = _BY_URL.get(metadata_url)
    if keys is None:
        keys = _BY_URL.setdefault(metadata_url, SigningKeys(metadata_url))
    return keys
