"""``POST /api/notifications``: other systems (a ticketing tool, a runbook) post a notification card
to the notification channels.

Authentication: an HMAC-SHA256 over ``"{timestamp}.{raw body}"`` with the shared secret
(``OFFBOARD_NOTIFY_SECRET``), sent as ``X-Offboard-Signature: sha256=<hex>`` with
``X-Offboard-Timestamp: <unix seconds>``. A timestamp more than five minutes away is refused, so a
captured request cannot be replayed later; within those five minutes each signature is accepted
once, so it cannot be replayed then either (to send the same notification again, sign it again
with a newer timestamp). Missing or wrong → 401; a signature already used → 409; a body that is
not the JSON below (``url``, when given, must be https) → 400; in all three cases nothing is sent.
Accepted → 202 ``{"sent": n}``. Title and text are shown as written, not as markdown.

    {"title": "Ticket 4711: offboard Contoso", "text": "Approved by the account manager.",
     "url": "https://tickets.example.com/4711", "locale": "en-US"}

(HMAC rather than a bearer token: the secret never travels, and the body cannot be altered.)

Every call is audited: ``notify.api`` for an accepted one (before it is sent; if it cannot be
recorded, nothing is sent and the answer is 503), ``refused.notify_api`` with the status and the
reason for a refused one. Refusals need no secret, so at most 20 are recorded in 10 minutes (the
audit trail may be immutable storage that nobody can clean up); the ones past that are counted,
and the count goes with the next one recorded.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints, ValidationError

import cards
from bot.request_body import read_body
from removal.audit import AuditEvent, AuditTrail

__all__ = ("SIGNATURE_HEADER", "TIMESTAMP_HEADER", "Notification", "notifications_handler", "sign", "signed_headers")

SIGNATURE_HEADER = "X-Offboard-Signature"
TIMESTAMP_HEADER = "X-Offboard-Timestamp"
_MAX_SKEW_SECONDS = 300
_MAX_BODY_BYTES = 64 * 1024
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
# Signatures accepted in the last window, at most: only authentic requests are remembered, so
# reaching it takes the secret; past it, notifications are refused (429) rather than a
# remembered signature forgotten early, which would let its request be replayed.
_MAX_REMEMBERED = 10_000
_AUDITED_REFUSALS = 20
_REFUSAL_WINDOW_SECONDS = 600.0
_log = logging.getLogger(__name__)

Deliver = Callable[[dict], Awaitable[int]]


class Notification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    text: str = Field("", max_length=4000)
    # https only: the button opens it from the bot's card, in the bot's name.
    url: Annotated[HttpUrl, UrlConstraints(allowed_schemes=["https"])] | None = None
    locale: str = Field("en-US", max_length=20)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (for callers and tests)."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """The headers a caller sends with ``body`` (now, unless ``timestamp`` is given)."""
    stamp = timestamp or str(int(time.time()))
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body)}


class _UsedSignatures:
    """The signatures accepted while their timestamp is still inside the window: each only once.

    A signature is remembered until its timestamp falls out of the window, after which the
    timestamp check refuses it anyway; so what is kept is bounded by the window.
    """

    def __init__(self, limit: int = _MAX_REMEMBERED) -> None:
        self._limit = limit
        self._signatures: set[str] = set()
        self._expiries: list[tuple[float, str]] = []  # a heap: the first to expire first

    def __contains__(self, signature: object) -> bool:
        return signature in self._signatures

    @property
    def full(self) -> bool:
        return len(self._signatures) >= self._limit

    def forget_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, signature = heapq.heappop(self._expiries)
            self._signatures.discard(signature)

    def add(self, signature: str, *, expires: float) -> None:
        self._signatures.add(signature)
        heapq.heappush(self._expiries, (expires, signature))

    def discard(self, signature: str) -> None:
        """Forget a signature whose notification was not sent after all (its heap entry stays
        and expires harmlessly)."""
        self._signatures.discard(signature)


class _RefusalBudget:
    """How many refused calls are audited: ``limit`` in each ``window`` seconds; past it they
    are counted, and the count is recorded with the next refusal audited."""

    def __init__(self, limit: int = _AUDITED_REFUSALS, window: float = _REFUSAL_WINDOW_SECONDS) -> None:
        self._limit = limit
        self._window = window
        self._started = float("-inf")
        self._taken = 0
        self._unrecorded = 0

    def take(self, now: float) -> int | None:
        """None: do not record this one. Otherwise: how many went unrecorded before it."""
        if now - self._started >= self._window:
            self._started, self._taken = now, 0
        if self._taken >= self._limit:
            if not self._unrecorded:
                _log.warning("more than %d refused notification calls in %g s: counted, not each audited", self._limit, self._window)
            self._unrecorded += 1
            return None
        self._taken += 1
        unrecorded, self._unrecorded = self._unrecorded, 0
        return unrecorded


def notifications_handler(
    secret: str, deliver: Deliver, *, audit: AuditTrail, clock: Callable[[], float] = time.time
) -> Callable[[web.Request], Awaitable[web.Response]]:
    used = _UsedSignatures()
    refusals = _RefusalBudget()

    async def handle(request: web.Request) -> web.Response:
        if not secret:
            return _problem(404, "notifications are not configured (OFFBOARD_NOTIFY_SECRET)")
        body = await read_body(request, limit=_MAX_BODY_BYTES)
        if body is None:
            return await refuse(request, 413, "the notification is too large")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        # ASCII digits only, and few: str.isdigit() is also true of "²" and "١٢٣", and int()
        # refuses more than 4300 digits; either would escape as a 500.
        if not _UNIX_SECONDS.fullmatch(timestamp) or abs(clock() - int(timestamp)) > _MAX_SKEW_SECONDS:
            return await refuse(request, 401, "missing or stale X-Offboard-Timestamp")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), sign(secret, timestamp, body).encode("ascii")):
            return await refuse(request, 401, "bad or missing X-Offboard-Signature")
        # Checked and recorded with no await in between: two copies arriving together cannot
        # both pass. 409 rather than 401: the request is authentic (its signature checks), and a
        # sender that retries after losing the first answer learns that it was delivered, and
        # is not told to look for a wrong secret or clock. An attacker who replays it learns
        # nothing they did not know.
        used.forget_expired(clock())
        if signature in used:
            return await refuse(request, 409, "this notification (its X-Offboard-Signature) was already accepted; nothing was sent again")
        if used.full:
            return await refuse(request, 429, "too many notifications in the last minutes; try again later")
        used.add(signature, expires=int(timestamp) + _MAX_SKEW_SECONDS)
        try:
            notification = Notification.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            return await refuse(request, 400, f"{'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}")
        if not await accepted(request, notification):
            used.discard(signature)  # nothing was sent: the same request may come again
            return _problem(503, "the notification could not be recorded in the audit trail; nothing was sent, send it again")
        card = cards.external_notification_card(
            notification.title, notification.text, str(notification.url or ""), locale=notification.locale
        )
        return web.json_response({"sent": await deliver(card)}, status=202)

    async def accepted(request: web.Request, notification: Notification) -> bool:
        """Audit an accepted notification before it is sent; False if that failed."""
        try:
            await audit.record(_event(request, clock(), "notify.api", "ok", notification.title, item=str(notification.url or "")))
        except Exception:  # noqa: BLE001
            _log.exception("could not audit an accepted notification: not sent")
            return False
        return True

    async def refuse(request: web.Request, status: int, detail: str) -> web.Response:
        unrecorded = refusals.take(clock())
        if unrecorded is not None:
            extra = {"status": status, **({"unrecorded_refusals_before": unrecorded} if unrecorded else {})}
            try:
                await audit.record(_event(request, clock(), "refused.notify_api", "refused", detail, extra=extra))
            except Exception:  # the caller is refused all the same; the log keeps it  # noqa: BLE001
                _log.exception("could not audit a refused notification (%s %s)", status, detail)
        return _problem(status, detail)

    return handle


def _event(request: web.Request, now: float, action: str, result: str, detail: str, **fields: Any) -> AuditEvent:
    # The address the call came from (a reverse proxy's own, behind one): who, as far as it is known.
    return AuditEvent(
        at=datetime.fromtimestamp(now, UTC),
        action=action,
        actor=f"notification API caller {request.remote or 'unknown'}",
        result=result,
        detail=detail,
        **fields,
    )


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"status": status, "detail": detail}, status=status)
