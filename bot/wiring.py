"""The services, wired once: the case store, leases, audit, notifications, workflow, decisions,
scheduler and the bot, from what the caller opened (Partner Center, the document store, where
messages go, the clock).

``app.py`` calls it with what the settings say; the dialog tests call it with botbuilder's
``TestAdapter`` and the in-process sandbox; the benchmarks run ``app.py`` itself. One function, so
that a change of a constructor is made in one place and all three see it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from botbuilder.core import ConversationState

from bot.case_display import TeamsCaseDisplay
from bot.case_messages import CaseMessageBook
from bot.case_notices import PersonalChats, TeamsCaseNotices
from bot.messenger import Messenger
from bot.notifier import CardAnnouncer
from bot.state_storage import DocumentStateStorage
from bot.teams_bot import OffboardBot
from dialogs.remove_dialog import RemovalServices
from partner_center import GraphClient, PartnerCenterClient
from partner_center.access import PartnerAccessReader, PartnerIdentity
from partner_center.teardown import Teardown
from removal.access import AccessPolicy
from removal.audit import AuditTrail
from removal.background import BackgroundTasks
from removal.decisions import CaseDecisions
from removal.lease import Leases
from removal.notifications import CaseNotifications
from removal.scheduler import WaitingCases
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import DocumentStore

if TYPE_CHECKING:
    from bot.installations import InstallationStore
    from bot.settings import Settings

__all__ = ("CaseTimings", "Services", "build_services")


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseTimings:
    """How long and how often a case waits; the defaults are the constructors' own.

    Attributes:
        lease_seconds: how long a lease on a case lasts without renewal.
        max_attempts: failed attempts of the same kind in a row before a case is failed.
        backoff_initial: the first wait before a failed case is tried again (seconds).
        backoff_max: the longest such wait (seconds).
        progress_interval: least seconds between two updates of the progress card.
        reminder_days: a case waiting for a person is re-announced after this many days.
        decision_reminder_hours: a case waiting for an approval is reminded about after this.
        escalation_hours: and escalated to the approvers after this much longer.
    """

    lease_seconds: float = 60.0
    max_attempts: int = 5
    backoff_initial: float = 0.0
    backoff_max: float = 900.0
    progress_interval: float = 1.5
    reminder_days: int = 7
    decision_reminder_hours: float = 24.0
    escalation_hours: float = 48.0

    @classmethod
    def from_settings(cls, settings: Settings) -> CaseTimings:
        return cls(
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_case_attempts,
            backoff_initial=settings.resume_interval_seconds,
            backoff_max=settings.case_backoff_max_seconds,
            reminder_days=settings.reminder_days,
            decision_reminder_hours=settings.decision_reminder_hours,
            escalation_hours=settings.escalation_hours,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """What :func:`build_services` made; the caller runs the periodic work and serves the bot."""

    cases: CaseStore
    audit: AuditTrail
    leases: Leases
    notifications: CaseNotifications | None
    workflow: RemovalWorkflow
    decisions: CaseDecisions
    removal: RemovalServices
    waiting: WaitingCases
    bot: OffboardBot
    messages: CaseMessageBook


def build_services(
    *,
    client: PartnerCenterClient,
    documents: DocumentStore,
    messenger: Messenger,
    background: BackgroundTasks,
    clock: Callable[[], datetime],
    lease_owner: str,
    access: AccessPolicy | None = None,
    audit_documents: DocumentStore | None = None,
    announcer: CardAnnouncer | None = None,
    personal_chats: PersonalChats | None = None,
    installations: InstallationStore | None = None,
    approvers: Sequence[str] = (),
    timings: CaseTimings = CaseTimings(),
    graph: GraphClient | None = None,
    partner: PartnerIdentity | None = None,
) -> Services:
    """Wire the services over ``documents`` (cases, leases, dialog state; the audit trail too
    unless ``audit_documents`` is given).

    :param messenger: where a case's messages go in its own conversation.
    :param announcer: the notification channels and 1:1 chats; None: no notifications.
    :param installations: where the bot is installed; None: the ``notify`` commands are off.
    :param approvers: the approvers' Entra object ids, in the order escalations name them.
    :param access: who may do what; None: everyone may do everything (the dialog tests).
    :param graph: Microsoft Graph, to read the access the partner still has (``partner`` says who
        the partner is) and to remove what is approved of it; None: the plan does not show it.
    """
    partner_access = PartnerAccessReader(client, graph, partner) if graph is not None and partner is not None else None
    # Always there, Graph or not: a stored case may hold teardown items read under another
    # configuration, and without Graph each says it needs Graph rather than failing the run.
    teardown = Teardown(graph=graph, partner_center=client, partner=partner or PartnerIdentity())
    cases = CaseStore(documents)
    audit = AuditTrail(audit_documents or documents)
    leases = Leases(documents, owner=lease_owner, seconds=timings.lease_seconds)
    # Which Teams messages show a case: the edge's record, beside the cases.
    messages = CaseMessageBook(documents)
    notifications = (
        CaseNotifications(TeamsCaseNotices(announcer, clock=clock, messages=messages, personal_chats=personal_chats, approvers=approvers))
        if announcer is not None
        else None
    )
    # ``announcer``: where a case's cards go once its conversation is gone.
    display = TeamsCaseDisplay(messenger, messages, cases=cases, clock=clock, announcer=announcer)
    workflow = RemovalWorkflow(
        client=client,
        store=cases,
        display=display,
        audit=audit,
        leases=leases,
        background=background,
        clock=clock,
        notifications=notifications,
        progress_interval=timings.progress_interval,
        max_attempts=timings.max_attempts,
        backoff_initial=timings.backoff_initial,
        backoff_max=timings.backoff_max,
        partner_access=partner_access,
        teardown=teardown,
    )
    decisions = CaseDecisions(store=cases, workflow=workflow, audit=audit, clock=clock, notifications=notifications)
    removal = RemovalServices(
        client=client,
        store=cases,
        workflow=workflow,
        decisions=decisions,
        audit=audit,
        clock=clock,
        installations=installations,
        messages=messages,
        access=access or AccessPolicy(),
        partner_access=partner_access,
    )
    waiting = WaitingCases(
        store=cases,
        workflow=workflow,
        leases=leases,
        notifications=notifications,
        clock=clock,
        reminder_days=timings.reminder_days,
        decision_reminder_hours=timings.decision_reminder_hours,
        escalation_hours=timings.escalation_hours,
    )
    # Dialog state goes through the same document store, every turn.
    state = ConversationState(DocumentStateStorage(documents))
    bot = OffboardBot(conversation_state=state, services=removal, access=access, installations=installations, messages=messages)
    return Services(
        cases=cases,
        audit=audit,
        leases=leases,
        notifications=notifications,
        workflow=workflow,
        decisions=decisions,
        removal=removal,
        waiting=waiting,
        bot=bot,
        messages=messages,
    )
