"""Reading a Teams activity: who acts, from which tenant, in which language, in which conversation.

Pure functions of an :class:`~botbuilder.schema.Activity`: they never change it and never fail
on a shape Teams does not send (a forger's activity reads as "unknown", never as a crash). The
Teams edge reads an activity with these once and hands the dialogs typed values
(:class:`dialogs.turn.Turn`); nothing below ``bot/`` reads an activity.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from removal import Person

__all__ = ("conversation_reference", "locale_of", "person_of", "tenant_ids", "tenant_of", "typed_text")

_DEFAULT_LOCALE = "en-US"
_LEADING_MENTION = re.compile(r"^\s*(<at>[^<]*</at>\s*)+", re.IGNORECASE)
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)


def person_of(activity: Activity) -> Person:
    """Who sent the activity (as the authenticated activity names them); "unknown" when the
    activity names nobody (Teams always does; a forged or malformed activity may not)."""
    sender = activity.from_property
    return Person(
        id=(sender.id or "unknown") if sender else "unknown",
        name=(sender.name or "") if sender else "",
        aad_object_id=(sender.aad_object_id or "") if sender else "",
    )


def locale_of(activity: Activity) -> str:
    return activity.locale or _DEFAULT_LOCALE


def tenant_of(activity: Activity) -> str:
    """The Entra tenant the activity comes from (conversation, else Teams' channelData)."""
    return next(iter(tenant_ids(activity)), "")


def tenant_ids(activity: Activity) -> list[str]:
    """Every tenant id the activity names: ``conversation.tenantId``, then ``channelData.tenant.id``.

    botbuilder's ConversationAccount reads only ``tenantID``; Teams writes ``tenantId``, which
    botbuilder keeps aside in ``additional_properties``: both are read. A value that is not a
    string is kept (as text), so that it is refused rather than taken for no tenant at all.
    """
    named: list[Any] = []
    if activity.conversation is not None:
        named += [activity.conversation.tenant_id, (activity.conversation.additional_properties or {}).get("tenantId")]
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    named.append(tenant.get("id") if isinstance(tenant, dict) else tenant)
    return list(dict.fromkeys(value if isinstance(value, str) else json.dumps(value) for value in named if value))


def conversation_reference(activity: Activity) -> dict[str, Any]:
    """Where the activity happens, serialized for later proactive posts. botbuilder's serializer
    drops the conversation's tenant id, which a 1:1 chat with the requester needs: kept here."""
    reference = TurnContext.get_conversation_reference(activity).serialize()
    reference.setdefault("conversation", {})["tenantId"] = tenant_of(activity)
    return reference


def typed_text(activity: Activity) -> str:
    """The typed text without the ``<at>…</at>`` mentions that address the bot.

    botbuilder's ``TurnContext.remove_recipient_mention`` fails on a mention entity without
    ``mentioned`` or ``text``, on text None, and reads the mentioned name as a regular expression;
    this one takes entities as they come. A mention without its entity (some clients, pasted
    text) at the start still reads as addressing the bot.
    """
    text = activity.text if isinstance(activity.text, str) else ""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    for entity in activity.entities or []:
        properties = entity.additional_properties or {}
        mentioned, mention_text = properties.get("mentioned"), properties.get("text")
        if (
            str(entity.type or "").lower() == "mention"
            and isinstance(mentioned, dict)
            and mentioned.get("id") == bot_id
            and isinstance(mention_text, str)
            and _MENTION.fullmatch(mention_text)
        ):
            text = text.replace(mention_text, " ")
    return _LEADING_MENTION.sub("", text).strip()
