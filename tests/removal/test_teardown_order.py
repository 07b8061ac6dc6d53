"""Approved teardown items (the partner's access beside the relationship) are carried out in the
safe order, before or after the relationship's removal as the case says, and a Graph that stops
answering after the removal pauses the case without removing (or auditing the removal) twice.

Partner Center and Microsoft Graph are the sandbox over HTTP: Fabrikam Inc has nothing blocking
the removal, 2 active GDAP relationships, DAP, 2 partner guests, partner contact addresses and 1
partner app. The audit trail and the sandbox's request log are the witnesses.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from bot.case_display import TeamsCaseDisplay
from bot.case_messages import CaseMessageBook
from bot.case_notices import TeamsCaseNotices
from cards import format_datetime, plan_card, t
from partner_center import PartnerCenterClient, PartnerCenterConfig, PartnerLimits, RateSettings, connect_graph, plan_removal
from partner_center.access import SANDBOX_PARTNER, PartnerAccessReader
from partner_center.blockers import BlockerKind
from partner_center.graph import GraphClient
from partner_center.graph_models import GdapStatus
from partner_center.models import Relationship
from partner_center.teardown import Teardown
from removal import CaseItem, CaseState, Decision, Outcome, Person, RemovalCase, TeardownTiming
from removal.audit import AuditTrail
from removal.background import BackgroundTasks
from removal.decisions import CaseDecisions, Effect
from removal.display import CaseDisplay
from removal.lease import Leases
from removal.notifications import CaseNotifications
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import SqliteStore
from tests._helpers import FAST_RETRY, customer_named, sandbox_requests
from tests.cards.reading import buttons, seen

ANN = Person(id="29:ann", name="Ann Admin", aad_object_id="a-1")
BOB = Person(id="29:bob", name="Bob Approver", aad_object_id="b-2")
FABRIKAM = "Fabrikam Inc"
_LIMITS = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
_TENANT_CLEANUPS = (BlockerKind.PARTNER_GUEST, BlockerKind.PARTNER_CONTACTS, BlockerKind.PARTNER_APP)


class _Display:
    """The display port, reduced to what it was asked to show; with ``teams``, what it is asked
    is also shown by the Teams edge's display (the cards people see)."""

    def __init__(self, teams: CaseDisplay | None = None) -> None:
        self.shown: list[tuple[str, CaseState]] = []
        self._teams = teams

    def __getattr__(self, verb: str) -> Callable[..., Any]:
        async def show(case: RemovalCase, *args: Any, **kwargs: Any) -> None:
            self.shown.append((verb, case.state))
            if self._teams is not None:
                await getattr(self._teams, verb)(case, *args, **kwargs)

        return show


class _Teams:
    """Teams as the edge's messenger and announcer see it: every card posted or updated in the
    case's conversation, and every card announced to the channels and the requester."""

    def __init__(self) -> None:
        self.in_conversation: list[dict[str, Any]] = []
        self.announced: list[dict[str, Any]] = []

    async def post(self, conversation: dict[str, Any], card: dict[str, Any]) -> str:
        self.in_conversation.append(card)
        return f"message-{len(self.in_conversation)}"

    async def update(self, conversation: dict[str, Any], activity_id: str, card: dict[str, Any]) -> None:
        self.in_conversation.append(card)

    async def announce(self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str) -> int:
        self.announced.append(card)
        return 1


@dataclass
class _Offboard:
    """One bot instance: the workflow and the clicks over a real SQLite file, on the sandbox."""

    client: PartnerCenterClient
    graph: GraphClient
    store: CaseStore
    audit: AuditTrail
    workflow: RemovalWorkflow
    decisions: CaseDecisions
    background: BackgroundTasks
    display: _Display

    async def open_case(self, *, drop_guests: int = 0) -> RemovalCase:
        """Fabrikam's case as the dialog opens it (``drop_guests``: read as if the first guests
        were not there yet)."""
        now = datetime.now(UTC)
        customer = await customer_named(self.client, FABRIKAM)
        plan = await plan_removal(self.client, customer, now=now)
        access = await PartnerAccessReader(self.client, self.graph, SANDBOX_PARTNER).read(customer.id or "", now=now)
        access = access.model_copy(update={"guests": access.guests[drop_guests:]})
        case = RemovalCase.open(plan, requested_by=ANN, at=now, access=access)
        return await self.store.create(case)

    async def approve_and_execute(self, case_id: str, *, skip: Callable[[CaseItem], bool] = lambda _: False) -> RemovalCase:
        """Skip what ``skip`` says, approve the rest (Bob: no four-eyes), and carry it out."""
        case = await self.store.get(case_id)
        assert case is not None
        for item in case.to_decide:
            if skip(item):
                await self.decisions.decide(case_id, item.key, Decision.SKIPPED, by=BOB)
        applied = await self.decisions.approve_all(case_id, by=BOB)
        assert applied.effect is Effect.STARTS_EXECUTION
        executed = await self.workflow.execute(case_id)
        assert executed is not None
        return executed

    async def confirm_and_remove(self, case_id: str) -> RemovalCase:
        assert (await self.decisions.confirm_removal(case_id, by=BOB)).effect is Effect.STARTS_REMOVAL
        removed = await self.workflow.remove(case_id)
        assert removed is not None
        await self.background.drain()
        return removed

    async def actions(self, case_id: str) -> list[dict[str, Any]]:
        return [record for _, record in await self.audit.everything() if record["case_id"] == case_id]


def _offboard(
    client: PartnerCenterClient,
    graph: GraphClient,
    documents: SqliteStore,
    *,
    teardown_graph: GraphClient | None = None,
    max_attempts: int = 5,
    teams: _Teams | None = None,
) -> _Offboard:
    """``teams``: the cases are shown, and announced, by the Teams edge to it (else only recorded)."""
    store, audit, background = CaseStore(documents), AuditTrail(documents), BackgroundTasks()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    edge = TeamsCaseDisplay(teams, CaseMessageBook(documents), cases=store, clock=clock, announcer=teams) if teams else None
    display = _Display(edge)
    workflow = RemovalWorkflow(
        client=client,
        store=store,
        display=display,
        audit=audit,
        leases=Leases(documents, owner=f"instance-{id(display)}", seconds=30),
        background=background,
        clock=clock,
        partner_access=PartnerAccessReader(client, graph, SANDBOX_PARTNER),
        teardown=Teardown(graph=teardown_graph or graph, partner_center=client, partner=SANDBOX_PARTNER),
        max_attempts=max_attempts,
        notifications=CaseNotifications(TeamsCaseNotices(teams, clock=clock)) if teams else None,
    )
    decisions = CaseDecisions(store=store, workflow=workflow, audit=audit, clock=clock)
    return _Offboard(client, graph, store, audit, workflow, decisions, background, display)


@pytest.fixture
def config(sandbox: Any) -> PartnerCenterConfig:
    return PartnerCenterConfig.sandbox(sandbox.base_url)


@pytest.fixture
def graph(config: PartnerCenterConfig, client: PartnerCenterClient, http: aiohttp.ClientSession) -> GraphClient:
    return connect_graph(config, session=http, limits=_LIMITS, retry=FAST_RETRY)


@pytest.fixture
def offboard(client: PartnerCenterClient, graph: GraphClient, documents: SqliteStore) -> _Offboard:
    return _offboard(client, graph, documents)


def _started(actions: list[dict[str, Any]]) -> list[str]:
    """The items whose ``item.started`` was audited, in order, as the audit names them
    ("<action> <name> (<id>)")."""
    return [record["item"] for record in actions if record["action"] == "item.started"]


def _index(actions: list[dict[str, Any]], action: str, *, item_starts: str = "") -> list[int]:
    """Where the records of ``action`` are in the trail (about items whose audit name starts so)."""
    return [n for n, record in enumerate(actions) if record["action"] == action and record["item"].startswith(item_starts)]


def _assert_phase_order(actions: list[dict[str, Any]]) -> None:
    """Every tenant clean-up done before DAP starts, DAP done before any GDAP starts."""
    cleanups_done = [
        n
        for action in ("delete_guest", "clear_contacts", "delete_service_principal")
        for n in _index(actions, "item.done", item_starts=action)
    ]
    [dap_started] = _index(actions, "item.started", item_starts="remove_dap")
    [dap_done] = _index(actions, "item.done", item_starts="remove_dap")
    gdap_started = _index(actions, "item.started", item_starts="terminate_gdap")
    assert len(cleanups_done) == 4 and len(gdap_started) == 2
    assert max(cleanups_done) < dap_started < dap_done < min(gdap_started)


async def _graph_writes(http: aiohttp.ClientSession, sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in await sandbox_requests(http, sandbox) if r["path"].startswith("/graph/") and r["method"] != "GET"]


# ---- After the removal (the default) ----


async def test_approved_teardown_items_wait_for_the_removal_then_run_tenant_first_dap_then_gdap(
    offboard: _Offboard, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    case = await offboard.open_case()
    assert case.teardown_timing is TeardownTiming.AFTER
    assert [item.kind for item in case.teardown_items] == [
        *[BlockerKind.PARTNER_GUEST] * 2,
        *_TENANT_CLEANUPS[1:],
        BlockerKind.DAP,
        *[BlockerKind.GDAP] * 2,
    ]
    assert case.state is CaseState.AWAITING_APPROVAL  # the access found is asked about first

    executed = await offboard.approve_and_execute(case.id)
    assert executed.state is CaseState.READY
    assert await _graph_writes(http, sandbox) == []  # nothing of the access is touched before the removal
    assert all(item.outcome is Outcome.NOT_STARTED for item in executed.teardown_items)

    removed = await offboard.confirm_and_remove(case.id)
    assert removed.state is CaseState.REMOVED and removed.removed_at is not None
    assert await offboard.client.read_relationship(case.customer.id) is Relationship.NONE
    actions = await offboard.actions(case.id)
    [removal_done] = _index(actions, "removal.done")
    assert min(_index(actions, "item.started")) > removal_done  # every teardown item after the PATCH
    _assert_phase_order(actions)
    # The audit says what each removed, as the teardown reported it.
    guests_done = [record["detail"] for record in actions if record["action"] == "item.done" and record["item"].startswith("delete_guest")]
    assert len(guests_done) == 2 and all(detail.endswith("deleted") for detail in guests_done)
    gdap_done = [record["detail"] for record in actions if record["action"] == "item.done" and record["item"].startswith("terminate_gdap")]
    assert all("now terminationRequested" in detail for detail in gdap_done)
    # Read back after the removal: GDAP is ending (Microsoft completes it), nothing else remains.
    assert removed.access_remaining == []
    assert {item.status for item in removed.access_ending} == {GdapStatus.TERMINATION_REQUESTED.value}
    assert len(removed.access_ending) == 2 and all(item.outcome is Outcome.DONE for item in removed.access_ending)
    assert ("removed", CaseState.REMOVED) in offboard.display.shown


async def test_a_skipped_item_is_not_run_and_remains(offboard: _Offboard, http: aiohttp.ClientSession, sandbox: Any) -> None:
    case = await offboard.open_case()
    [first_guest, second_guest] = [item for item in case.teardown_items if item.kind is BlockerKind.PARTNER_GUEST]

    await offboard.approve_and_execute(case.id, skip=lambda item: item.key == first_guest.key)
    removed = await offboard.confirm_and_remove(case.id)

    assert removed.state is CaseState.REMOVED
    started = _started(await offboard.actions(case.id))
    assert not any(first_guest.item_id in item for item in started) and any(second_guest.item_id in item for item in started)
    deleted = [r["path"] for r in await _graph_writes(http, sandbox) if r["method"] == "DELETE" and "/users/" in r["path"]]
    assert len(deleted) == 1 and second_guest.item_id in deleted[0]
    [remaining] = removed.access_remaining
    assert remaining.key == first_guest.key and remaining.decision is Decision.SKIPPED
    assert not removed.no_access_remains


async def test_with_every_teardown_item_skipped_the_removal_is_audited_as_before(
    offboard: _Offboard, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    case = await offboard.open_case()
    for item in case.to_decide:
        await offboard.decisions.decide(case.id, item.key, Decision.SKIPPED, by=BOB)
    assert await offboard.workflow.execute(case.id) is not None
    removed = await offboard.confirm_and_remove(case.id)

    assert removed.state is CaseState.REMOVED
    assert await _graph_writes(http, sandbox) == []
    actions = [record["action"] for record in await offboard.actions(case.id)]
    assert [action for action in actions if not action.startswith("item.skipped")] == [
        "removal.confirmed",
        "removal.started",
        "removal.done",
    ]
    # Read back after the removal: removing the relationship ended DAP, and nothing else.
    assert [item.kind for item in removed.teardown_items if item.cleared] == [BlockerKind.DAP]
    assert len(removed.access_remaining) == 6


# ---- Before the removal ----


async def test_chosen_before_they_run_with_the_other_actions_in_the_same_order(
    offboard: _Offboard, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    case = await offboard.open_case()
    chosen = await offboard.decisions.choose_teardown_timing(case.id, TeardownTiming.BEFORE, by=ANN)
    assert chosen.effect is Effect.CHANGED

    executed = await offboard.approve_and_execute(case.id)
    assert executed.state is CaseState.READY
    assert await offboard.client.read_relationship(case.customer.id) is not Relationship.NONE  # not removed yet...
    actions = await offboard.actions(case.id)
    _assert_phase_order(actions)  # ...and the access is torn down already
    assert len(await _graph_writes(http, sandbox)) >= 6

    removed = await offboard.confirm_and_remove(case.id)
    assert removed.state is CaseState.REMOVED
    actions = await offboard.actions(case.id)
    [removal_done] = _index(actions, "removal.done")
    assert max(_index(actions, "item.started")) < removal_done  # nothing left to run after it
    assert removed.access_remaining == [] and len(removed.access_ending) == 2


@pytest.mark.parametrize("decision", [Decision.APPROVED, Decision.SKIPPED])
async def test_once_a_teardown_item_is_decided_the_timing_cannot_be_switched(
    offboard: _Offboard, decision: Decision, http: aiohttp.ClientSession, sandbox: Any
) -> None:
    case = await offboard.open_case()
    first = case.next_pending
    assert first is not None and first.kind.is_teardown  # Fabrikam: nothing blocks, the access is asked about
    assert (await offboard.decisions.decide(case.id, first.key, decision, by=BOB)).effect is Effect.CHANGED

    refused = await offboard.decisions.choose_teardown_timing(case.id, TeardownTiming.BEFORE, by=BOB)

    assert refused.effect is Effect.NOT_NOW
    stored = await offboard.store.get(case.id)
    assert stored is not None and stored.teardown_timing is TeardownTiming.AFTER
    assert not [record for record in await offboard.actions(case.id) if record["action"] == "teardown.timing"]
    # The plan (as the refused click is answered with it) states the timing and offers no switch.
    plan = plan_card(stored, now=datetime.now(UTC))
    assert t("en-US", "access.timing.after") in seen(plan) and t("en-US", "access.timing.settled") in seen(plan)
    assert not [button for button in buttons(plan) if button.get("verb") == "teardown_timing"]
    # And the approved items run as approved: after the removal.
    await offboard.approve_and_execute(case.id)
    assert await _graph_writes(http, sandbox) == []


# ---- Graph not answering after the removal ----


def _closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _silent_graph(config: PartnerCenterConfig, http: aiohttp.ClientSession) -> GraphClient:
    """A Graph client whose Graph does not answer (its connections are refused)."""
    return connect_graph(
        dataclasses.replace(config, graph_base_url=f"http://127.0.0.1:{_closed_port()}/graph/v1.0"),
        session=http,
        limits=_LIMITS,
        retry=dataclasses.replace(FAST_RETRY, attempts=2),
    )


async def test_graph_silent_during_the_teardown_pauses_the_removed_case_and_resume_finishes_it_without_a_second_removal(
    client: PartnerCenterClient, graph: GraphClient, config: PartnerCenterConfig, documents: SqliteStore, http: aiohttp.ClientSession
) -> None:
    down = _offboard(client, graph, documents, teardown_graph=_silent_graph(config, http))
    case = await down.open_case()
    await down.approve_and_execute(case.id)

    paused = await down.confirm_and_remove(case.id)
    assert paused.state is CaseState.PAUSED and paused.pause is not None and paused.pause.resume_to is CaseState.REMOVING
    assert paused.removed_at is not None  # the relationship is gone, and the case knows it
    assert not any(item.outcome is Outcome.DONE for item in paused.teardown_items)
    assert not _index(await down.actions(case.id), "item.started", item_starts="remove_dap")  # no later phase started

    # Graph answers again (another instance, whose Graph is reachable, runs the resume sweep).
    up = _offboard(client, graph, documents)
    assert await up.workflow.resume() == 1
    await up.background.drain()
    finished = await up.store.get(case.id)
    assert finished is not None and finished.state is CaseState.REMOVED
    assert finished.removed_at == paused.removed_at
    actions = await up.actions(case.id)
    assert [record["action"] for record in actions].count("removal.started") == 1
    assert [record["action"] for record in actions].count("removal.done") == 1
    assert [record["action"] for record in actions].count("case.paused") == 1
    _assert_phase_order(actions)
    assert finished.access_remaining == []


async def test_a_teardown_given_up_on_after_the_removal_still_says_the_relationship_is_removed(
    client: PartnerCenterClient, graph: GraphClient, config: PartnerCenterConfig, documents: SqliteStore, http: aiohttp.ClientSession
) -> None:
    teams = _Teams()
    down = _offboard(client, graph, documents, teardown_graph=_silent_graph(config, http), max_attempts=1, teams=teams)
    case = await down.open_case()
    await down.approve_and_execute(case.id)

    failed = await down.confirm_and_remove(case.id)

    assert failed.state is CaseState.FAILED and failed.error is not None and failed.error.reason == "needs_person"
    assert failed.removed_at is not None and failed.relationship_request_url  # the removal stands, and says so
    assert await client.read_relationship(case.customer.id) is Relationship.NONE
    assert ("needs_person", CaseState.FAILED) in down.display.shown
    assert len(failed.access_remaining) == 7  # none of the access was removed

    # What people see: the status card (in place of "removing…") and the "needs a person"
    # notification both say the relationship was removed, when, and give the link to re-establish it.
    removed_on = t("en-US", "case.removed_on", when=format_datetime(failed.removed_at))
    [status] = [card for card in teams.in_conversation if card["fallbackText"] == t("en-US", "status.title", customer=FABRIKAM)]
    # (The "ready" notification came before it.)
    gave_up = t("en-US", "notify.needs_person.removed.title", customer=FABRIKAM)
    [notice] = [card for card in teams.announced if card["fallbackText"] == gave_up]
    assert t("en-US", "notify.needs_person.removed.text", customer=FABRIKAM) in seen(notice)
    for card in (status, notice):
        assert removed_on in seen(card)
        assert failed.relationship_request_url in seen(card)
        assert [b["url"] for b in buttons(card) if b["type"] == "Action.OpenUrl"][-1] == failed.relationship_request_url
        assert "still in place" not in seen(card) and "Half-offboarded" not in seen(card)
    assert failed.error.description[:300] in seen(notice)  # and why it was given up on


# ---- A re-check finds more ----


async def test_a_guest_found_at_a_recheck_is_asked_about_before_the_final_confirmation(offboard: _Offboard) -> None:
    case = await offboard.open_case(drop_guests=1)
    executed = await offboard.approve_and_execute(case.id)  # the re-check after it reads the tenant afresh
    assert executed.state is CaseState.AWAITING_APPROVAL  # not READY: Partner Center has nothing blocking
    pending = executed.next_pending
    assert pending is not None and pending.kind is BlockerKind.PARTNER_GUEST and pending.since_plan == "new"
