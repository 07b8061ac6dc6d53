"""A removal case: one customer's way from "we are its reseller" to "relationship removed".

Pure data and rules (no botbuilder, no I/O): the case store keeps a case (``removal.store``), the
workflow and the clicks change it, the executor records Partner Center outcomes on it, and the
Teams edge renders it. How it is shown (which Teams message shows what) is the edge's own record,
not the case's. Every decision says who
took it and when; every Partner Center failure keeps its code and correlation id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from partner_center.access import AccessInventory, Unchecked, UncheckedReason
from partner_center.actions import AZURE_CANCELLING
from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.errors import GraphPermissionError, PartnerCenterError
from partner_center.money import Money
from partner_center.teardown import KIND_OF_PART, Service, teardown_blockers, unread_kinds

__all__ = (
    "CLOSED_STATES",
    "MAX_INTERRUPTIONS",
    "NEEDS_PERSON",
    "CaseItem",
    "CaseState",
    "CaseTransfer",
    "CaseTransferLine",
    "CustomerRef",
    "Decision",
    "ErrorReason",
    "FailedAttempts",
    "InvalidTransition",
    "ItemError",
    "Outcome",
    "Pause",
    "Person",
    "Proposal",
    "RemovalCase",
    "SincePlan",
    "TeardownTiming",
    "TransferDecision",
    "TransferOutcome",
)


class CaseState(StrEnum):
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    EXECUTING = "executing"
    PAUSED = "paused"
    WAITING = "waiting"
    READY = "ready"
    REMOVING = "removing"
    REMOVED = "removed"
    FAILED = "failed"
    CANCELLED = "cancelled"


CLOSED_STATES = frozenset({CaseState.REMOVED, CaseState.CANCELLED, CaseState.FAILED})

# Where a case may go from each state; anything else is a bug or a stale click, and is refused.
#   planning ─▶ awaiting approval ─▶ executing ─▶ ready ─▶ removing ─▶ removed
#                  │      ▲              │          ▲ │        │
#                  │      └──────────────┴──────────┼─┼────────┤ (new blockers: someone decides)
#                  └───────────▶ waiting ◀──────────┘ ◀────────┘ (Partner Center changed meanwhile)
#   executing ─▶ paused ─▶ executing,  removing ─▶ paused ─▶ removing (Partner Center not answering)
# ``paused`` is where Partner Center's silence (no connection, 5xx or 429 after every retry) leaves
# an executing or removing case; it goes back to that state once Partner Center answers again.
# Any open state may be cancelled except ``removing`` (the PATCH may already be on its way).
# ``paused`` is the one row that depends on the case: it goes back to the state it was paused in
# (:attr:`Pause.resume_to`), or to what its row lists *and* that state's own row allows, so a
# paused removal cannot be cancelled either, for the same reason (see :meth:`RemovalCase.may_move_to`).
# ``failed`` is where a Partner Center error leaves a case the bot cannot carry on by itself.
_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.PLANNING: frozenset(
        {
            CaseState.AWAITING_APPROVAL,
            CaseState.READY,
            CaseState.WAITING,
            CaseState.CANCELLED,
            CaseState.FAILED,
        }
    ),
    CaseState.AWAITING_APPROVAL: frozenset(
        {
            CaseState.EXECUTING,
            CaseState.READY,
            CaseState.WAITING,
            CaseState.CANCELLED,
            CaseState.FAILED,
        }
    ),
    CaseState.EXECUTING: frozenset(
        {
            CaseState.READY,
            CaseState.WAITING,
            CaseState.PAUSED,
            CaseState.CANCELLED,
            CaseState.FAILED,
            CaseState.AWAITING_APPROVAL,
        }
    ),
    CaseState.PAUSED: frozenset({CaseState.CANCELLED, CaseState.FAILED}),  # and back: see above
    CaseState.WAITING: frozenset(
        {
            CaseState.AWAITING_APPROVAL,
            CaseState.EXECUTING,
            CaseState.READY,
            CaseState.CANCELLED,
            CaseState.FAILED,
        }
    ),
    CaseState.READY: frozenset({CaseState.REMOVING, CaseState.WAITING, CaseState.CANCELLED, CaseState.FAILED}),
    CaseState.REMOVING: frozenset(
        {
            CaseState.REMOVED,
            CaseState.AWAITING_APPROVAL,
            CaseState.WAITING,
            CaseState.PAUSED,
            CaseState.FAILED,
        }
    ),
    CaseState.REMOVED: frozenset(),
    CaseState.CANCELLED: frozenset(),
    CaseState.FAILED: frozenset(),
}

# An item whose Partner Center calls ran out of retries this many times (each time Partner Center
# answered again in between) is failed rather than retried for ever.
MAX_INTERRUPTIONS = 3


class ErrorReason(StrEnum):
    """Why the bot gave up, when it is the bot's reason rather than Partner Center's words (the
    cards say it in the case's language: ``error.reason.<value>``)."""

    NONE = ""
    # Azure is applying the cancellation of the plan's Azure subscriptions: the item waits.
    AZURE_CANCELLING = AZURE_CANCELLING
    # The case's background work failed the same way too many times in a row (FailedAttempts).
    NEEDS_PERSON = "needs_person"
    # Partner Center did not confirm the removal either way: someone must check in the portal.
    REMOVAL_UNCLEAR = "removal_unclear"
    # Partner Center failed on every run of this item (MAX_INTERRUPTIONS).
    UNAVAILABLE_REPEATEDLY = "unavailable_repeatedly"


class SincePlan(StrEnum):
    """What changed in Partner Center about an item since the plan."""

    AS_PLANNED = ""
    NEW = "new"  # bought since
    BACK = "back"  # blocks again after the bot had carried it out
    CHANGED = "changed"  # what the bot would do, or to what, changed after someone had decided


# A case the bot gave up on: a person must look (the :class:`ErrorReason`, by its old name).
NEEDS_PERSON = ErrorReason.NEEDS_PERSON


class InvalidTransition(ValueError):
    """A case was asked to move where its state does not allow (e.g. cancel while removing)."""

    def __init__(self, case_id: str, current: CaseState, wanted: CaseState) -> None:
        super().__init__(f"case {case_id}: {current.value} → {wanted.value} is not allowed")
        self.current = current
        self.wanted = wanted


class TeardownTiming(StrEnum):
    """When the approved teardown items (the partner's access beside the relationship: GDAP, DAP,
    its guests, contacts and apps) are carried out: with the other approved actions, before the
    relationship is removed, or once it is removed (the default: the partner keeps its access
    until the relationship is gone, should the removal be refused or stopped)."""

    BEFORE = "before"
    AFTER = "after"


class Decision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class Person(_Model):
    """A Teams user: ``id`` is the Teams id, ``aad_object_id`` the Entra object id when known."""

    id: str
    name: str = ""
    aad_object_id: str = ""


class CustomerRef(_Model):
    id: str
    name: str
    domain: str = ""


class ItemError(_Model):
    """What Partner Center said when an action failed (for the card and a support ticket)."""

    description: str
    code: str = ""
    status: int = 0
    correlation_id: str = ""
    request_id: str = ""
    # Why the bot gave up, when it is the bot's own reason (none: Partner Center's words say it).
    reason: ErrorReason = ErrorReason.NONE
    # What was missing when Microsoft Graph refused (403) or could not be called: the permission
    # and role, or the setting (GraphPermissionError.needs); "" otherwise, and in errors stored
    # before it was kept.
    needs: str = ""

    @field_validator("reason", mode="before")
    @classmethod
    def _known_reason(cls, value: object) -> object:
        """A reason this version does not know (written by a newer one) reads as none, as an
        unknown field does (``extra="ignore"``): the description still says what happened."""
        known = {reason.value for reason in ErrorReason}
        return value if isinstance(value, ErrorReason) or value in known else ErrorReason.NONE

    @classmethod
    def from_error(cls, error: PartnerCenterError) -> ItemError:
        return cls(
            description=error.description,
            code=error.code,
            status=error.status,
            correlation_id=error.correlation_id,
            request_id=error.request_id,
            needs=error.needs if isinstance(error, GraphPermissionError) else "",
        )


class Proposal(_Model):
    """What the bot proposes to do with an item: the action and what it acts on.

    A decision records the proposal it was about (:attr:`CaseItem.decided_on`), and stands only
    while Partner Center's fresh reads lead to the same proposal: an approval to suspend an Azure
    plan is not an approval to cancel the Azure subscription the customer has created since.

    The item itself (its subscription or order id) is the item's key and never changes; each
    other kind of target is a field named as in :class:`~partner_center.blockers.Blocker`, with
    an empty default. A kind added later therefore reads as "none" in decisions recorded before
    it existed, and such a decision no longer matches an item that now has targets of that kind.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: Action
    # The Azure subscriptions to cancel under an Azure plan. Kept sorted: the order Partner
    # Center lists them in means nothing.
    azure_subscription_ids: tuple[str, ...] = ()

    @field_validator("azure_subscription_ids")
    @classmethod
    def _as_a_set(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(ids)))

    @property
    def fingerprint(self) -> str:
        """A short digest of the proposal, carried by the buttons that decide it: a click on a
        card drawn before the proposal changed decides nothing (see CaseDecisions.decide)."""
        return _digest(self.model_dump(mode="json"))

    def applied_to(self, blocker: Blocker) -> Blocker:
        """``blocker`` with this proposal's action and targets (what to carry out)."""
        return dataclasses.replace(blocker, **{name: getattr(self, name) for name in type(self).model_fields})


class CaseItem(_Model):
    """One blocker of the case and what happened to it."""

    key: str
    kind: BlockerKind
    action: Action
    item_id: str
    name: str
    blocks_removal: bool = True
    status: str = ""
    quantity: int | None = None
    window_ends: datetime | None = None
    term_ends: datetime | None = None
    azure_subscription_ids: tuple[str, ...] = ()
    auto_renew: bool | None = None
    decision: Decision = Decision.PENDING
    decided_by: Person | None = None
    decided_at: datetime | None = None
    # What the decision was about (recorded with it; None while pending, and in cases stored
    # before decisions recorded it). See :attr:`decision_stands`.
    decided_on: Proposal | None = None
    outcome: Outcome = Outcome.NOT_STARTED
    error: ItemError | None = None
    # Partner Center no longer reports it as a blocker (set by the fresh re-read).
    cleared: bool = False
    # Runs of this item that Partner Center's silence cut short (see MAX_INTERRUPTIONS).
    interruptions: int = 0
    # What changed in Partner Center since the plan (a changed item is asked about again).
    since_plan: SincePlan = SincePlan.AS_PLANNED
    # What the item costs and until when it can be cancelled or refunded, as Partner Center says
    # (partner_center.money); None where nothing is known, and in cases stored before money was
    # read.
    money: Money | None = None

    @classmethod
    def from_blocker(cls, blocker: Blocker) -> CaseItem:
        return cls(key=blocker.key, **{name: getattr(blocker, name) for name in _BLOCKER_FIELDS})

    def to_blocker(self) -> Blocker:
        return Blocker(**{name: getattr(self, name) for name in _BLOCKER_FIELDS})

    @property
    def needs_decision(self) -> bool:
        """The bot can act on it, so a person must approve or skip it."""
        return self.action.is_automatic

    @property
    def irreversible(self) -> bool:
        """Carrying it out cannot be undone by the partner (a cancellation)."""
        return self.action.is_irreversible

    @property
    def proposal(self) -> Proposal:
        """What the bot proposes for it now (from the last read of Partner Center)."""
        return Proposal.model_validate({name: getattr(self, name) for name in Proposal.model_fields})

    @property
    def decision_stands(self) -> bool:
        """Someone decided, and about what the bot proposes now."""
        return self.decision is not Decision.PENDING and self._decided_about(self.proposal)

    def approved_work(self) -> Blocker | None:
        """What a person approved, to carry out: built from the approved action and targets.

        None when the item is not approved, or when what the bot proposes now is not what was
        approved (nothing may be carried out on the strength of an approval of something else).
        """
        if self.decision is not Decision.APPROVED or self.decided_on is None or not self.decision_stands:
            return None
        return self.decided_on.applied_to(self.to_blocker())

    def _decided_about(self, proposal: Proposal) -> bool:
        if self.decided_on is not None:
            # Approving "cancel these Azure subscriptions, then suspend the plan" approves its
            # second half too: once none reads active (cancelled, or moved away by the customer),
            # the fresh proposal "suspend the plan" is still what was approved. Never the reverse,
            # and not for a skip (left alone, the subscriptions moved away: the plan is asked about).
            return self.decided_on == proposal or (
                self.decision is Decision.APPROVED
                and self.decided_on.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
                and proposal == Proposal(action=Action.SUSPEND)
            )
        # Decided before decisions recorded what they were about: a skip was about what the item
        # shows (only a fresh read changes it, and the read compares before it changes); what an
        # approval was about cannot be known, so it is not taken as approving anything.
        return self.decision is Decision.SKIPPED and self.proposal == proposal


_BLOCKER_FIELDS = tuple(field.name for field in dataclasses.fields(Blocker))


class Pause(_Model):
    """Why and since when a case is paused, the state it goes back to, and the service whose
    silence paused it (it resumes once that one answers)."""

    since: datetime
    resume_to: CaseState
    error: ItemError
    # Cases paused before the service was kept waited for Partner Center (the only one then), as
    # does a value a newer version wrote that this one does not know.
    service: Service = Service.PARTNER_CENTER

    @field_validator("service", mode="before")
    @classmethod
    def _known_service(cls, value: object) -> object:
        known = {service.value for service in Service}
        return value if isinstance(value, Service) or value in known else Service.PARTNER_CENTER


class TransferDecision(StrEnum):
    """What an approver decided about an outgoing transfer request."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class TransferOutcome(StrEnum):
    """Where carrying out the decision stands: sent to Partner Center (``submitted``), then
    followed until Partner Center says the transfer completed, or failed."""

    NOT_STARTED = "not_started"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    FAILED = "failed"


class CaseTransferLine(_Model):
    """One line item of a transfer request: a subscription the other partner asks to take over."""

    id: str
    subscription_id: str = ""
    name: str = ""
    quantity: int | None = None
    # The case item (its key) this line would clear once transferred: the blocker whose
    # subscription it moves away; None when it covers none of the case's items.
    clears: str | None = None
    # Partner Center's status of the line item, as spelled (e.g. "Completed", "Failed"; "" unknown).
    status: str = ""
    # Partner Center's ``transferError`` for this line item when it failed.
    error: ItemError | None = None


class CaseTransfer(_Model):
    """A transfer request another partner created for the customer (``/v1/customers/{id}/transfers``,
    learn.microsoft.com/partner-center/developer/transfer-entity-resources), read with the plan and
    on every re-check, and what an approver decided about it."""

    id: str
    target_partner: str = ""
    # Partner Center's status as spelled: "Active", "Completed" (documented); "Expired",
    # "Canceled" (assumption).
    status: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    line_items: list[CaseTransferLine] = Field(default_factory=list)
    decision: TransferDecision = TransferDecision.PENDING
    decided_by: Person | None = None
    decided_at: datetime | None = None
    # The line items accepted (None: all of them); set with an acceptance.
    accepted_lines: list[str] | None = None
    outcome: TransferOutcome = TransferOutcome.NOT_STARTED
    error: ItemError | None = None
    completed_at: datetime | None = None
    # Partner Center lists the request without line items ("the source partner updates the
    # transfer with line item details", update-a-transfer): ``line_items`` are then the plan's
    # transferable items, proposed by the bot, and accepting sends them.
    proposed: bool = False

    @property
    def is_active(self) -> bool:
        """Partner Center still waits for the source partner (us) to accept or decline it."""
        return self.status.lower() == "active"

    @property
    def is_completed(self) -> bool:
        return self.status.lower() == "completed"

    def line(self, line_id: str) -> CaseTransferLine | None:
        return next((line for line in self.line_items if line.id == line_id), None)

    @property
    def chosen_lines(self) -> list[CaseTransferLine]:
        """The line items the acceptance covers (all of them when none were chosen)."""
        if self.accepted_lines is None:
            return list(self.line_items)
        chosen = set(self.accepted_lines)
        return [line for line in self.line_items if line.id in chosen]

    @property
    def clears(self) -> list[str]:
        """The case item keys this transfer would clear (accepted: those of its chosen lines)."""
        lines = self.chosen_lines if self.decision is TransferDecision.ACCEPTED else self.line_items
        return [line.clears for line in lines if line.clears]

    @property
    def failed_lines(self) -> list[CaseTransferLine]:
        return [line for line in self.line_items if line.error is not None]

    @property
    def lines_fingerprint(self) -> str:
        """A digest of the line items (ids and quantities) as read now: the accept button carries
        it, so a card drawn before Partner Center's request changed accepts nothing."""
        return _digest(sorted((line.id, line.quantity) for line in self.line_items))

    @property
    def may_be_decided_again(self) -> bool:
        """Sending the decision failed (Partner Center refused it) and Partner Center still lists
        the request as Active: an approver may try again, or decide otherwise."""
        return self.outcome is TransferOutcome.FAILED and self.is_active

    @property
    def open_to_decision(self) -> bool:
        """Active and either undecided or decided in vain (see :attr:`may_be_decided_again`)."""
        return self.is_active and (self.decision is TransferDecision.PENDING or self.may_be_decided_again)

    @property
    def moving(self) -> bool:
        """Accepted and not yet completed or failed: its chosen lines are moving to the other partner."""
        return self.decision is TransferDecision.ACCEPTED and self.outcome in (TransferOutcome.NOT_STARTED, TransferOutcome.SUBMITTED)


class FailedAttempts(_Model):
    """The case's background work (carrying out, removing) failing the same way attempt after
    attempt: how many times in a row, and when the resume sweep may try again.

    Stored with the case, so the count survives restarts and every instance sees the same one.
    """

    # "unavailable" (Partner Center stopped answering again right after the case resumed), or
    # "error:<exception type>" (something the bot did not expect).
    kind: str = ""
    count: int = 0
    # Failed attempts in a row whatever their kind: failures that alternate between two kinds
    # must not restart the count for ever (see note_failed_attempt).
    in_a_row: int = 0
    detail: str = ""
    # The resume sweep leaves the case alone until then (exponential backoff).
    retry_at: datetime | None = None


class RemovalCase(_Model):
    """Everything about one removal request."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    customer: CustomerRef
    requested_by: Person
    requested_at: datetime
    state: CaseState = CaseState.PLANNING
    items: list[CaseItem] = Field(default_factory=list)
    approved_by: Person | None = None
    removed_at: datetime | None = None
    relationship_request_url: str = ""
    removal_correlation_id: str = ""
    error: ItemError | None = None
    # Set while the case is paused (Partner Center not answering).
    pause: Pause | None = None
    # (Cases stored before the Teams edge kept its own record of the messages showing a case
    # carry ``plan_message_id``, ``status_message_id`` and ``final_message_id``: ignored here,
    # see ``bot.case_messages``.)
    # The requester's locale: background work and resumed cases speak it.
    locale: str = "en-US"
    # Items whose term-end reminder was sent (the scheduler reminds once per item).
    reminded: list[str] = Field(default_factory=list)
    # Since when the case is in its state (set by move_to when given the time; else the
    # scheduler stamps it when it first sees the state): what reminders count from.
    state_since: datetime | None = None
    # When the first execution began: Partner Center changed from then on (half-offboarded).
    changes_since: datetime | None = None
    # The reminders and escalations sent ("reminder:ready:<state_since>"): once per wait.
    nudged: list[str] = Field(default_factory=list)
    # The last record of the progress journal already folded into this document (see store).
    progress_seq: int = 0
    # Where it was asked: a Bot Framework ConversationReference, serialized (for proactive posts).
    conversation: dict[str, Any] = Field(default_factory=dict)
    # When Teams said the bot is no longer in ``conversation`` (removed from the team, app
    # uninstalled): from then on the case's messages go to the notification channels and to the
    # requester 1:1 instead.
    conversation_gone_at: datetime | None = None
    # Consecutive failed attempts of the case's background work (see FailedAttempts).
    failed_attempts: FailedAttempts = Field(default_factory=FailedAttempts)
    # The access the partner still has to the customer besides the relationship (GDAP, DAP, its
    # footprints in the customer's tenant), as last read at plan time, a re-check or after the
    # removal; None: not read (Graph not wired, or cases stored before it existed). What it finds
    # is the case's teardown items (:attr:`teardown_items`).
    partner_access: AccessInventory | None = None
    # When the approved teardown items run (chosen while the case awaits approval).
    teardown_timing: TeardownTiming = TeardownTiming.AFTER
    # The outgoing transfer requests other partners created for the customer, read with the plan
    # and refreshed with it (see :meth:`refresh_transfers`); empty in cases stored before.
    transfers: list[CaseTransfer] = Field(default_factory=list)
    # The window announcements sent ("window:<item key>:<window end>"): once per item and window.
    windows_announced: list[str] = Field(default_factory=list)

    @classmethod
    def open(cls, plan: RemovalPlan, *, requested_by: Person, at: datetime, access: AccessInventory | None = None) -> RemovalCase:
        """A case for ``plan``: its items are the plan's blockers, then the teardown items of
        ``access`` (what the partner's access to the customer was read to be; None: not read)."""
        customer = plan.customer
        teardown = teardown_blockers(access) if access is not None else ()
        return cls(
            customer=CustomerRef(id=customer.id or "", name=customer.name, domain=customer.domain),
            requested_by=requested_by,
            requested_at=at,
            state=CaseState.AWAITING_APPROVAL,
            state_since=at,
            items=[CaseItem.from_blocker(b) for b in (*plan.blockers, *teardown)],
            partner_access=access,
        )

    # ---- Questions ----

    def item(self, key: str) -> CaseItem | None:
        return next((item for item in self.items if item.key == key), None)

    def transfer(self, transfer_id: str) -> CaseTransfer | None:
        return next((transfer for transfer in self.transfers if transfer.id == transfer_id), None)

    @property
    def pending_transfers(self) -> list[CaseTransfer]:
        """Transfer requests still waiting for an approver here (active, not decided)."""
        return [t for t in self.transfers if t.is_active and t.decision is TransferDecision.PENDING]

    @property
    def transfers_under_way(self) -> list[CaseTransfer]:
        """Accepted or rejected transfers whose outcome Partner Center has not confirmed yet, and
        accepted ones whose sending failed while Partner Center still lists them Active or
        Completed (a refused resend of a submit in progress: see :meth:`refresh_transfers`)."""
        return [
            t
            for t in self.transfers
            if (t.decision is not TransferDecision.PENDING and t.outcome is TransferOutcome.SUBMITTED)
            or (t.decision is TransferDecision.ACCEPTED and t.outcome is TransferOutcome.FAILED and (t.is_active or t.is_completed))
        ]

    @property
    def moving_keys(self) -> set[str]:
        """The keys of the items an accepted transfer is moving to the other partner (accepted,
        not yet completed or failed): they are set aside from execution and from "approve all"
        (cancelling what is being transferred would undo the transfer, or fail it)."""
        return {line.clears for t in self.transfers if t.moving for line in t.chosen_lines if line.clears}

    def transfer_conflicts(self, transfer: CaseTransfer, line_ids: list[str] | None) -> list[CaseItem]:
        """The case items of these line items (None: all) that are approved, being carried out or
        done: a transfer of them must not be accepted (the bot is cancelling them, or did)."""
        lines = transfer.line_items if line_ids is None else [line for line in transfer.line_items if line.id in set(line_ids)]
        keys = {line.clears for line in lines if line.clears}
        return [
            item
            for item in self.items
            if item.key in keys and (item.decision is Decision.APPROVED or item.outcome in (Outcome.RUNNING, Outcome.DONE))
        ]

    @property
    def to_decide(self) -> list[CaseItem]:
        return [i for i in self.items if i.needs_decision]

    @property
    def next_pending(self) -> CaseItem | None:
        """The next item waiting for a decision (those a transfer is moving are not waited for)."""
        moving = self.moving_keys
        return next((i for i in self.to_decide if i.decision is Decision.PENDING and i.key not in moving), None)

    @property
    def approved(self) -> list[CaseItem]:
        return [i for i in self.items if i.decision is Decision.APPROVED]

    @property
    def skipped(self) -> list[CaseItem]:
        return [i for i in self.items if i.decision is Decision.SKIPPED]

    @property
    def done(self) -> list[CaseItem]:
        return [i for i in self.items if i.outcome is Outcome.DONE]

    @property
    def failed(self) -> list[CaseItem]:
        return [i for i in self.items if i.outcome is Outcome.FAILED]

    @property
    def must_wait(self) -> list[CaseItem]:
        """Blocking items the bot cannot clear: past a window, or a reservation."""
        return [i for i in self.items if i.blocks_removal and not i.action.is_automatic]

    @property
    def reported(self) -> list[CaseItem]:
        """Items shown for information only (e.g. software past its window)."""
        return [i for i in self.items if not i.blocks_removal and not i.action.is_automatic]

    @property
    def still_blocking(self) -> list[CaseItem]:
        """What Partner Center, at the last read, says still prevents the removal."""
        return [i for i in self.items if i.blocks_removal and not i.cleared]

    @property
    def teardown_items(self) -> list[CaseItem]:
        """The partner's access beside the relationship, one item each (GDAP, DAP, guests...)."""
        return [i for i in self.items if i.kind.is_teardown]

    @property
    def teardown_timing_settled(self) -> bool:
        """Whether the teardown timing can no longer be switched: a teardown item was approved
        or skipped. What a person approved (terminating GDAP, deleting a guest) was approved to run
        at the time the cards then said (the confirmation card states it): switching afterwards would
        carry it out at a time nobody agreed to. An item asked about again (its decision forgotten
        because what the bot proposes changed) is pending, and decides nothing here."""
        return any(item.decision is not Decision.PENDING for item in self.teardown_items)

    @property
    def blocker_items(self) -> list[CaseItem]:
        """What Partner Center reports about the relationship (the blockers), not the teardown."""
        return [i for i in self.items if not i.kind.is_teardown]

    @property
    def access_remaining(self) -> list[CaseItem]:
        """Teardown items whose access still stands as far as the case knows: pending, skipped,
        failed or not run (not found at the last read, done, or ending by itself: not here)."""
        return [
            i for i in self.teardown_items if not i.cleared and i.outcome is not Outcome.DONE and i.action is not Action.NOTE_GDAP_ENDING
        ]

    @property
    def access_ending(self) -> list[CaseItem]:
        """GDAP relationships whose termination is under way: Microsoft completes it by itself
        (terminationRequested, terminating), whether the bot or someone else asked for it."""
        return [
            i
            for i in self.teardown_items
            if i.kind is BlockerKind.GDAP
            and not i.cleared
            and (i.action is Action.NOTE_GDAP_ENDING or (i.outcome is Outcome.DONE and i.action is Action.TERMINATE_GDAP))
        ]

    @property
    def access_unchecked(self) -> tuple[Unchecked, ...]:
        """The parts of the partner's access that could not be read at the last reading (to check
        by hand), but for those the teardown itself made unreadable (:meth:`_torn_down`)."""
        if self.partner_access is None:
            return ()
        return tuple(entry for entry in self.partner_access.unchecked if not self._torn_down(entry))

    @property
    def no_access_remains(self) -> bool:
        """The partner's access was read, and nothing of it remains, ends or went unchecked."""
        return self.partner_access is not None and not (self.access_remaining or self.access_ending or self.access_unchecked)

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES

    def _torn_down(self, unchecked: Unchecked) -> bool:
        """A part of the customer's tenant that cannot be read now only because no GDAP
        relationship gives access to it any more (terminating GDAP, the teardown's last step, does
        that), and every item found there at an earlier reading was removed (each one read back
        as it was removed, :meth:`Teardown.carry_out <partner_center.teardown.Teardown.carry_out>`).
        Not a part to check by hand: were it, no teardown could ever end on "no access remains".
        A part never read (no item came from it) stays unchecked.

        Assumption: nothing new appeared in that part between its last reading and the GDAP
        termination (the tenant is not re-read just before GDAP ends). A guest the partner added
        in between is neither an item nor unchecked here, and the result would not name it."""
        kind = KIND_OF_PART.get(unchecked.part)
        items = [item for item in self.teardown_items if item.kind is kind]
        return (
            unchecked.reason is UncheckedReason.NO_GDAP
            and bool(items)
            and all(item.outcome is Outcome.DONE or item.cleared for item in items)
        )

    def may_move_to(self, state: CaseState) -> bool:
        if self.state is CaseState.PAUSED:
            # Back where it was paused, or where both rows allow (a paused removal, whose PATCH
            # may have reached Partner Center before it stopped answering, is not cancelled).
            resume_to = self.pause.resume_to if self.pause else CaseState.EXECUTING
            return state is resume_to or state in _TRANSITIONS[CaseState.PAUSED] & _TRANSITIONS[resume_to]
        return state in _TRANSITIONS[self.state]

    # ---- Changes ----

    def move_to(self, state: CaseState, *, at: datetime | None = None) -> None:
        """Change state along an allowed transition; staying in the same state is no change.
        ``at``: when (kept as :attr:`state_since`; None: not known, the scheduler stamps it).

        :raises InvalidTransition: the transition is not allowed from the current state.
        """
        if state is self.state:
            return
        if not self.may_move_to(state):
            raise InvalidTransition(self.id, self.state, state)
        self.state = state
        self.state_since = at
        if state is CaseState.EXECUTING and self.changes_since is None:
            self.changes_since = at

    def record_outcome(self, key: str, outcome: Outcome, error: ItemError | None = None) -> None:
        """What Partner Center did with one item (from the executor, or replayed from the journal)."""
        item = self.item(key)
        if item is not None:
            item.outcome = outcome
            item.error = error

    def record_interruption(self, key: str) -> None:
        """Partner Center stopped answering while this item ran: it is to be run again."""
        item = self.item(key)
        if item is not None:
            item.outcome = Outcome.NOT_STARTED
            item.error = None
            item.interruptions += 1

    def pause_for(self, error: ItemError, *, at: datetime, service: Service = Service.PARTNER_CENTER) -> None:
        """``service`` (Partner Center, or Microsoft Graph) is not answering: pause, to go back to
        the current state once it answers again."""
        resume_to = self.state
        self.move_to(CaseState.PAUSED, at=at)
        self.pause = Pause(since=at, resume_to=resume_to, error=error, service=service)

    def unpause(self, *, at: datetime | None = None) -> CaseState:
        """Partner Center answers again: back to the state the case was paused in."""
        if self.state is not CaseState.PAUSED or self.pause is None:
            raise InvalidTransition(self.id, self.state, CaseState.EXECUTING)
        resume_to = self.pause.resume_to
        self.move_to(resume_to, at=at)
        self.pause = None
        return resume_to

    def note_failed_attempt(self, kind: str, detail: str, *, retry_at: Callable[[int], datetime], progressed: bool = False) -> int:
        """One more attempt of the background work failed; how many in a row failed this way.

        A failure of another kind, or an attempt that got something done before it failed,
        starts the count again: only the same failure, with nothing gained, repeats.
        ``retry_at(count)``: when the sweep may try again.
        """
        same = self.failed_attempts.kind == kind and not progressed
        count = self.failed_attempts.count + 1 if same else 1
        in_a_row = 1 if progressed else self.failed_attempts.in_a_row + 1
        # Alternating kinds count at half rate: the bound is then twice as far, but it holds.
        count = max(count, in_a_row // 2)
        self.failed_attempts = FailedAttempts(kind=kind, count=count, in_a_row=in_a_row, detail=detail, retry_at=retry_at(count))
        return count

    def clear_failed_attempts(self) -> None:
        """The background work got through: the next failure counts from one again."""
        if self.failed_attempts.count or self.failed_attempts.retry_at is not None:
            self.failed_attempts = FailedAttempts()

    def give_up(self, description: str, *, at: datetime | None = None) -> None:
        """Stop trying by itself: failed, for a person to look at (:data:`NEEDS_PERSON`);
        ``at``: when (as for :meth:`move_to`).

        :raises InvalidTransition: the case is closed already (a failed case too: it was
            given up on, or failed, once).
        """
        if not self.is_open:
            raise InvalidTransition(self.id, self.state, CaseState.FAILED)
        self.move_to(CaseState.FAILED, at=at)
        self.error = ItemError(description=description, reason=NEEDS_PERSON)

    def decide(self, key: str, decision: Decision, *, by: Person, at: datetime) -> CaseItem:
        """Record a person's decision on one item, and what it is about (the action and targets
        proposed now: :attr:`CaseItem.decided_on`); a decided item keeps its first decision."""
        item = self.item(key)
        if item is None or not item.needs_decision:
            raise KeyError(key)
        if item.decision is Decision.PENDING:
            item.decision = decision
            item.decided_by = by
            item.decided_at = at
            item.decided_on = item.proposal
        return item

    def refresh(self, plan: RemovalPlan | None, *, access: AccessInventory | None = None) -> None:
        """Merge what was read afresh: known items keep their decisions, new ones are added (marked
        new), items no longer found are marked cleared.

        ``plan``: Partner Center's blockers (None: not read, e.g. after the removal, when only the
        access is read; the blocker items are left as they are). ``access``: the partner's access
        (None: not read; the teardown items are left as they are). A part of it that could not be
        read (:func:`~partner_center.teardown.unread_kinds`) says nothing about its items: they are
        left as they are too, never taken as gone. A teardown item no longer found is cleared:
        that is the read-back of a guest deleted, an app removed, DAP or a GDAP ended.

        An item done earlier that is found again with something for the bot to do (reactivated
        in the portal, auto-renew turned back on, a guest invited again) was undone by someone: it
        is asked about again, never redone on the strength of the old decision. A GDAP
        relationship whose termination the bot requested and that now reads as ending
        (terminationRequested, terminating) is not undone: it stays done, ending.

        A decision is about an action on given targets, not about an item's key: an item not
        done whose action or targets are no longer what was approved or skipped (an Azure plan
        approved for suspension under which the customer has since created an Azure
        subscription) is asked about again, marked "changed"; whatever happened to the old
        proposal (a failure) no longer says anything about the new one.
        """
        added: list[CaseItem] = []
        if plan is not None:
            added += _merge(self.blocker_items, plan.blockers)
        if access is not None:
            unread = unread_kinds(access)
            read_items = [item for item in self.teardown_items if item.kind not in unread]
            found = [blocker for blocker in teardown_blockers(access) if blocker.kind not in unread]
            added += _merge(read_items, found, teardown=True)
            self.partner_access = access
        for item in added:
            item.since_plan = SincePlan.NEW
        self.items.extend(added)

    def refresh_transfers(self, fresh: list[CaseTransfer]) -> list[CaseTransfer]:
        """Merge the transfer requests read afresh (``fresh``: as Partner Center lists them now,
        undecided); returns the transfers that completed or failed with this read.

        A known transfer keeps what was decided about it, and takes Partner Center's status,
        expiry and line items (each line's ``clears`` recomputed against the case's items). A
        transfer no longer listed is kept if someone decided about it (the case's history),
        dropped otherwise. An accepted or rejected transfer that was submitted is settled by the
        status read: "Completed" completes an acceptance (failed if every accepted line item
        carries a ``transferError``); "Canceled" (assumption: the documented side of a
        decline) settles a rejection; "Expired" (assumption) fails an acceptance."""
        settled: list[CaseTransfer] = []
        known = {transfer.id: transfer for transfer in self.transfers}
        merged: list[CaseTransfer] = []
        for read in fresh:
            if not read.line_items:
                read.line_items, read.proposed = self._transferable_lines(), True
            for line in read.line_items:
                line.clears = self._cleared_by(line.subscription_id)
            transfer = known.pop(read.id, None)
            if transfer is None:
                merged.append(read)
                continue
            transfer.target_partner = read.target_partner or transfer.target_partner
            transfer.status = read.status
            transfer.created_at = read.created_at or transfer.created_at
            transfer.expires_at = read.expires_at or transfer.expires_at
            transfer.line_items = read.line_items
            transfer.proposed = read.proposed
            transfer.completed_at = read.completed_at or transfer.completed_at
            if transfer.outcome is TransferOutcome.FAILED and _landed(transfer):
                # A refused PATCH can be the resend of one that timed out and is in progress
                # (assumption: Partner Center refuses a second submit): lines reading InProgress
                # or Completed, or the request Completed, mean it was submitted after all.
                transfer.outcome, transfer.error = TransferOutcome.SUBMITTED, None
            if transfer.outcome is TransferOutcome.SUBMITTED and self._settle(transfer):
                settled.append(transfer)
            merged.append(transfer)
        merged += [transfer for transfer in known.values() if transfer.decision is not TransferDecision.PENDING]
        self.transfers = merged
        return settled

    @staticmethod
    def _settle(transfer: CaseTransfer) -> bool:
        """Whether ``transfer`` (submitted) is now settled by its status; sets the outcome."""
        status = transfer.status.lower()
        if transfer.decision is TransferDecision.REJECTED:
            if status in ("canceled", "cancelled", "expired", "rejected", "declined"):
                transfer.outcome = TransferOutcome.COMPLETED
                return True
            return False
        if status == "completed":
            chosen = transfer.chosen_lines
            failed = bool(chosen) and all(line.error is not None for line in chosen)
            transfer.outcome = TransferOutcome.FAILED if failed else TransferOutcome.COMPLETED
            if failed and transfer.error is None:
                first = chosen[0].error
                assert first is not None
                transfer.error = first
            return True
        if status in ("expired", "canceled", "cancelled"):
            transfer.outcome = TransferOutcome.FAILED
            transfer.error = transfer.error or ItemError(description=f"Partner Center: transfer {status}")
            return True
        return False

    def _transferable_lines(self) -> list[CaseTransferLine]:
        """The line items to propose for a request Partner Center lists without any: this
        customer's new-commerce license subscriptions and savings plans still on the plan (what
        create-a-transfer says a transfer carries; the other kinds are left out: assumption).
        Each line's id is its subscription (or savings plan order) id."""
        return [
            CaseTransferLine(id=item.item_id, subscription_id=item.item_id, name=item.name, quantity=item.quantity)
            for item in self.blocker_items
            if item.kind in _PROPOSED_KINDS and not item.cleared and item.item_id
        ]

    def _cleared_by(self, subscription_id: str) -> str | None:
        """The key of the case's blocker whose subscription a transfer line item moves away."""
        if not subscription_id:
            return None
        wanted = subscription_id.lower()
        item = next((i for i in self.blocker_items if i.item_id.lower() == wanted), None)
        return item.key if item is not None else None

    @property
    def pending_fingerprint(self) -> str:
        """A digest of what "approve all" would approve now (every pending item's proposal)."""
        pending = sorted((i.key, i.proposal.fingerprint) for i in self.to_decide if i.decision is Decision.PENDING)
        return _digest(pending)

    def approve_all_remaining(self, *, by: Person, at: datetime, only: Callable[[CaseItem], bool] | None = None) -> int:
        """Approve every item still waiting for a decision or, with ``only``, those of them it
        selects (the others stay pending); returns how many were approved."""
        moving = self.moving_keys  # moving to the other partner: not this plan's to cancel
        pending = [i for i in self.to_decide if i.decision is Decision.PENDING and i.key not in moving and (only is None or only(i))]
        for item in pending:
            self.decide(item.key, Decision.APPROVED, by=by, at=at)
        return len(pending)


# New-commerce license subscriptions (in or past their window) and savings plans: what a request
# created without line items is proposed to carry.
_PROPOSED_KINDS = frozenset({BlockerKind.NCE_INSIDE_WINDOW, BlockerKind.NCE_PAST_WINDOW, BlockerKind.SAVINGS_PLAN})


def _landed(transfer: CaseTransfer) -> bool:
    """Partner Center shows an accepted transfer as submitted: Completed, or one of the chosen
    lines reading InProgress or Completed (line statuses as the sandbox spells them; Microsoft's
    pages show no line status values: assumption)."""
    if transfer.decision is not TransferDecision.ACCEPTED:
        return False
    if transfer.is_completed:
        return True
    return any(line.status.lower() in ("inprogress", "in_progress", "completed") for line in transfer.chosen_lines)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _merge(items: list[CaseItem], blockers: tuple[Blocker, ...] | list[Blocker], *, teardown: bool = False) -> list[CaseItem]:
    """Bring ``items`` up to date with ``blockers``, read afresh for the same kinds (see
    :meth:`RemovalCase.refresh`); returns the items to add for what is new. ``teardown``: the
    items are the partner's access, whose name (a guest's address, the contact addresses) and
    count (a GDAP relationship's roles) are what was read, so they are updated too."""
    fresh = {blocker.key: blocker for blocker in blockers}
    for item in items:
        blocker = fresh.pop(item.key, None)
        item.cleared = blocker is None
        if blocker is None:
            continue
        if item.outcome is Outcome.DONE and blocker.action.is_automatic:
            _forget_decision(item)
            item.outcome, item.error, item.since_plan = Outcome.NOT_STARTED, None, SincePlan.BACK
        elif item.outcome is not Outcome.DONE and item.decision is not Decision.PENDING and not item._decided_about(_proposal_of(blocker)):
            _forget_decision(item)
            item.outcome, item.error, item.since_plan = Outcome.NOT_STARTED, None, SincePlan.CHANGED
        item.action = blocker.action
        item.status = blocker.status
        item.window_ends = blocker.window_ends
        item.term_ends = blocker.term_ends
        item.azure_subscription_ids = blocker.azure_subscription_ids
        item.auto_renew = blocker.auto_renew
        item.blocks_removal = blocker.blocks_removal
        item.money = blocker.money
        if teardown:
            item.name = blocker.name
            item.quantity = blocker.quantity
    return [CaseItem.from_blocker(blocker) for blocker in fresh.values()]


def _proposal_of(blocker: Blocker) -> Proposal:
    return Proposal.model_validate({name: getattr(blocker, name) for name in Proposal.model_fields})


def _forget_decision(item: CaseItem) -> None:
    item.decision, item.decided_by, item.decided_at, item.decided_on = Decision.PENDING, None, None, None
