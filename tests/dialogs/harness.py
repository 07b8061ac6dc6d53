"""A conversation with the bot through botbuilder's TestAdapter, against the real sandbox.

Messages and clicks go through the whole bot (TeamsActivityHandler, card-action parsing, the
dialogs); Partner Center is the in-process sandbox over loopback HTTP. Proactive posts and
in-place updates made by background work land in the adapter's buffers like any reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.messenger import AdapterMessenger
from bot.state_storage import DocumentStateStorage
from bot.teams_bot import OffboardBot
from dialogs.remove_dialog import RemovalServices
from partner_center import PartnerCenterClient
from removal.access import AccessPolicy
from removal.audit import AuditTrail
from removal.background import BackgroundTasks
from removal.decisions import CaseDecisions
from removal.lease import Leases
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import MemoryStore
from tests.cards.schema import assert_valid_card

ANN = ChannelAccount(id="29:ann", name="Ann Admin", aad_object_id="00000000-0000-0000-0000-0000000000a1")
BOB = ChannelAccount(id="29:bob", name="Bob Approver", aad_object_id="00000000-0000-0000-0000-0000000000b2")


@dataclass
class Turn:
    """What one user activity produced: new messages, and the invoke answer if any."""

    replies: list[Activity] = field(default_factory=list)
    invoke: dict[str, Any] | None = None

    @property
    def texts(self) -> list[str]:
        return [a.text for a in self.replies if a.text]

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a.attachments[0].content for a in self.replies if a.attachments]

    @property
    def invoke_card(self) -> dict[str, Any]:
        assert self.invoke is not None and self.invoke["type"] == "application/vnd.microsoft.card.adaptive", self.invoke
        return self.invoke["value"]


class Conversation:
    def __init__(self, client: PartnerCenterClient, *, clock: Any = None, locale: str = "en-US", access: AccessPolicy | None = None, progress_interval: float = 0.0) -> None:
        self.adapter = TestAdapter()
        self.adapter.template.channel_id = "msteams"
        self.background = BackgroundTasks()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.locale = locale
        self.documents = MemoryStore()
        self.store = CaseStore(self.documents)
        self.audit = AuditTrail(self.documents)
        self.workflow = RemovalWorkflow(
            client=client,
            store=self.store,
            messenger=AdapterMessenger(self.adapter, ""),
            audit=self.audit,
            leases=Leases(self.documents, owner="harness"),
            background=self.background,
            clock=self.clock,
            progress_interval=progress_interval,
        )
        decisions = CaseDecisions(store=self.store, workflow=self.workflow, audit=self.audit, clock=self.clock)
        services = RemovalServices(
            client=client, store=self.store, workflow=self.workflow, decisions=decisions, audit=self.audit, clock=self.clock
        )
        # Dialog state goes through the JSON document store every turn, as it would in production.
        self.bot = OffboardBot(
            conversation_state=ConversationState(DocumentStateStorage(self.documents)), services=services, access=access
        )
        self._seen = 0

    async def _turn(self, activity: Activity, user: ChannelAccount) -> Turn:
        self.adapter.template.from_property = user
        activity.locale = activity.locale or self.locale
        start = len(self.adapter.activity_buffer)
        await self.adapter.process_activity(activity, self.bot.on_turn)
        produced = self.adapter.activity_buffer[start:]
        # TestAdapter buffers the invoke answer like a reply; CloudAdapter would return it.
        answers = [a.value.body for a in produced if a.type == ActivityTypes.invoke_response]
        del self.adapter.activity_buffer[start:]
        self.adapter.activity_buffer.extend(a for a in produced if a.type != ActivityTypes.invoke_response)
        turn = Turn([a for a in produced if a.type != ActivityTypes.invoke_response], answers[0] if answers else None)
        for card in turn.cards + ([turn.invoke["value"]] if turn.invoke and turn.invoke.get("type", "").endswith("adaptive") else []):
            assert_valid_card(card)
        return turn

    async def say(self, text: str, *, user: ChannelAccount = ANN) -> Turn:
        return await self._turn(Activity(type=ActivityTypes.message, text=text), user)

    async def click(self, verb: str, data: dict[str, Any], *, user: ChannelAccount = ANN, card_id: str = "card-1") -> Turn:
        """An Action.Execute click: an adaptiveCard/action invoke."""
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
        activity = Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value=value, reply_to_id=card_id)
        return await self._turn(activity, user)

    async def submit(self, verb: str, data: dict[str, Any], *, user: ChannelAccount = ANN) -> Turn:
        """An Action.Submit click (the fallback): a message carrying the data and the verb."""
        return await self._turn(Activity(type=ActivityTypes.message, value={**data, "verb": verb}), user)

    async def settle(self) -> list[Activity]:
        """Wait for background work; the messages it posted since the last call."""
        await self.background.drain()
        posted = self.adapter.activity_buffer[self._seen :]
        self._seen = len(self.adapter.activity_buffer)
        return list(posted)

    @property
    def updates(self) -> list[dict[str, Any]]:
        """Cards updated in place, in order."""
        return [a.attachments[0].content for a in self.adapter.updated_activities if a.attachments]


def card_text(card: dict[str, Any]) -> str:
    """Every string of a card, joined: what a reader of the card sees, roughly."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "value") and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    walk(card.get("actions", []))
    return "\n".join(parts)


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's Action.Execute buttons by title: {title: {"verb", "data"}}."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found[node["title"]] = {"verb": node["verb"], "data": node.get("data", {})}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def button_data(card: dict[str, Any], verb: str, **match: Any) -> dict[str, Any]:
    """The data of the card's ``verb`` button whose data matches ``match``."""
    for button in buttons(card).values():
        if button["verb"] == verb and all(button["data"].get(k) == v for k, v in match.items()):
            return button["data"]
    raise AssertionError(f"no {verb} button {match} in {list(buttons(card))}")
