"""Proactive notifications to Teams: a new thread in a channel, or a 1:1 chat with a person.

Teams' limits (../shared/reference/teams-and-peers.md §3.5): per bot and conversation at most 7 sends per second and
60 per 30 seconds (we pace at 6 and 55, a margin for network jitter); throttled or conflicting sends come back as 429, 412, 502 or 504 and are
retried after the ``Retry-After`` Teams gives (or exponential backoff with jitter). A 403
``BotNotInConversationRoster`` or 404 ``ConversationNotFound`` means the bot was removed from that
place: the installation is forgotten, nothing is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Protocol

import stamina
from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters, Mention

from removal.case import Person

from .installations import Installation, InstallationStore
from .pacing import ArrivalWindow

__all__ = ("CardAnnouncer", "Gone", "TeamsAnnouncer", "TeamsNotifier", "classify_teams_error", "notification_activity")

_log = logging.getLogger(__name__)
_RETRIED = frozenset({412, 429, 502, 504})
_GONE = {(403, "BotNotInConversationRoster"), (404, "ConversationNotFound")}


class CardAnnouncer(Protocol):
    async def announce(self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str) -> int:
        """Deliver ``card`` to the notification channels and 1:1 to ``requester``; how many were sent."""
        ...


class Gone(Exception):
    """The bot is no longer in that conversation."""


class _Retry(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"Teams answered {status}")
        self.retry_after = retry_after


def notification_activity(card: dict[str, Any], *, text: str = "", mention: Person | None = None) -> Activity:
    """A card, with a text line that @mentions ``mention`` (mentions inside cards are not shown
    everywhere; a mention in the message text notifies the person in every Teams client)."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if mention is not None:
        tag = f"<at>{mention.name or mention.id}</at>"
        activity.text = f"{tag} {text}".strip()
        activity.entities = [Mention(mentioned=ChannelAccount(id=mention.id, name=mention.name), text=tag, type="mention")]
    elif text:
        activity.text = text
    return activity


class TeamsNotifier:
    def __init__(
        self,
        adapter: BotAdapter,
        app_id: str,
        installations: InstallationStore,
        *,
        attempts: int = 6,
        wait_max: float = 30.0,
        # One below Teams' limits, paced by arrival (bot/pacing.py): a margin for Teams' own clock.
        windows: Callable[[], list[ArrivalWindow]] = lambda: [ArrivalWindow(6, 1.0), ArrivalWindow(55, 30.0)],
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._installations = installations
        self._attempts = attempts
        self._wait_max = wait_max
        self._pacing: dict[str, list[ArrivalWindow]] = defaultdict(windows)

    async def to_installation(self, installation: Installation, activity: Activity) -> str | None:
        """Post in that place (a channel: as a new thread); the new message's id, or None if the
        bot is no longer there (the installation is then forgotten)."""
        try:
            if installation.scope == "channel":
                return await self._new_thread(installation, activity)
            return await self._send(installation.conversation_id, installation.reference(), activity)
        except Gone:
            await self._installations.forget(installation.key)
            return None

    async def _new_thread(self, installation: Installation, activity: Activity) -> str | None:
        """A new channel thread is a new conversation whose first activity is ours."""
        parameters = ConversationParameters(
            is_group=True,
            bot=ChannelAccount(id=installation.bot_id, name=installation.bot_name),
            channel_data={"channel": {"id": installation.channel_id}, "tenant": {"id": installation.tenant_id}},
            tenant_id=installation.tenant_id,
            activity=activity,
        )
        created: list[str] = []

        async def note(turn_context: TurnContext) -> None:
            # The thread's conversation id ends with ";messageid=<id of our first message>".
            created.append(turn_context.activity.conversation.id.rpartition(";messageid=")[2])

        async def paced_create() -> None:
            async with self._paced(installation.conversation_id):
                created.clear()
                await self._adapter.create_conversation(self._app_id, note, parameters, "msteams", installation.service_url)

        await self._with_retries(installation.conversation_id, paced_create)
        return created[0] if created else None

    async def to_person(self, person: Person, *, tenant_id: str, service_url: str, activity: Activity) -> str | None:
        """A 1:1 message: in the personal chat if the person has one with the bot, else a new one."""
        known = await self._installations.for_user(tenant_id, person.id)
        if known is not None:
            return await self.to_installation(known, activity)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=self._app_id or "offboard"),
            members=[ChannelAccount(id=person.id, name=person.name)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )
        sent: list[str] = []

        async def send(turn_context: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(turn_context.activity)
            sent.append(await self._send(reference.conversation.id, reference, activity) or "")

        try:
            await self._with_retries(
                "create conversation",
                lambda: self._adapter.create_conversation(self._app_id, send, parameters, "msteams", service_url),
            )
        except Gone:
            _log.warning("could not open a 1:1 chat with %s: the app is not installed for them", person.id)
            return None
        return sent[0] if sent else None

    async def _send(self, conversation_id: str, reference: Any, activity: Activity) -> str | None:
        posted: list[str] = []

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            posted.append(response.id if response and response.id else "")

        async def paced_send() -> None:
            async with self._paced(conversation_id):
                posted.clear()
                await self._adapter.continue_conversation(reference, send, self._app_id)

        await self._with_retries(conversation_id, paced_send)
        return posted[0] if posted else None

    @asynccontextmanager
    async def _paced(self, conversation_id: str) -> AsyncIterator[None]:
        """A place in every window of the conversation, for the send and a period after it."""
        async with AsyncExitStack() as places:
            for window in self._pacing[conversation_id]:
                await places.enter_async_context(window.slot())
            yield

    async def _with_retries(self, what: str, attempt: Callable[[], Any]) -> None:
        async for retrying in stamina.retry_context(
            on=_backoff, attempts=self._attempts, wait_initial=0.5, wait_max=self._wait_max, timeout=None
        ):
            with retrying:
                try:
                    await attempt()
                except Exception as error:  # botbuilder raises msrest errors carrying the response
                    raise classify_teams_error(error, what) from error


def _backoff(error: Exception) -> bool | float:
    """Retry throttling and conflicts; wait what Teams asked for when it said."""
    if isinstance(error, _Retry):
        return error.retry_after if error.retry_after is not None else True
    return False


def classify_teams_error(error: Exception, what: str) -> Exception:
    """What a failed send to Teams means: :class:`Gone` (the bot is no longer there), a retry
    after ``Retry-After``, or the error itself (used by the notifier and the case messenger)."""
    response = getattr(error, "response", None)
    status = int(getattr(response, "status_code", 0) or getattr(response, "status", 0) or 0)
    code = _error_code(error)
    # By Teams' code whatever the status (the Agents Playground answers 500 ConversationNotFound).
    if (status, code) in _GONE or status == 404 or code in {gone_code for _, gone_code in _GONE}:
        return Gone(f"{what}: {status} {code}")
    if status in _RETRIED:
        headers = getattr(response, "headers", None) or {}
        return _Retry(status, _seconds(headers.get("Retry-After")))
    return error


def _error_code(error: Exception) -> str:
    inner = getattr(getattr(error, "error", None), "error", None)
    return str(getattr(inner, "code", "") or "")


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None  # an HTTP date: rare from Teams; fall back to backoff


class TeamsAnnouncer:
    """The :class:`CardAnnouncer` for Teams: the configured channels (by channel id) and the
    channels that typed ``notify here``, each a new thread; then the requester 1:1."""

    def __init__(self, notifier: TeamsNotifier, installations: InstallationStore, *, channel_ids: list[str]) -> None:
        self._notifier = notifier
        self._installations = installations
        self._channel_ids = channel_ids

    async def channels(self) -> list[Installation]:
        found: dict[str, Installation] = {}
        for channel_id in self._channel_ids:
            installation = await self._installations.for_channel(channel_id)
            if installation is None:
                _log.warning("notification channel %s: the bot is not installed there (yet)", channel_id)
            else:
                found[installation.key] = installation
        for key in await self._installations.subscribed():
            installation = await self._installations.get(key)
            if installation is not None:
                found[installation.key] = installation
        return list(found.values())

    async def announce(self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str) -> int:
        activity_for = lambda: notification_activity(card, text=text, mention=requester)  # noqa: E731 (a fresh activity per send)
        results = await asyncio.gather(
            *(self._notifier.to_installation(channel, activity_for()) for channel in await self.channels()),
            return_exceptions=True,
        )
        if requester is not None and service_url:
            personal = notification_activity(card)
            results += await asyncio.gather(
                self._notifier.to_person(requester, tenant_id=tenant_id, service_url=service_url, activity=personal),
                return_exceptions=True,
            )
        for result in results:
            if isinstance(result, BaseException):
                _log.error("a notification could not be sent", exc_info=result)
        return sum(1 for result in results if isinstance(result, str))
