"""The scheduled check of the app+user refresh token (issue 20, "Token health").

At start-up and then every hour: the token's health is judged (``partner_center.token_health``);
when it has not been redeemed for ``OFFBOARD_TOKEN_CHECK_DAYS`` it is redeemed now (the
redemption renews it: Entra ID lets a refresh token lapse only after 90 days *without use*,
https://learn.microsoft.com/entra/identity-platform/refresh-tokens); the health after that decides.
Not healthy: the approvers are warned in Teams once per problem (the notification channels, and
each approver in a personal chat with the bot), with what is wrong, since when, when it lapses and
what to run. The problem announced is kept in the document store (``notices/token-health``), so
that a restart, or a second instance, does not announce it again; a new problem is announced;
recovery clears it. ``/healthz`` reads :attr:`TokenHealthMonitor.latest`.

The token is judged on what the shared store holds (the provider's ``last_persisted_redeemed_at``):
a rotation that could not be written back (``persist_error``: the identity may read the Key Vault
but not write the secret) keeps the stored token ageing, and is a problem of its own. Entra ID's
redemption does not see Partner Center's MFA rule (401/900421, a sign-in without MFA): after a
redemption one cheap app+user Partner Center call (``probe``) asks Partner Center too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from cards import DEFAULT_LOCALE
from cards.token_health import token_health_card
from partner_center.errors import MfaRequiredError, PartnerCenterError
from partner_center.token_health import Attempt, AttemptResult, TokenHealth, assess, attempt_from_error, due_for_exercise
from storage import DocumentStore, PreconditionFailed

from .case_notices import PersonalChats

__all__ = ("NOTICE_KEY", "TOKEN_HEALTH", "SandboxClockFollower", "TokenHealthMonitor", "TokenUser", "health_word")

_log = logging.getLogger(__name__)

NOTICE_KEY = "notices/token-health"
CHECK_INTERVAL_SECONDS = 3600.0
# /healthz waits this long for the first verdict (as for its other checks), then says degraded.
_HEALTH_WAIT_SECONDS = 10.0
# The app+user Partner Center call after a redemption: short, because /healthz waits for the first
# verdict; a Partner Center that is slow or down (retrying) says nothing about the token.
_PROBE_SECONDS = 5.0


class TokenUser(Protocol):
    """What the check needs of the token provider (``partner_center.MsalTokenProvider``)."""

    @property
    def has_user_credential(self) -> bool: ...

    @property
    def last_redeemed_at(self) -> datetime | None: ...

    @property
    def last_persisted_redeemed_at(self) -> datetime | None: ...

    @property
    def persist_error(self) -> str | None: ...

    async def load(self) -> None: ...

    async def exercise(self) -> datetime: ...


class TokenHealthMonitor:
    """Judges, exercises and announces; one check at a time.

    :param tokens: the bot's token provider (the same one its clients use: one cache).
    :param documents: where the announced problem and the latest attempt are kept.
    :param announce: posts a card to the notification channels; how many received it.
    :param clock: the bot's clock (the sandbox's, on the sandbox).
    :param before_check: brings ``clock`` up to date first (a sandbox elsewhere, read over HTTP).
    :param personal_chats, approvers, tenant_id: each approver (Entra object id) gets the warning
        1:1 too, where the bot has a personal chat with them.
    :param locale: the language of the warning (channels have none of their own).
    :param timeout: seconds a redemption may take before it counts as "not answering".
    :param probe: one cheap app+user Partner Center call, made after a successful redemption
        (``PartnerCenterClient.get_relationship_request_url``, as the doctor makes it).
    """

    def __init__(
        self,
        tokens: TokenUser,
        documents: DocumentStore,
        *,
        announce: Callable[[dict[str, Any]], Awaitable[int]],
        clock: Callable[[], datetime],
        check_days: int,
        warn_days: int,
        before_check: Callable[[], Awaitable[None]] | None = None,
        personal_chats: PersonalChats | None = None,
        approvers: Sequence[str] = (),
        tenant_id: str = "",
        locale: str = DEFAULT_LOCALE,
        timeout: float = 60.0,
        probe: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._tokens = tokens
        self._documents = documents
        self._announce = announce
        self._clock = clock
        self._before_check = before_check
        self._check_days = check_days
        self._warn_days = warn_days
        self._personal_chats = personal_chats
        self._approvers = tuple(approvers)
        self._tenant_id = tenant_id
        self._locale = locale
        self._timeout = timeout
        self._probe = probe
        self._lock = asyncio.Lock()
        self._first: asyncio.Future[TokenHealth] | None = None
        self.latest: TokenHealth | None = None

    async def current(self) -> TokenHealth:
        """The latest verdict; until there is one, the first check (started once, shared by every
        caller, and not cancelled with a caller that stops waiting)."""
        if self.latest is not None:
            return self.latest
        if self._first is None or (self._first.done() and (self._first.cancelled() or self._first.exception() is not None)):
            self._first = asyncio.ensure_future(self.check())
        return await asyncio.shield(self._first)

    async def check(self) -> TokenHealth:
        """Judge the token, redeem it if it is due, warn the approvers of a new problem."""
        async with self._lock:
            if self._before_check is not None:
                await self._before_check()
            stored = await self._documents.read(NOTICE_KEY)
            notice = dict(stored.document) if stored else {}
            latest = _attempt_of(notice.get("attempt"))
            try:
                await self._tokens.load()
            except Exception:  # the store (Key Vault) not answering: judged on what is in memory  # noqa: BLE001
                _log.exception("token health: could not read the stored token cache")
            # What the store holds (the stored cache's tag) or, where the cache is not shared (a
            # sandbox without a vault), the latest this check saw: a restart keeps it.
            redeemed = _later(self._stored_redeemed_at(), _time_of(notice.get("redeemedAt")))
            if self._tokens.has_user_credential and due_for_exercise(redeemed, self._clock(), check_days=self._check_days):
                latest = await self._exercise()
                redeemed = _later(self._stored_redeemed_at(), redeemed)
            if redeemed is not None:
                notice["redeemedAt"] = redeemed.astimezone(UTC).isoformat()
            failing_since = self._write_back_failing_since(notice)
            health = assess(
                has_user_credential=self._tokens.has_user_credential,
                last_redeemed_at=redeemed,
                now=self._clock(),
                latest=latest,
                check_days=self._check_days,
                warn_days=self._warn_days,
                write_back_failed_since=failing_since,
            )
            await self._settle(health, latest, notice, stored.etag if stored else None)
            self.latest = health
            return health

    async def run_every(self, interval: float = CHECK_INTERVAL_SECONDS) -> None:
        """Check now, then every ``interval`` seconds, whatever one check does."""
        first = True
        while True:
            try:
                await (self.current() if first else self.check())
            except Exception:  # storage or Teams briefly unreachable: the next tick tries again  # noqa: BLE001
                _log.exception("token health check failed; trying again in %s s", interval)
            first = False
            await asyncio.sleep(interval)

    def _stored_redeemed_at(self) -> datetime | None:
        """The redemption the store holds (``last_persisted_redeemed_at``) while a write-back fails;
        else the provider's record, the same when writes succeed, and the only one without a
        shared store (a sandbox without a vault: the notice's ``redeemedAt`` keeps it)."""
        persisted = self._tokens.last_persisted_redeemed_at
        if self._tokens.persist_error:
            return persisted
        return persisted or self._tokens.last_redeemed_at

    def _write_back_failing_since(self, notice: dict[str, Any]) -> datetime | None:
        """Since when rotated tokens cannot be written back (kept in the notice), or None."""
        error = self._tokens.persist_error
        if not error:
            notice.pop("writeBackFailedSince", None)
            return None
        since = _time_of(notice.get("writeBackFailedSince"))
        if since is None:
            since = self._clock()
            _log.warning("token health: the rotated sign-in cannot be written back to Key Vault: %s", error)
        notice["writeBackFailedSince"] = since.astimezone(UTC).isoformat()
        return since

    async def _exercise(self) -> Attempt:
        error: BaseException | None = None
        try:
            await asyncio.wait_for(self._tokens.exercise(), timeout=self._timeout)
        except (PartnerCenterError, TimeoutError, OSError) as failure:
            error = failure
            # Entra ID's own words (an AADSTS text) go to the log only.
            _log.warning("token health: the refresh token could not be redeemed: %s", failure)
        if error is None and self._probe is not None:
            error = await self._ask_partner_center()
        return attempt_from_error(error, self._clock())

    async def _ask_partner_center(self) -> BaseException | None:
        """Partner Center's word on the redeemed token: only its MFA refusal (401/900421) is about
        the token; an outage or a throttled call says nothing about it (logged, the redemption stands)."""
        assert self._probe is not None
        try:
            await asyncio.wait_for(self._probe(), timeout=min(self._timeout, _PROBE_SECONDS))
        except MfaRequiredError as refused:
            _log.warning("token health: Partner Center refuses the app+user sign-in (no MFA): %s", refused)
            return refused
        except (PartnerCenterError, TimeoutError, OSError) as failure:
            _log.warning("token health: the app+user Partner Center call failed: %s", type(failure).__name__)
        return None

    async def _settle(self, health: TokenHealth, latest: Attempt | None, notice: dict[str, Any], etag: str | None) -> None:
        """Store the attempt; announce a problem not announced yet (claimed in the store first, so
        that two instances do not both announce it), or clear the announced one on recovery."""
        announced = str(notice.get("announced", ""))
        problem = health.problem
        changed = {**notice, "attempt": _attempt_json(latest), "status": health.status.value, "problem": problem}
        announce = bool(problem) and problem != announced
        changed["announced"] = problem if announce else (announced if problem else "")
        if announce:
            changed["announcedAt"] = self._clock().astimezone(UTC).isoformat()
        try:
            await self._documents.write(NOTICE_KEY, changed, if_match=etag, if_none_match=etag is None)
        except PreconditionFailed:
            _log.info("token health: another instance updated the notice at the same time; it announces")
            return
        if not announce:
            if announced and not problem:
                _log.info("token health: healthy again (the warning about %s is cleared)", announced)
            return
        try:
            card = token_health_card(health, now=self._clock(), check_days=self._check_days, locale=self._locale)
            sent = await self._announce(card)
        except BaseException:
            # Claimed but not told (Teams refused, the card could not be drawn): unclaimed, so that
            # the next check, here or on another instance, announces it.
            try:
                await asyncio.shield(self._unclaim(announced))
            except Exception:  # the store failing too: the claim stays; logged  # noqa: BLE001
                _log.exception("token health: could not unclaim the warning that was not sent")
            raise
        for object_id in self._approvers:
            sent += await self._to_approver(object_id, card)
        _log.warning("token health: %s (%s); warned in %d conversation(s)", health.status.value, health.reason.value, sent)
        if sent == 0:
            # Nobody heard it (no channel yet): unclaimed, so that the next check tries again.
            await self._unclaim(announced)

    async def _to_approver(self, object_id: str, card: dict[str, Any]) -> int:
        if self._personal_chats is None or not self._tenant_id:
            return 0
        try:
            return int(await self._personal_chats.send(self._tenant_id, object_id, card))
        except Exception:  # one approver's chat must not keep the others from theirs  # noqa: BLE001
            _log.exception("could not send the token warning to approver %s", object_id)
            return 0

    async def _unclaim(self, previous: str) -> None:
        stored = await self._documents.read(NOTICE_KEY)
        if stored is None:
            return
        try:
            await self._documents.write(NOTICE_KEY, {**stored.document, "announced": previous}, if_match=stored.etag)
        except PreconditionFailed:
            pass  # another instance moved on: its word stands


# Where app.py keeps the monitor, for /healthz.
TOKEN_HEALTH = web.AppKey("token_health", TokenHealthMonitor)


async def health_word(monitor: TokenHealthMonitor | None) -> str:
    """``/healthz``'s word for the token: ``ok``, ``degraded`` (a problem, or no verdict in time)
    or ``starting``. No network call once the first check is done: the latest verdict is used."""
    if monitor is None:
        return "starting"
    try:
        health = await asyncio.wait_for(monitor.current(), timeout=_HEALTH_WAIT_SECONDS)
    except Exception:  # the first check failing or slow is the reason to report  # noqa: BLE001
        _log.exception("health check: the token's health is not known")
        return "degraded"
    return "ok" if health.healthy else "degraded"


class SandboxClockFollower:
    """The clock of a sandbox running elsewhere (``OFFBOARD_SANDBOX_URL``), read from its
    operator endpoint ``GET /_sandbox/clock``: the token-health check and the ``redeemed-at`` tag
    follow the sandbox's time, as the token endpoint does, when a demo or a test moves it."""

    def __init__(self, sandbox_url: str, session: aiohttp.ClientSession) -> None:
        self._url = f"{sandbox_url.rstrip('/')}/_sandbox/clock"
        self._session = session
        self._offset: Any = None

    def now(self) -> datetime:
        wall = datetime.now(UTC)
        return wall + self._offset if self._offset is not None else wall

    async def refresh(self) -> None:
        try:
            async with self._session.get(self._url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                body = await response.json()
            sandbox = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
        except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError):
            _log.warning("could not read the sandbox's clock at %s; keeping the last one known", self._url)
            return
        self._offset = sandbox - datetime.now(UTC)


def _later(one: datetime | None, other: datetime | None) -> datetime | None:
    if one is None or other is None:
        return one or other
    return max(one, other)


def _time_of(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _attempt_json(attempt: Attempt | None) -> dict[str, Any] | None:
    if attempt is None:
        return None
    return {"result": attempt.result.value, "at": attempt.at.astimezone(UTC).isoformat(), "code": attempt.code}


def _attempt_of(document: Any) -> Attempt | None:
    if not isinstance(document, dict):
        return None
    try:
        return Attempt(AttemptResult(document["result"]), datetime.fromisoformat(document["at"]), int(document.get("code", 0)))
    except (KeyError, TypeError, ValueError):
        return None
