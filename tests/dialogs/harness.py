"""A conversation with the bot through botbuilder's TestAdapter, against the real sandbox.

Messages and clicks go through the whole bot (TeamsActivityHandler, card-action parsing, the
dialogs); Partner Center is the in-process sandbox over loopback HTTP. Proactive posts and
in-place updates made by background work land in the adapter's buffers like any reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.messenger import AdapterMessenger
from bot.wiring import CaseTimings, build_services
from partner_center import GraphClient, PartnerCenterClient
from partner_center.access import SANDBOX_PARTNER, PartnerIdentity
from removal.access import AccessPolicy
from removal.background import BackgroundTasks
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
    def __init__(
        self,
        client: PartnerCenterClient,
        *,
        clock: Any = None,
        locale: str = "en-US",
        access: AccessPolicy | None = None,
        progress_interval: float = 0.0,
        graph: GraphClient | None = None,
        partner: PartnerIdentity = SANDBOX_PARTNER,
    ) -> None:
        """:param graph: Microsoft Graph (the sandbox's), for the plan's "Access the partner still
        has"; None: the plan does not show it."""
        self.adapter = TestAdapter()
        self.adapter.template.channel_id = "msteams"
        self.background = BackgroundTasks()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.locale = locale
        self.documents = MemoryStore()
        # No announcer and no installations: the dialog tests see the conversation only.
        services = build_services(
            client=client,
            documents=self.documents,
            messenger=AdapterMessenger(self.adapter, ""),
            background=self.background,
            clock=self.clock,
            lease_owner="harness",
            access=access,
            timings=CaseTimings(progress_interval=progress_interval),
            graph=graph,
            partner=partner,
        )
        self.store = services.cases
        self.audit = services.audit
        self.workflow = services.workflow
        self.bot = services.bot
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
