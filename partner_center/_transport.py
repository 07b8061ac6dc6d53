"""The one way a request reaches Partner Center (or Microsoft Graph): the client's operations say
what to ask, this says how.

Every call is paced (per-tenant rate limiter), authenticated (MSAL), sent with
``MS-RequestId`` / ``MS-CorrelationId``, mapped to the error tree in :mod:`partner_center.errors`,
and retried per :class:`~partner_center.retry.RetryPolicy` keeping the same ``MS-RequestId``,
so a retried write is applied once.

What differs between the two services (path prefix, request headers, error body, throttling
bucket) is a :class:`Dialect`; pacing, tokens, the 401 refresh and the retries are the same code.

This is the seam a fake replaces (as httpx's ``MockTransport`` does): the operations in
:mod:`partner_center.client` and :mod:`partner_center.graph` only ever call :meth:`Transport.send`.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import aiohttp
from yarl import URL

from .auth import TokenProvider
from .errors import PartnerCenterError, UnavailableError, error_from_response, is_mfa_refusal
from .limits import PartnerLimits, resource_family
from .retry import RetryPolicy

__all__ = ("API_PREFIX", "PARTNER_CENTER", "Dialect", "ErrorMapper", "Reply", "Transport")

API_PREFIX = "/v1"


class ErrorMapper(Protocol):
    """Reads a service's error answer into the error tree (:func:`~partner_center.errors.error_from_response`)."""

    def __call__(
        self, status: int, body: Any, *, correlation_id: str, request_id: str, retry_after: float | None = None
    ) -> PartnerCenterError: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """What one service wants that the other does not.

    Attributes:
        service: its name in messages ("Partner Center did not answer").
        path_prefix: added to a path that lacks it (``/v1``); "" when the base URL carries it.
        error_from_response: the service's error body read into the error tree.
        headers: the per-call headers, from ``(request_id, correlation_id, application)``.
        family: the throttling bucket of a path (:func:`~partner_center.limits.resource_family`).
        no_fresh_token_helps: a 401 that a new token cannot cure (Partner Center's MFA refusal).
    """

    service: str
    path_prefix: str
    error_from_response: ErrorMapper
    headers: Callable[[str, str, str], dict[str, str]]
    family: Callable[[str], str]
    no_fresh_token_helps: Callable[[int, Any], bool]


def _partner_center_headers(request_id: str, correlation_id: str, application: str) -> dict[str, str]:
    return {
        "MS-RequestId": request_id,
        "MS-CorrelationId": correlation_id,
        "MS-Contract-Version": "v1",
        "MS-PartnerCenter-Application": application,
    }


PARTNER_CENTER = Dialect(
    service="Partner Center",
    path_prefix=API_PREFIX,
    error_from_response=error_from_response,
    headers=_partner_center_headers,
    family=resource_family,
    no_fresh_token_helps=is_mfa_refusal,
)


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
    """Sends requests to one Partner Center (live or sandbox) for one partner tenant, or to
    Microsoft Graph with ``dialect`` :data:`~partner_center.graph.GRAPH`.

    :param session: the aiohttp session to send with (owned by the caller).
    :param base_url: ``https://api.partnercenter.microsoft.com`` or the sandbox's URL.
    :param tokens: gives bearer tokens (app-only, or app+user where required).
    :param limits: the partner tenant's rate limiter and concurrency cap.
    :param retry: the retry policy.
    :param request_timeout: seconds for one HTTP attempt.
    :param application: sent as ``MS-PartnerCenter-Application``.
    :param dialect: the service's ways (Partner Center's by default).
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
        dialect: Dialect = PARTNER_CENTER,
    ) -> None:
        self._dialect = dialect
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
        tokens: TokenProvider | None = None,
    ) -> Reply:
        """Send one logical call; ``retried=False`` makes exactly one attempt (a health probe).

        :param path: ``/v1/...`` (the prefix is added when missing), or a ``links.next`` uri.
        :param needs_user: ask for an app+user token instead of app-only.
        :param correlation_id: shared by the calls of one operation; a fresh one when None.
        :param tokens: this call's tokens instead of the transport's (a Graph call's tenant).
        :raises PartnerCenterError: the subclass :func:`~partner_center.errors.error_from_response`
            chooses, or :class:`~partner_center.errors.UnavailableError` for no answer at all.
        """
        # One MS-RequestId per logical call, kept across retries: Partner Center's idempotency key.
        request_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        family = self._dialect.family(path)
        calling = tokens or self._tokens
        attempt_once = functools.partial(
            self._attempt,
            method,
            path,
            family=family,
            body=body,
            headers=headers or {},
            needs_user=needs_user,
            request_id=request_id,
            correlation_id=correlation_id,
            tokens=calling,
        )
        if not retried:
            return await attempt_once()
        async for attempt in self._retry.attempts_for_call():
            with attempt:
                return await attempt_once()
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
        tokens: TokenProvider,
    ) -> Reply:
        # A 401 means the access token is no good any more (revoked, or expired earlier than
        # its expires_in said: clocks apart, the sandbox clock moved). MSAL would hand the
        # same token back from its cache for the rest of the hour, so drop it and send once
        # more with a fresh one; a second 401 is a real refusal.
        for fresh_token in (False, True):
            token = await tokens.access_token(needs_user=needs_user)
            request_headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                **self._dialect.headers(request_id, correlation_id, self._application),
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
                    f"{self._dialect.service} did not answer: {type(error).__name__} {error}".strip(),
                    correlation_id=correlation_id,
                    request_id=request_id,
                ) from error
            if status != 401 or fresh_token:
                break
            if self._dialect.no_fresh_token_helps(status, _json_or_text(text)):
                break  # 401/900421: a new token from the same non-MFA refresh token cannot help
            await tokens.forget(token)
        payload = _json_or_text(text)
        if status >= 400:
            raise self._dialect.error_from_response(
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
            # A next link is followed with our bearer token: only ever to the service itself.
            if absolute.origin() != URL(self._base).origin():
                raise PartnerCenterError(f"Refusing to follow a link to another host: {absolute.host}")
            return absolute
        if not path.startswith("/"):
            path = "/" + path
        prefix = self._dialect.path_prefix
        if prefix and not path.startswith(prefix + "/"):
            path = prefix + path
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
