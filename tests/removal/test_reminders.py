"""Cases waiting for people are reminded about once, then escalated once, whatever the instances
and restarts; since when a case is in its state is kept; failed items and a cancel are announced.

Partner Center is the sandbox over HTTP; cases live in a real SQLite file (an instance started
again, or a second one, is a second :class:`WaitingCases` on the same file). Time is a clock the
test moves.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from botbuilder.core.adapters import TestAdapter

import cards
from bot.case_display import TeamsCaseDisplay
from bot.case_messages import CaseMessageBook
from bot.case_notices import TeamsCaseNotices
from bot.messenger import AdapterMessenger
from partner_center import PartnerCenterClient, plan_removal
from removal import CaseState, Person, RemovalCase
from removal.audit import AuditTrail
from removal.background import BackgroundTasks
from removal.case import Outcome
from removal.decisions import CaseDecisions, Effect
from removal.lease import Leases
from removal.notifications import CaseNotifications
from removal.scheduler import WaitingCases
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import SqliteStore
from tests._helpers import customer_named, operator
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann Admin", aad_object_id="00000000-0000-0000-0000-0000000000a1")
BOB = "00000000-0000-0000-0000-0000000000b2"
CONVERSATION = {
    "conversation": {"id": "convo-1", "tenantId": "t-1"},
    "channelId": "msteams",
    "serviceUrl": "https://teams.invalid",
    "bot": {"id": "28:offboard", "name": "Offboard"},
    "user": {"id": "29:ann", "name": "Ann Admin"},
}


class Clock:
    """Time that moves only when the test says."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)


class Announced:
    """The Teams edge's Announcer, reduced to what it was asked to deliver."""

    def __init__(self) -> None:
        self.cards: list[dict[str, Any]] = []

    async def announce(self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str) -> int:
        assert_valid_card(card)
        self.cards.append(card)
        return 1

    def saying(self, words: str) -> list[str]:
        return [card_text(card) for card in self.cards if words in card_text(card)]


class PersonalChats:
    """The approvers the bot has a personal chat with (here: Bob), and what each was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def name_of(self, tenant_id: str, object_id: str) -> str:
        return "Bob Approver" if object_id == BOB else ""

    async def send(self, tenant_id: str, object_id: str, card: dict[str, Any]) -> bool:
        if object_id != BOB:
            return False
        self.sent.append((object_id, card))
        return True


class Instance:
    """One bot instance's removal services on the shared store."""

    def __init__(self, client: PartnerCenterClient, documents: SqliteStore, clock: Clock, *, name: str = "one") -> None:
        self.announced = Announced()
        self.chats = PersonalChats()
        self.store = CaseStore(documents)
        messages = CaseMessageBook(documents)
        self.notifications = CaseNotifications(
            TeamsCaseNotices(
                self.announced,
                clock=clock,
                messages=messages,
                personal_chats=self.chats,
                approvers=[BOB, "00000000-0000-0000-0000-0000000000c3"],
            )
        )
        leases = Leases(documents, owner=name)
        display = TeamsCaseDisplay(AdapterMessenger(TestAdapter(), ""), messages, cases=self.store, clock=clock)
        self.workflow = RemovalWorkflow(
            client=client,
            store=self.store,
            display=display,
            audit=AuditTrail(documents),
            leases=leases,
            background=BackgroundTasks(),
            clock=clock,
            notifications=self.notifications,
        )
        self.decisions = CaseDecisions(
            store=self.store, workflow=self.workflow, audit=AuditTrail(documents), clock=clock, notifications=self.notifications
        )
        self.waiting = WaitingCases(
            store=self.store,
            workflow=self.workflow,
            leases=leases,
            notifications=self.notifications,
            clock=clock,
            decision_reminder_hours=24,
            escalation_hours=48,
        )


async def _case(client: PartnerCenterClient, store: CaseStore, name: str, clock: Clock) -> RemovalCase:
    plan = await plan_removal(client, await customer_named(client, name), now=clock())
    case = RemovalCase.open(plan, requested_by=ANN, at=clock())
    case.conversation = CONVERSATION
    return await store.create(case)


# ---- Since when ----


def test_a_move_keeps_since_when_and_the_first_execution_starts_the_changes() -> None:
    case = RemovalCase(customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=START)
    case.move_to(CaseState.AWAITING_APPROVAL, at=START)
    assert case.state_since == START and case.changes_since is None
    case.move_to(CaseState.EXECUTING, at=START + timedelta(hours=1))
    case.move_to(CaseState.AWAITING_APPROVAL, at=START + timedelta(hours=2))
    case.move_to(CaseState.EXECUTING, at=START + timedelta(hours=3))
    assert case.state_since == START + timedelta(hours=3)
    assert case.changes_since == START + timedelta(hours=1), "the first execution"
    case.move_to(CaseState.READY)  # by code that does not say when: not known
    assert case.state_since is None
    case.move_to(CaseState.READY, at=START + timedelta(hours=9))  # no move: no change
    assert case.state_since is None


# ---- Reminders and escalation ----


async def test_a_ready_case_is_reminded_about_once_then_escalated_once_across_instances(
    client: PartnerCenterClient, documents: SqliteStore
) -> None:
    clock = Clock()
    one, two = Instance(client, documents, clock, name="one"), Instance(client, documents, clock, name="two")
    case = await _case(client, one.store, "Fabrikam Inc", clock)
    case, _ = await one.store.update(case.id, lambda c: c.move_to(CaseState.READY))  # as the dialog does: time not said
    assert case.state_since is None

    await one.waiting.check_all()  # the first sweep notes since when: now
    assert (await one.store.get(case.id)).state_since == START  # type: ignore[union-attr]
    clock.advance(23.9)
    await asyncio.gather(one.waiting.check_all(), two.waiting.check_all())
    assert not one.announced.cards and not two.announced.cards

    clock.advance(0.2)
    await asyncio.gather(one.waiting.check_all(), two.waiting.check_all(), one.waiting.check_all())
    reminders = one.announced.saying("Reminder") + two.announced.saying("Reminder")
    assert len(reminders) == 1, "one reminder, whichever instance sends it"
    assert "Nothing has blocked the removal for Fabrikam Inc since Nov 21, 2026, 12:00 PM UTC" in reminders[0]
    restarted = Instance(client, documents, clock, name="restarted")
    await restarted.waiting.check_all()
    assert not restarted.announced.cards, "a restart does not remind again"

    clock.advance(47.8)  # 71.9 h
    await restarted.waiting.check_all()
    assert not restarted.announced.cards
    clock.advance(0.2)
    await asyncio.gather(one.waiting.check_all(), two.waiting.check_all(), restarted.waiting.check_all())
    everyone = [one, two, restarted]
    escalations = [text for instance in everyone for text in instance.announced.saying("Still waiting")]
    assert len(escalations) == 1
    assert "Bob Approver" in escalations[0] and "00000000-0000-0000-0000-0000000000c3" in escalations[0]
    [(to, card)] = [sent for instance in everyone for sent in instance.chats.sent]
    assert to == BOB and "Still waiting" in card_text(card)

    clock.advance(200)
    for instance in everyone:
        await instance.waiting.check_all()
    assert sum(len(instance.announced.cards) for instance in everyone) == 2, "nothing more: once each"


async def test_a_case_that_moves_on_and_waits_again_is_reminded_about_again(client: PartnerCenterClient, documents: SqliteStore) -> None:
    clock = Clock()
    bot = Instance(client, documents, clock)
    case = await _case(client, bot.store, "Contoso Pharma", clock)  # waits for approvals since it was opened
    assert case.state is CaseState.AWAITING_APPROVAL and case.state_since == START
    clock.advance(25)
    await bot.waiting.check_all()
    [reminder] = bot.announced.saying("Reminder")
    assert "waiting for approvals since Nov 21, 2026, 12:00 PM UTC" in reminder

    # Someone decides; the case runs and comes back to wait (for approvals, say) at a new time.
    back_at = clock()
    await bot.store.update(
        case.id, lambda c: (c.move_to(CaseState.EXECUTING, at=back_at), c.move_to(CaseState.AWAITING_APPROVAL, at=back_at))
    )
    clock.advance(23)
    await bot.waiting.check_all()
    assert len(bot.announced.saying("Reminder")) == 1
    clock.advance(2)
    await bot.waiting.check_all()
    assert len(bot.announced.saying("Reminder")) == 2, "a new wait"


async def test_only_cases_waiting_for_people_are_reminded_about(client: PartnerCenterClient, documents: SqliteStore) -> None:
    clock = Clock()
    bot = Instance(client, documents, clock)
    case = await _case(client, bot.store, "Fabrikam Inc", clock)
    await bot.store.update(case.id, lambda c: c.move_to(CaseState.CANCELLED, at=clock()))
    clock.advance(500)
    await bot.waiting.check_all()
    assert not bot.announced.cards


# ---- Announcements ----


async def test_a_cancel_is_announced_once_with_what_was_done(client: PartnerCenterClient, documents: SqliteStore) -> None:
    clock = Clock()
    bot = Instance(client, documents, clock)
    case = await _case(client, bot.store, "Contoso Pharma", clock)

    def half_done(current: RemovalCase) -> None:
        current.approve_all_remaining(by=ANN, at=clock())
        current.move_to(CaseState.EXECUTING, at=clock())
        current.record_outcome(current.items[0].key, Outcome.DONE)
        current.move_to(CaseState.WAITING, at=clock())

    await bot.store.update(case.id, half_done)
    clock.advance(3)
    first, again = await asyncio.gather(bot.decisions.cancel(case.id, by=ANN), bot.decisions.cancel(case.id, by=ANN))
    assert sorted([first.effect, again.effect]) == sorted([Effect.CHANGED, Effect.ALREADY])
    [announced] = bot.announced.saying("cancelled")
    assert "Already carried out (these stay as they are):" in announced and "turn off auto-renew" in announced
    assert "Half-offboarded since Nov 21, 2026, 12:00 PM UTC" in announced
    stored = await bot.store.get(case.id)
    assert stored is not None and stored.state_since == START + timedelta(hours=3)


async def test_items_partner_center_fails_are_announced_once(
    client: PartnerCenterClient, documents: SqliteStore, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    """Partner Center fails one item's write on every try: each run pauses the case, and the
    third run fails the item (the bot stops retrying it): announced, with Partner Center's words."""
    clock = Clock()
    bot = Instance(client, documents, clock)
    case = await _case(client, bot.store, "Contoso Pharma", clock)
    [item] = case.items
    await operator(
        http, sandbox, "faults", {"count": 100, "status": 503, "pathContains": item.item_id, "method": "PATCH", "when": "before"}
    )
    await bot.store.update(case.id, lambda c: (c.approve_all_remaining(by=ANN, at=clock()), c.move_to(CaseState.EXECUTING, at=clock())))
    await bot.workflow.execute(case.id)
    for _ in range(4):
        if (await bot.store.get(case.id)).failed:  # type: ignore[union-attr]
            break
        await bot.workflow.resume()
        await bot.workflow._background.drain()  # noqa: SLF001
    stored = await bot.store.get(case.id)
    assert stored is not None and stored.failed, stored.state
    [announced] = bot.announced.saying("Actions failed for Contoso Pharma")
    assert "turn off auto-renew" in announced and "Injected fault" in announced


def test_every_new_notification_is_a_valid_card_in_every_language() -> None:
    case = RemovalCase(
        customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=START, state=CaseState.READY, state_since=START
    )
    for locale in ("en-US", "fr-FR", "ru-RU"):
        for kind in ("cancelled", "items_failed", "needs_person", "waiting_reminder", "escalation"):
            assert_valid_card(cards.notification_card(kind, case, now=START, approvers=["Bob"], locale=locale))
