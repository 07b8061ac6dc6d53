"""The one way a request reaches Partner Center: the client's operations say what to ask, this says how.

Every call is paced (per-tenant rate limiter), authenticated (MSAL), sent with
``MS-RequestId`` / ``MS-CorrelationId``, mapped to the error tree in :mod:`partner_center.errors`,
and retried per :class:`~partner_center.retry.RetryPolicy` keeping the same ``MS-RequestId``,
so a retried write is applied once.

This is the seam a fake replaces (as httpx's ``MockTransport`` does): the operations in
:mod:`partner_center.client` only ever call :meth:`Transport.send`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from .auth import TokenProvider
from .errors import PartnerCenterError, UnavailableError, error_from_response, is_mfa_refusal
from .limits import PartnerLimits, resource_family
from .retry import RetryPolicy

__all__ = ("API_PREFIX", "Reply", "Transport")

API_PREFIX = "/v1"


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer.

    Attributes:
        status: the HTTP status (< 400).
        body: the JSON body, its text when it is not JSON, or None when empty.
        request_id: ``MS-RequestId`` sent (the same on every attempt of the call).
        correlation_id: ``MS-CorrelationId`` sent.
    """

    status: int
    body: Any
    request_id: str
    correlation_id: str


class Transport:
    """Sends requests to one Partner Center (live or sandbox) for one partner tenant.

    :param session: the aiohttp session to send with (owned by the caller).
    :param base_url: ``https://api.partnercenter.microsoft.com`` or the sandbox's URL.
    :param tokens: gives bearer tokens (app-only, or app+user where required).
    :param limits: the partner tenant's rate limiter and concurrency cap.
    :param retry: the retry policy.
    :param request_timeout: seconds for one HTTP attempt.
    :param application: sent as ``MS-PartnerCenter-Application``.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        tokens: TokenProvider,
        limits: PartnerLimits,
        retry: RetryPolicy,
        request_timeout: float,
        application: str,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._tokens = tokens
        self._limits = limits
        self._retry = retry
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._application = application

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        needs_user: bool = False,
        correlation_id: str | None = None,
        retried: bool = True,
    ) -> Reply:
        """Send one logical call; ``retried=False`` makes exactly one attempt (a health probe).

        :param path: ``/v1/...`` (the prefix is added when missing), or a ``links.next`` uri.
        :param needs_user: ask for an app+user token instead of app-only.
        :param correlation_id: shared by the calls of one operation; a fresh one when None.
        :raises PartnerCenterError: the subclass :func:`~partner_center.errors.error_from_response`
            chooses, or :class:`~partner_center.errors.UnavailableError` for no answer at all.
        """
        # One MS-RequestId per logical call, kept across retries: Partner Center's idempotency key.
        request_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        family = resource_family(path)
        if not retried:
            return await self._attempt(
                method,
                path,
                family=family,
                body=body,
                headers=headers or {},
                needs_user=needs_user,
                request_id=request_id,
                correlation_id=correlation_id,
            )
        async for attempt in self._retry.attempts_for_call():
            with attempt:
                return await self._attempt(
                    method,
                    path,
                    family=family,
                    body=body,
                    headers=headers or {},
                    needs_user=needs_user,
                    request_id=request_id,
                    correlation_id=correlation_id,
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        family: str,
        body: Any,
        headers: Mapping[str, str],
        needs_user: bool,
        request_id: str,
        correlation_id: str,
    ) -> Reply:
        # A 401 means the access token is no good any more (revoked, or expired earlier than
        # its expires_in said: clocks apart, the sandbox clock moved). MSAL would hand the
        # same token back from its cache for the rest of the hour, so drop it and send once
        # more with a fresh one; a second 401 is a real refusal.
        for fresh_token in (False, True):
            token = await self._tokens.access_token(needs_user=needs_user)
            request_headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "MS-RequestId": request_id,
                "MS-CorrelationId": correlation_id,
                "MS-Contract-Version": "v1",
                "MS-PartnerCenter-Application": self._application,
                **headers,
            }
            try:
                async with self._limits.slot(family):
                    async with self._session.request(
                        method,
                        self._url(path),
                        json=body,
                        headers=request_headers,
                        timeout=self._timeout,
                    ) as response:
                        text = await response.text()
                        status = response.status
                        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            except (TimeoutError, aiohttp.ClientError) as error:
                raise UnavailableError(
                    f"Partner Center did not answer: {type(error).__name__} {error}".strip(),
                    correlation_id=correlation_id,
                    request_id=request_id,
                ) from error
            if status != 401 or fresh_token:
                break
            if is_mfa_refusal(status, _json_or_text(text)):
                break  # 401/900421: a new token from the same non-MFA refresh token cannot help
            await self._tokens.forget(token)
        payload = _json_or_text(text)
        if status >= 400:
            raise error_from_response(
                status,
                payload,
                correlation_id=correlation_id,
                request_id=request_id,
                retry_after=retry_after,
            )
        return Reply(status, payload, request_id, correlation_id)

    def _url(self, path: str) -> URL:
        """Absolute URL of a path or of a ``links.next`` uri (relative to /v1 in the docs)."""
        if path.startswith(("http://", "https://")):
            absolute = URL(path, encoded=True)
            # A next link is followed with our bearer token: only ever to Partner Center itself.
            if absolute.origin() != URL(self._base).origin():
                raise PartnerCenterError(f"Refusing to follow a link to another host: {absolute.host}")
            return absolute
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith(API_PREFIX + "/"):
            path = API_PREFIX + path
        return URL(self._base + path, encoded=True)


def _json_or_text(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: an integer, or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no stated zone
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
