"""Where the bot is installed: the conversation references it needs to post on its own.

Keyed by what identifies a place in Teams, never by a thread id (a channel's threads are
``19:…@thread.tacv2;messageid=…``; the channel is the part before ``;``)::

    installations/{tenant}/team/{team id}/channel/{channel id}
    installations/{tenant}/chat/{group chat id}
    installations/{tenant}/user/{Teams user id}          (the personal chat)
    installationchannels/{channel id} → the channel's key   (settings name channels by id)
    installationpeople/{tenant}/{Entra object id} → the personal chat's key and the person's name
                                                   (approvers are configured by object id)
    notify/channels → {"keys": [...]}                      (channels that typed "notify here")

Each installation keeps the latest serviceUrl seen in that place. Lookups are by key; nothing
is ever listed or scanned (a scan per send is what made peers' notification bots crawl).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference

from storage import DocumentStore, PreconditionFailed

from .activity import tenant_ids

__all__ = ("Installation", "InstallationStore", "KnownPersonalChats", "place_of")

_log = logging.getLogger(__name__)
_SUBSCRIBED = "notify/channels"
_MAX_ID_LENGTH = 256  # Teams' tenant, team and channel ids are under 100 characters


@dataclass(frozen=True, slots=True)
class Installation:
    key: str
    scope: str  # "channel", "groupChat" or "personal"
    tenant_id: str
    conversation_id: str  # the channel id for a channel: posting there starts a new thread
    service_url: str
    bot_id: str
    bot_name: str = ""
    team_id: str = ""
    channel_id: str = ""
    user_id: str = ""

    def reference(self) -> ConversationReference:
        return ConversationReference(
            channel_id="msteams",
            service_url=self.service_url,
            bot=ChannelAccount(id=self.bot_id, name=self.bot_name),
            conversation=ConversationAccount(
                id=self.conversation_id,
                tenant_id=self.tenant_id,
                conversation_type=self.scope,
                is_group=self.scope != "personal",
            ),
        )

    def to_document(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def place_of(activity: Activity) -> Installation | None:
    """The place an activity comes from, as an installation (None if it names none)."""
    conversation = activity.conversation
    if conversation is None or not conversation.id or activity.recipient is None:
        return None
    tenant = next(iter(tenant_ids(activity)), "")
    team_id, channel_id = _channel_data_id(activity, "team"), _channel_data_id(activity, "channel")
    if not all(len(value) <= _MAX_ID_LENGTH and value.isprintable() for value in (tenant, team_id, channel_id)):
        return None  # not ids Teams writes: no place to remember
    base = {
        "tenant_id": tenant,
        "service_url": activity.service_url or "",
        "bot_id": activity.recipient.id,
        "bot_name": activity.recipient.name or "",
    }
    kind = conversation.conversation_type or ("channel" if team_id else "personal")
    if kind == "channel" or team_id:
        channel_id = channel_id or conversation.id.split(";", 1)[0]
        team_id = team_id or channel_id
        return Installation(
            key=f"installations/{tenant}/team/{team_id}/channel/{channel_id}",
            scope="channel",
            conversation_id=channel_id,
            team_id=team_id,
            channel_id=channel_id,
            **base,
        )
    if kind == "groupChat":
        return Installation(
            key=f"installations/{tenant}/chat/{conversation.id}", scope="groupChat", conversation_id=conversation.id, **base
        )
    user_id = activity.from_property.id if activity.from_property else ""
    return Installation(
        key=f"installations/{tenant}/user/{user_id}", scope="personal", conversation_id=conversation.id, user_id=user_id, **base
    )


def _channel_data_id(activity: Activity, name: str) -> str:
    """``channelData.<name>.id`` (Teams' team and channel), "" when it is absent or malformed."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    entry = data.get(name)
    value = entry.get("id") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else ""


def _person_key(tenant_id: str, object_id: str) -> str:
    return f"installationpeople/{tenant_id}/{object_id}"


class InstallationStore:
    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents
        self._known: dict[str, str] = {}  # key → serviceUrl last written (saves a write per turn)

    async def remember(self, turn_context: TurnContext) -> Installation | None:
        """Keep (or refresh) the place this activity comes from; cheap when nothing changed."""
        place = place_of(turn_context.activity)
        if place is None or not place.service_url or self._known.get(place.key) == place.service_url:
            return place
        await self._documents.write(place.key, place.to_document())
        if place.channel_id:
            await self._documents.write(f"installationchannels/{place.channel_id}", {"key": place.key})
        await self._index_person(place, turn_context.activity)
        self._known[place.key] = place.service_url
        return place

    async def _index_person(self, place: Installation, activity: Activity) -> None:
        """A personal chat, by the person's Entra object id too (how approvers are configured)."""
        person = activity.from_property
        object_id = (getattr(person, "aad_object_id", None) or "").lower()
        if place.scope != "personal" or not object_id or len(object_id) > _MAX_ID_LENGTH or not object_id.isprintable():
            return
        name = str(getattr(person, "name", "") or "")[:_MAX_ID_LENGTH]
        await self._documents.write(_person_key(place.tenant_id, object_id), {"key": place.key, "name": name})

    async def for_person(self, tenant_id: str, object_id: str) -> tuple[Installation, str] | None:
        """The personal chat of the person with that Entra object id, and their name, if known."""
        stored = await self._documents.read(_person_key(tenant_id, object_id.lower()))
        if stored is None:
            return None
        installation = await self.get(stored.document["key"])  # None: the chat was forgotten since
        return (installation, str(stored.document.get("name", ""))) if installation is not None else None

    async def forget(self, key: str) -> None:
        """Uninstalled (or Teams says the bot is no longer there): drop it and its subscription."""
        stored = await self._documents.read(key)
        await self._documents.delete(key)
        self._known.pop(key, None)
        if stored is not None and stored.document.get("channel_id"):
            await self._documents.delete(f"installationchannels/{stored.document['channel_id']}")
        await self.unsubscribe(key)
        _log.info("forgot installation %s", key)

    async def get(self, key: str) -> Installation | None:
        stored = await self._documents.read(key)
        return Installation(**stored.document) if stored else None

    async def for_channel(self, channel_id: str) -> Installation | None:
        stored = await self._documents.read(f"installationchannels/{channel_id}")
        return await self.get(stored.document["key"]) if stored else None

    async def for_user(self, tenant_id: str, user_id: str) -> Installation | None:
        return await self.get(f"installations/{tenant_id}/user/{user_id}")

    # ---- Channels that asked for notifications ("notify here") ----

    async def subscribed(self) -> list[str]:
        stored = await self._documents.read(_SUBSCRIBED)
        return list(stored.document["keys"]) if stored else []

    async def subscribe(self, key: str) -> bool:
        """Add a channel; False if it was already there."""
        return await self._change_subscriptions(lambda keys: keys | {key})

    async def unsubscribe(self, key: str) -> bool:
        return await self._change_subscriptions(lambda keys: keys - {key})

    async def _change_subscriptions(self, change: Any) -> bool:
        while True:
            stored = await self._documents.read(_SUBSCRIBED)
            before = set(stored.document["keys"]) if stored else set()
            after = change(before)
            if after == before:
                return False
            try:
                if stored is None:
                    await self._documents.write(_SUBSCRIBED, {"keys": sorted(after)}, if_none_match=True)
                else:
                    await self._documents.write(_SUBSCRIBED, {"keys": sorted(after)}, if_match=stored.etag)
                return True
            except PreconditionFailed:
                continue  # another instance changed the list: apply ours to theirs


class _Poster(Protocol):
    async def to_installation(self, installation: Installation, activity: Activity) -> str | None: ...


class KnownPersonalChats:
    """The :class:`bot.case_notices.PersonalChats` for Teams: a person's personal chat with
    the bot, found by their Entra object id (remembered when they write to the bot 1:1)."""

    def __init__(self, installations: InstallationStore, poster: _Poster) -> None:
        self._installations = installations
        self._poster = poster

    async def name_of(self, tenant_id: str, object_id: str) -> str:
        found = await self._installations.for_person(tenant_id, object_id)
        return found[1] if found else ""

    async def send(self, tenant_id: str, object_id: str, card: dict[str, Any]) -> bool:
        found = await self._installations.for_person(tenant_id, object_id)
        if found is None:
            return False
        activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        return await self._poster.to_installation(found[0], activity) is not None
