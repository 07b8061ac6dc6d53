"""The partner's access as items of the case: what a fresh read does to them (only what was read
changes, the read-back clears what was removed, a terminated GDAP relationship stays done while
Microsoft ends it), what the result lists, and the choice of when they run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partner_center.access import AccessInventory, AccessPart, ContactEntry, GdapEntry, GuestEntry, Unchecked, UncheckedReason
from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.graph_models import GdapStatus
from partner_center.models import Customer
from removal import CaseItem, CaseState, Decision, Outcome, Person, RemovalCase, TeardownTiming
from removal.audit import AuditTrail
from removal.background import BackgroundTasks
from removal.decisions import CaseDecisions, Effect
from removal.lease import Leases
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import MemoryStore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann")
BOB = Person(id="29:bob", name="Bob")
_CUSTOMER = Customer.model_validate({"id": "c-1", "companyProfile": {"companyName": "Fabrikam Inc"}})
_GUEST = GuestEntry(id="u-1", name="Jane Doe", address="jane@partner.example")
_CONTACTS = ContactEntry(where="technicalNotificationMails", addresses=("support@partner.example",))


def _gdap(status: GdapStatus = GdapStatus.ACTIVE) -> GdapEntry:
    return GdapEntry(
        id="rel-1",
        name="Fabrikam - support",
        status=status,
        raw_status=status.value,
        roles=3,
        ends_at=NOW + timedelta(days=300),
        auto_extends=True,
    )


def _access(
    *,
    guests: tuple[GuestEntry, ...] = (_GUEST,),
    gdap: GdapEntry | None = None,
    dap: bool | None = True,
    unchecked: tuple[Unchecked, ...] = (),
) -> AccessInventory:
    return AccessInventory(
        read_at=NOW, gdap=(gdap or _gdap(),), dap=dap, guests=guests, contacts=(_CONTACTS,), service_principals=(), unchecked=unchecked
    )


def _legacy() -> Blocker:
    return Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, "s-1", "Office 365 E3")


def _plan(*blockers: Blocker) -> RemovalPlan:
    return RemovalPlan(_CUSTOMER, blockers, NOW)


def _case(access: AccessInventory | None = None) -> RemovalCase:
    return RemovalCase.open(_plan(_legacy()), requested_by=ANN, at=NOW, access=access or _access())


def _item(case: RemovalCase, kind: BlockerKind) -> CaseItem:
    [item] = [item for item in case.items if item.kind is kind]
    return item


def _all_approved_and_done(case: RemovalCase) -> RemovalCase:
    case.approve_all_remaining(by=BOB, at=NOW)
    for item in case.items:
        item.outcome = Outcome.DONE
    return case


# ---- Opening a case ----


def test_a_case_holds_the_blockers_then_the_access_each_to_decide_like_a_blocker() -> None:
    case = _case()
    assert [item.kind for item in case.items] == [
        BlockerKind.LEGACY_SUBSCRIPTION,
        BlockerKind.PARTNER_GUEST,
        BlockerKind.PARTNER_CONTACTS,
        BlockerKind.DAP,
        BlockerKind.GDAP,
    ]
    assert [item.kind for item in case.blocker_items] == [BlockerKind.LEGACY_SUBSCRIPTION]
    assert all(not item.blocks_removal for item in case.teardown_items)
    assert case.to_decide == case.items  # every one is approved or skipped, the access too
    assert case.must_wait == [] and case.still_blocking == case.blocker_items
    assert case.teardown_timing is TeardownTiming.AFTER and case.partner_access is not None
    # Approve all approves the access as well; its pending fingerprint changes with it.
    before = case.pending_fingerprint
    case.decide(_item(case, BlockerKind.GDAP).key, Decision.SKIPPED, by=BOB, at=NOW)
    assert case.pending_fingerprint != before
    assert case.approve_all_remaining(by=BOB, at=NOW) == 4


def test_a_case_opened_without_reading_the_access_has_no_access_items_and_says_nothing_of_it() -> None:
    case = RemovalCase.open(_plan(_legacy()), requested_by=ANN, at=NOW)
    assert case.teardown_items == [] and case.partner_access is None
    assert case.access_unchecked == () and not case.no_access_remains


# ---- A fresh read ----


def test_a_plan_alone_leaves_the_access_items_alone_and_an_access_read_alone_the_blockers() -> None:
    case = _case()
    case.refresh(_plan())  # the subscription is gone; the access was not read
    assert _item(case, BlockerKind.LEGACY_SUBSCRIPTION).cleared
    assert not any(item.cleared for item in case.teardown_items)

    case = _case()
    case.refresh(None, access=_access(guests=()))  # after the removal: only the access is read
    assert not _item(case, BlockerKind.LEGACY_SUBSCRIPTION).cleared
    assert _item(case, BlockerKind.PARTNER_GUEST).cleared


def test_a_part_that_could_not_be_read_says_nothing_about_its_items() -> None:
    case = _all_approved_and_done(_case())
    unread = Unchecked(part=AccessPart.GUESTS, reason=UncheckedReason.UNAVAILABLE)
    fresh = _access(guests=(), dap=None, unchecked=(unread, Unchecked(part=AccessPart.DAP, reason=UncheckedReason.UNAVAILABLE)))
    case.refresh(None, access=fresh)
    guest, dap = _item(case, BlockerKind.PARTNER_GUEST), _item(case, BlockerKind.DAP)
    assert not guest.cleared and not dap.cleared  # not read: not taken as gone...
    assert guest.outcome is Outcome.DONE and guest.since_plan == ""  # ...nor as back
    assert case.partner_access == fresh
    assert [entry.part for entry in case.access_unchecked] == [AccessPart.GUESTS, AccessPart.DAP]


def test_what_was_removed_and_is_no_longer_found_is_cleared() -> None:
    case = _all_approved_and_done(_case())
    case.refresh(None, access=_access(guests=(), dap=False, gdap=_gdap(GdapStatus.ACTIVE)).model_copy(update={"contacts": (), "gdap": ()}))
    assert all(item.cleared for item in case.teardown_items)
    assert case.access_remaining == [] and case.access_ending == [] and case.no_access_remains


def test_a_terminated_gdap_relationship_that_reads_as_ending_stays_done_and_is_not_asked_about_again() -> None:
    case = _all_approved_and_done(_case())
    gdap = _item(case, BlockerKind.GDAP)
    case.refresh(None, access=_access(gdap=_gdap(GdapStatus.TERMINATION_REQUESTED)))
    assert gdap.action is Action.NOTE_GDAP_ENDING and gdap.outcome is Outcome.DONE
    assert gdap.since_plan == "" and gdap.decision is Decision.APPROVED
    assert gdap.status == "terminationRequested"
    assert case.access_ending == [gdap] and gdap not in case.access_remaining
    assert not gdap.needs_decision  # shown, not asked about


def test_a_guest_removed_then_found_again_is_asked_about_again() -> None:
    case = _all_approved_and_done(_case())
    case.refresh(None, access=_access())
    guest = _item(case, BlockerKind.PARTNER_GUEST)
    assert guest.since_plan == "back" and guest.decision is Decision.PENDING and guest.outcome is Outcome.NOT_STARTED
    assert case.next_pending is guest and guest in case.access_remaining


def test_a_new_guest_is_added_as_new_and_the_names_read_are_kept() -> None:
    case = _case()
    other = GuestEntry(id="u-2", name="John Roe", address="john@partner.example")
    contacts = ContactEntry(where="technicalNotificationMails", addresses=("support@partner.example", "noc@partner.example"))
    case.refresh(None, access=_access(guests=(_GUEST, other)).model_copy(update={"contacts": (contacts,)}))
    new = case.items[-1]
    assert new.kind is BlockerKind.PARTNER_GUEST and new.item_id == "u-2" and new.since_plan == "new"
    assert new.name == "John Roe (john@partner.example)"
    assert _item(case, BlockerKind.PARTNER_CONTACTS).name == "support@partner.example; noc@partner.example"


# ---- What the result lists ----


def test_the_access_left_the_access_ending_and_what_to_check_by_hand() -> None:
    case = _case()
    guest, contacts, dap, gdap = case.teardown_items
    case.decide(guest.key, Decision.SKIPPED, by=BOB, at=NOW)
    case.approve_all_remaining(by=BOB, at=NOW)
    contacts.outcome = Outcome.FAILED
    dap.outcome = Outcome.DONE
    gdap.outcome = Outcome.DONE  # terminated by the bot: ending, whatever the next read says
    assert case.access_remaining == [guest, contacts]  # skipped, failed
    assert case.access_ending == [gdap]
    assert not case.no_access_remains

    gone = _all_approved_and_done(_case())
    no_gdap = (Unchecked(part=AccessPart.GUESTS, reason=UncheckedReason.NO_GDAP),)
    gone.refresh(None, access=_access(guests=(), dap=False, unchecked=no_gdap).model_copy(update={"contacts": (), "gdap": ()}))
    # The guests cannot be read once GDAP ended, but each one found was removed: nothing to check.
    assert gone.access_unchecked == () and gone.no_access_remains
    never_read = _case(
        _access(guests=(), unchecked=(Unchecked(part=AccessPart.GUESTS, reason=UncheckedReason.NEEDS, needs="User.Read.All"),))
    )
    _all_approved_and_done(never_read).refresh(
        None, access=_access(guests=(), dap=False, unchecked=no_gdap).model_copy(update={"contacts": (), "gdap": ()})
    )
    # Never read, so nothing of it was removed: it stays to be checked by hand.
    assert [entry.part for entry in never_read.access_unchecked] == [AccessPart.GUESTS] and not never_read.no_access_remains


# ---- Choosing when they run ----


class _Display:
    """The display port, saying nothing (the cards are tested elsewhere)."""

    def __getattr__(self, verb: str) -> Any:
        async def show(*_: Any, **__: Any) -> None:
            pass

        return show


@pytest.fixture
async def decisions() -> AsyncIterator[tuple[CaseDecisions, CaseStore, AuditTrail]]:
    documents = MemoryStore()
    store, audit, background = CaseStore(documents), AuditTrail(documents), BackgroundTasks()
    clock = lambda: NOW  # noqa: E731
    workflow = RemovalWorkflow(
        client=None,  # type: ignore[arg-type]  # nothing here reaches Partner Center
        store=store,
        display=_Display(),
        audit=audit,
        leases=Leases(documents, owner="test", seconds=30),
        background=background,
        clock=clock,
    )
    yield CaseDecisions(store=store, workflow=workflow, audit=audit, clock=clock), store, audit
    await background.drain()


async def test_the_timing_is_chosen_while_awaiting_approval_and_audited(decisions: tuple[CaseDecisions, CaseStore, AuditTrail]) -> None:
    choose, store, audit = decisions
    case = await store.create(_case())

    before = await choose.choose_teardown_timing(case.id, TeardownTiming.BEFORE, by=ANN)
    assert before.effect is Effect.CHANGED and before.case is not None and before.case.teardown_timing is TeardownTiming.BEFORE
    again = await choose.choose_teardown_timing(case.id, TeardownTiming.BEFORE, by=BOB)
    assert again.effect is Effect.ALREADY
    assert (await choose.choose_teardown_timing(case.id, TeardownTiming.AFTER, by=BOB)).effect is Effect.CHANGED

    await choose.approve_all(case.id, by=BOB)  # executing now: what runs when is under way
    late = await choose.choose_teardown_timing(case.id, TeardownTiming.BEFORE, by=ANN)
    assert late.effect is Effect.NOT_NOW and late.case is not None and late.case.teardown_timing is TeardownTiming.AFTER
    assert (await choose.choose_teardown_timing("no-such-case", TeardownTiming.BEFORE, by=ANN)).effect is Effect.NO_CASE

    timings = [
        (record["action"], record["detail"], record["actor"])
        for _, record in await audit.everything()
        if record["action"] == "teardown.timing"
    ]
    assert timings == [("teardown.timing", "before", "Ann (29:ann)"), ("teardown.timing", "after", "Bob (29:bob)")]
    stored = await store.get(case.id)
    assert stored is not None and stored.state is CaseState.EXECUTING and stored.teardown_timing is TeardownTiming.AFTER
