"""Every card function in every state worth drawing, for the tests that apply to all cards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import cards
from partner_center.access import (
    AccessInventory,
    AccessPart,
    ContactEntry,
    GdapEntry,
    GuestEntry,
    ServicePrincipalEntry,
    Unchecked,
    UncheckedReason,
)
from partner_center.errors import PartnerCenterError
from partner_center.graph_models import GdapStatus
from partner_center.token_health import Attempt, AttemptResult, TokenHealth, assess
from removal.case import CaseItem, CaseState, CustomerRef, Decision, ItemError, Outcome, RemovalCase, TransferOutcome

from .factories import (
    ANN,
    CONTOSO,
    NOW,
    azure_plan_item,
    azure_plan_suspend_item,
    decided,
    every_row,
    failed,
    legacy_item,
    make_case,
    make_large_case,
    make_removed_case,
    make_worked_case,
    nce_inside_item,
    nce_past_item,
    software_inside_item,
)
from .money_items import (
    accepted_transfer_case,
    make_large_money_case,
    make_money_case,
    money_inside_item,
    money_past_item,
    savings_plan_item,
    window_entries,
)
from .teardown_items import INVENTORY, UNREAD_APPS, access_case, app_item, gdap_item, guest_item, teardown_items

__all__ = ("ALL_CARDS", "CARD_FUNCTIONS")

Build = Callable[[], dict[str, Any]]

_MANY = [CustomerRef(id=f"id-{n}", name=f"Contoso {n}", domain=f"contoso{n}.onmicrosoft.com") for n in range(23)]


def _confirmations() -> dict[str, Build]:
    case = make_case()
    return {
        f"confirmation-{item.action.value}-{item.kind.value}": (lambda item=item: cards.confirmation_card(case, item, now=NOW))
        for item in case.to_decide
    }


def _decisions() -> dict[str, Build]:
    builds: dict[str, Build] = {}
    for decision in Decision:
        for item in (
            legacy_item(),
            nce_inside_item(),
            nce_past_item(),
            azure_plan_item(),
            azure_plan_suspend_item(),
            software_inside_item(),
        ):
            marked = item if decision is Decision.PENDING else decided(item, decision)
            builds[f"decision-{decision.value}-{item.action.value}-{item.kind.value}"] = lambda marked=marked: cards.decision_recorded_card(
                make_case([marked]), marked
            )
    return builds


def _teardown() -> dict[str, Build]:
    """The partner's access as teardown items (issue 19): the plan (both timings, a dry run, one
    page of a large tenant), each confirmation, the decision, the status, the result variants."""
    case = access_case()
    builds: dict[str, Build] = {
        "plan-teardown": lambda: cards.plan_card(access_case(), now=NOW),
        "plan-teardown-before": lambda: cards.plan_card(access_case(teardown_timing="before"), now=NOW, locale="fr-FR"),
        "plan-teardown-dry-run": lambda: cards.plan_card(access_case(), dry_run=True, now=NOW, locale="ru-RU"),
        "plan-teardown-large-first": lambda: cards.plan_card(_large_teardown(), now=NOW),
        "plan-teardown-large-last": lambda: cards.plan_card(_large_teardown(), page=99, now=NOW),
        "removing-teardown": lambda: cards.removing_card(access_case(state=CaseState.REMOVING, removed_at=NOW), locale="fr-FR"),
        "status-teardown": lambda: cards.status_card(_worked_teardown(CaseState.REMOVING), now=NOW),
        "result-teardown-remains": lambda: cards.result_card(_worked_teardown(CaseState.REMOVED)),
        "result-teardown-none-remains": lambda: cards.result_card(access_case([], blockers=[], state=CaseState.REMOVED)),
        "result-teardown-not-read": lambda: cards.result_card(access_case([], blockers=[], state=CaseState.REMOVED, inventory=None)),
        "final-teardown-after": lambda: cards.final_confirmation_card(
            access_case([decided(gdap_item(), Decision.APPROVED)], blockers=[], state=CaseState.READY)
        ),
        "notification-items-failed-teardown": lambda: cards.notification_card(
            "items_failed", _worked_teardown(CaseState.REMOVING), now=NOW, items=_worked_teardown(CaseState.REMOVING).failed
        ),
    }
    for item in case.to_decide:
        if item.kind.is_teardown:
            builds[f"confirmation-{item.action.value}-{item.item_id}"] = lambda item=item: cards.confirmation_card(case, item, now=NOW)
            builds[f"decision-approved-{item.action.value}-{item.item_id}"] = lambda item=item: cards.decision_recorded_card(
                case, decided(item, Decision.APPROVED)
            )
    return builds


def _large_teardown() -> RemovalCase:
    """A large tenant: a thousand blockers, five hundred guests, five hundred apps, GDAP."""
    guests = [guest_item(f"u-{n}", f"Partner engineer {n} " + "x" * 60 + f" (eng{n}@partner.example)") for n in range(500)]
    apps = [app_item().model_copy(update={"item_id": f"sp-{n}", "key": f"partner_app:sp-{n}"}) for n in range(500)]
    return make_large_case().model_copy(
        update={"items": [*make_large_case().items, *guests, *apps, gdap_item()], "partner_access": INVENTORY}
    )


def _worked_teardown(state: CaseState) -> RemovalCase:
    """After the removal: a guest skipped, an app failed (Graph refused), GDAP terminated, the rest
    not found any more; the apps part could not be read."""
    items = [item.model_copy(update={"cleared": True}) for item in teardown_items()]
    items[0] = decided(guest_item(), Decision.SKIPPED)
    items[3] = failed(app_item(), code="Authorization_RequestDenied", description="Insufficient privileges to complete the operation.")
    items[5] = decided(gdap_item(), Decision.APPROVED, outcome=Outcome.DONE)
    inventory = INVENTORY.model_copy(update={"unchecked": (UNREAD_APPS,)})
    return access_case(items, blockers=[], state=state, inventory=inventory)


def _money() -> dict[str, Build]:
    """Money on the decisions and transfers (issue 21): the must-show plan in three languages, a
    thousand priced items with a 25-line transfer (first and last page), the confirmations with
    their money, the transfer's confirmation (pending, accepted, completed, failed, expired), the
    window announcement."""
    case = make_money_case()
    builds: dict[str, Build] = {
        "plan-money": lambda: cards.plan_card(make_money_case(), now=NOW),
        "plan-money-fr": lambda: cards.plan_card(make_money_case(), now=NOW, locale="fr-FR"),
        "plan-money-ru": lambda: cards.plan_card(make_money_case(), now=NOW, locale="ru-RU"),
        "plan-money-dry-run": lambda: cards.plan_card(make_money_case(), dry_run=True, now=NOW),
        "plan-money-transfer-accepted": lambda: cards.plan_card(accepted_transfer_case(), now=NOW),
        "plan-money-1000-first": lambda: cards.plan_card(make_large_money_case(), now=NOW),
        "plan-money-1000-middle-ru": lambda: cards.plan_card(make_large_money_case(), page=24, now=NOW, locale="ru-RU"),
        "plan-money-1000-last-fr": lambda: cards.plan_card(make_large_money_case(), page=99, now=NOW, locale="fr-FR"),
        "plan-money-1000-nce-ru": lambda: cards.plan_card(make_large_money_case(nce_only=True), page=3, now=NOW, locale="ru-RU"),
        "plan-money-1000-nce-fr": lambda: cards.plan_card(make_large_money_case(nce_only=True), now=NOW, locale="fr-FR"),
        "transfer-pending": lambda: cards.transfer_confirmation_card(make_money_case(), "tr-0001", now=NOW),
        "transfer-pending-ru": lambda: cards.transfer_confirmation_card(make_money_case(), "tr-0001", now=NOW, locale="ru-RU"),
        "transfer-accepted": lambda: cards.transfer_confirmation_card(accepted_transfer_case(), "tr-0001", now=NOW, locale="fr-FR"),
        "transfer-completed": lambda: cards.transfer_confirmation_card(
            accepted_transfer_case(TransferOutcome.COMPLETED), "tr-0001", now=NOW
        ),
        "transfer-failed": lambda: cards.transfer_confirmation_card(_failed_transfer(), "tr-0001", now=NOW),
        "transfer-expired": lambda: cards.transfer_confirmation_card(
            make_money_case(transfer={"status": "Expired", "expires_at": NOW - timedelta(days=1)}), "tr-0001", now=NOW
        ),
        "transfer-large": lambda: cards.transfer_confirmation_card(make_large_money_case(), "tr-large", now=NOW, locale="ru-RU"),
        "window-closing": lambda: cards.window_closing_card(case, window_entries(case), now=NOW),
        "window-closing-fr": lambda: cards.window_closing_card(case, window_entries(case), now=NOW, locale="fr-FR"),
        "window-closing-large": lambda: cards.window_closing_card(
            make_large_money_case(), window_entries(make_large_money_case()), now=NOW, locale="ru-RU"
        ),
    }
    for item in case.to_decide:
        builds[f"confirmation-money-{item.kind.value}"] = lambda item=item: cards.confirmation_card(case, item, now=NOW, locale="fr-FR")
    for item in (money_inside_item(), money_past_item(), savings_plan_item()):
        builds[f"decision-approved-money-{item.kind.value}"] = lambda item=item: cards.decision_recorded_card(
            make_case([decided(item, Decision.APPROVED)]), decided(item, Decision.APPROVED)
        )
    return builds


def _failed_transfer() -> RemovalCase:
    case = accepted_transfer_case(TransferOutcome.FAILED)
    [transfer] = case.transfers
    error = ItemError(description="The subscription is not eligible for transfer.", code="800092", correlation_id="c-5")
    transfer.error = error
    transfer.line_items[0].error = error
    transfer.status = "Completed"
    return case


def _statuses() -> dict[str, Build]:
    builds: dict[str, Build] = {}
    for state in CaseState:
        builds[f"status-{state.value}"] = lambda state=state: cards.status_card(make_worked_case(state), now=NOW)
    builds["status-empty"] = lambda: cards.status_card(make_case([]), now=NOW)
    builds["status-case-error"] = lambda: cards.status_card(
        make_case(state=CaseState.FAILED, error={"description": "Removal refused", "code": "800002", "correlation_id": "c-1"}), now=NOW
    )
    return builds


_HISTORY = [
    {"at": "2026-11-21T12:00:00+00:00", "action": "removal.requested", "actor": "Ann Admin (a1)", "detail": "5 blocker(s)"},
    {"at": "2026-11-21T12:01:00+00:00", "action": "item.done", "actor": "offboard", "item": "suspend Office 365 E3 (s-1)"},
    {
        "at": "2026-11-21T12:02:00+00:00",
        "action": "item.failed",
        "actor": "offboard",
        "item": "cancel_order Windows (o-1)",
        "detail": "Injected fault",
        "correlation_id": "corr-1",
    },
]


def _with_access(case: RemovalCase, inventory: AccessInventory) -> RemovalCase:
    return case.model_copy(update={"partner_access": inventory})


def _inventory(*, many: int = 0) -> AccessInventory:
    """Everything found: GDAP (auto-extending, Microsoft's, pending), DAP, guests, contacts, apps;
    ``many``: that many guests and apps (a large tenant), with long names."""
    count = many or 2
    return AccessInventory(
        read_at=NOW,
        gdap=(
            GdapEntry(
                id="g-1", name="Contoso support", status=GdapStatus.ACTIVE, raw_status="active", roles=4, ends_at=NOW, auto_extends=True
            ),
            GdapEntry(id="g-2", name="MLT_0f1e2d3c", status=GdapStatus.ACTIVE, raw_status="active", roles=8, microsoft_default=True),
            GdapEntry(id="g-3", name="New *request*", status=GdapStatus.APPROVAL_PENDING, raw_status="approvalPending", auto_extends=False),
        ),
        dap=True,
        guests=tuple(
            GuestEntry(id=f"u-{n}", name=f"Partner engineer {n} " + "x" * 40, address=f"eng{n}@partner.example") for n in range(count)
        ),
        contacts=(
            ContactEntry(where="technicalNotificationMails", addresses=("it@partner.example",)),
            ContactEntry(where="securityComplianceNotificationMails", addresses=("soc@partner.example", "it@partner.example")),
            ContactEntry(where="marketingNotificationEmails", addresses=("news@partner.example",)),
            ContactEntry(where="privacyProfile.contactEmail", addresses=("privacy@partner.example",)),
        ),
        service_principals=tuple(ServicePrincipalEntry(id=f"sp-{n}", app_id=f"app-{n}", name=f"Partner tool {n}") for n in range(count)),
    )


_UNREADABLE = AccessInventory(
    read_at=NOW,
    dap=False,
    unchecked=(
        Unchecked(part=AccessPart.GDAP, reason=UncheckedReason.NEEDS, needs="DelegatedAdminRelationship.Read.All and the Admin agent role"),
        Unchecked(part=AccessPart.GUESTS, reason=UncheckedReason.NO_GDAP),
        Unchecked(part=AccessPart.CONTACTS, reason=UncheckedReason.NO_GDAP),
        Unchecked(part=AccessPart.SERVICE_PRINCIPALS, reason=UncheckedReason.UNAVAILABLE),
    ),
)
_NOTHING = AccessInventory(read_at=NOW, dap=False)

ALL_CARDS: dict[str, Build] = {
    "choice-several": lambda: cards.customer_choice_card("Contoso", _MANY[:3]),
    "choice-more-than-ten": lambda: cards.customer_choice_card("Contoso", _MANY),
    "choice-no-domain": lambda: cards.customer_choice_card("Fab", [CustomerRef(id="x", name="Fabrikam"), CONTOSO]),
    "choice-none": lambda: cards.customer_choice_card("Nobody", []),
    "plan-every-kind": lambda: cards.plan_card(make_case(), now=NOW),
    "plan-dry-run": lambda: cards.plan_card(make_case(), dry_run=True, now=NOW),
    "plan-nothing-blocks": lambda: cards.plan_card(make_case([]), now=NOW),
    "plan-nothing-blocks-dry-run": lambda: cards.plan_card(make_case([]), dry_run=True, now=NOW),
    "plan-worked": lambda: cards.plan_card(make_worked_case(), now=NOW),
    "plan-1000-first": lambda: cards.plan_card(make_large_case(), now=NOW),
    "plan-1000-middle": lambda: cards.plan_card(make_large_case(), page=24, now=NOW),
    "plan-1000-last": lambda: cards.plan_card(make_large_case(), page=49, now=NOW),
    "plan-cancelled": lambda: cards.plan_card(make_case(state=CaseState.CANCELLED), now=NOW),
    "plan-partner-access": lambda: cards.plan_card(_with_access(make_case(), _inventory()), now=NOW),
    "plan-partner-access-dry-run": lambda: cards.plan_card(_with_access(make_case(), _inventory()), dry_run=True, now=NOW),
    "plan-partner-access-unreadable": lambda: cards.plan_card(_with_access(make_case(), _UNREADABLE), dry_run=True, now=NOW),
    "plan-partner-access-none": lambda: cards.plan_card(_with_access(make_case([]), _NOTHING), dry_run=True, now=NOW),
    "plan-partner-access-large": lambda: cards.plan_card(_with_access(make_large_case(), _inventory(many=500)), now=NOW),
    **_confirmations(),
    **_decisions(),
    **_teardown(),
    **_money(),
    **_statuses(),
    "status-1000": lambda: cards.status_card(make_large_case(worked=True), now=NOW),
    "status-1000-last": lambda: cards.status_card(make_large_case(worked=True), page=49, now=NOW),
    "final": lambda: cards.final_confirmation_card(
        make_case([decided(legacy_item(), Decision.APPROVED, outcome=Outcome.DONE)], state=CaseState.READY)
    ),
    "still-blocked-every-reason": lambda: cards.still_blocked_card(make_worked_case(CaseState.WAITING), now=NOW),
    "still-blocked-every-row": lambda: cards.still_blocked_card(make_case(every_row(), state=CaseState.WAITING), now=NOW),
    "still-blocked-nothing": lambda: cards.still_blocked_card(make_case([]), now=NOW),
    "still-blocked-1000": lambda: cards.still_blocked_card(make_large_case(worked=True), now=NOW),
    "cancelled-nothing-done": lambda: cards.cancelled_card(make_case(state=CaseState.CANCELLED)),
    "cancelled-after-work": lambda: cards.cancelled_card(make_worked_case(CaseState.CANCELLED)),
    "cancelled-1000": lambda: cards.cancelled_card(make_large_case(worked=True)),
    "removing": lambda: cards.removing_card(make_case(state=CaseState.REMOVING, approved_by=ANN)),
    "removing-no-approver": lambda: cards.removing_card(make_case(state=CaseState.REMOVING)),
    "result": lambda: cards.result_card(make_removed_case()),
    "result-without-link": lambda: cards.result_card(make_removed_case(url="")),
    "error": lambda: cards.error_card(
        "Could not suspend Office 365 E3",
        "Partner Center said the subscription changed.",
        code="2055",
        correlation_id="c-1",
        request_id="r-1",
    ),
    "error-plain": lambda: cards.error_card("No customer found", "Nothing matches “Contso”."),
    "help": lambda: cards.help_card(),
    "partner": lambda: cards.partner_center_error_card(
        PartnerCenterError(
            "You have passed your 7-day cancellation window.", status=400, code="900117", correlation_id="c-2", request_id="r-2"
        )
    ),
    "history": lambda: cards.history_card("Contoso Ltd", _HISTORY),
    "history-long": lambda: cards.history_card("Contoso Ltd", _HISTORY * 20),
    "history-empty": lambda: cards.history_card("Contoso Ltd", []),
    **{f"case-{state.value}": (lambda state=state: cards.case_card(make_worked_case(state), now=NOW)) for state in CaseState},
    "case-removed-with-link": lambda: cards.case_card(make_removed_case(), now=NOW),
    **{
        f"notification-{kind}": (lambda kind=kind: cards.notification_card(kind, make_worked_case(CaseState.WAITING), now=NOW))
        for kind in ("removed", "failed", "ready")
    },
    "notification-reminder": lambda: cards.notification_card(
        "reminder", make_worked_case(CaseState.WAITING), now=NOW, items=make_worked_case().still_blocking[:3]
    ),
    "notification-failed-with-error": lambda: cards.notification_card(
        "failed",
        make_case(state=CaseState.FAILED, error={"description": "Removal refused", "code": "800002", "correlation_id": "c-1"}),
        now=NOW,
    ),
    "paused-executing": lambda: cards.paused_card(_paused(CaseState.EXECUTING), now=NOW),
    "paused-removing": lambda: cards.paused_card(_paused(CaseState.REMOVING), now=NOW, locale="fr-FR"),
    "paused-no-details": lambda: cards.paused_card(make_worked_case(CaseState.PAUSED), now=NOW, locale="ru-RU"),
    "resumed": lambda: cards.resumed_card(make_worked_case(CaseState.EXECUTING)),
    "still-blocked-changed": lambda: cards.still_blocked_card(_changed(), now=NOW, changed=True),
    "status-gave-up": lambda: cards.status_card(make_case([_gave_up()], state=CaseState.WAITING), now=NOW),
    "notification-external": lambda: cards.external_notification_card("Ticket 4711", "Approved.", "https://tickets.example.com/4711"),
    "notification-external-plain": lambda: cards.external_notification_card("Relationship re-established", "", from_elsewhere=False),
    "token-expiring": lambda: cards.token_health_card(_token(80, AttemptResult.UNREACHABLE), now=NOW + timedelta(days=80), check_days=7),
    "token-expired": lambda: cards.token_health_card(
        _token(91, AttemptResult.REFUSED, 700082), now=NOW + timedelta(days=91), check_days=7, locale="fr-FR"
    ),
    "token-revoked": lambda: cards.token_health_card(
        _token(8, AttemptResult.REFUSED, 50173), now=NOW + timedelta(days=8), check_days=7, locale="ru-RU"
    ),
}


def _token(days: int, result: AttemptResult, code: int = 0) -> TokenHealth:
    """The Partner Center sign-in's health ``days`` after its last use, the latest attempt ``result``."""
    at = NOW + timedelta(days=days)
    return assess(has_user_credential=True, last_redeemed_at=NOW, now=at, latest=Attempt(result, at, code))


def _paused(resume_to: CaseState) -> RemovalCase:
    """A case paused while executing or removing, with the last call's ids."""
    case = make_worked_case(CaseState.EXECUTING if resume_to is CaseState.EXECUTING else CaseState.READY)
    if resume_to is CaseState.REMOVING:
        case.move_to(CaseState.REMOVING)
    error = ItemError(description="Partner Center did not answer: ServerDisconnectedError", correlation_id="c-9", request_id="r-9")
    case.pause_for(error, at=NOW)
    return case


def _changed() -> RemovalCase:
    """Partner Center changed after the final confirmation: one reactivated, one bought since."""
    back = legacy_item("legacy-back", "Office 365 E3").model_copy(update={"since_plan": "back"})
    new = nce_inside_item("nce-new").model_copy(update={"since_plan": "new"})
    done = decided(legacy_item("legacy-done", "Office 365 E1"), Decision.APPROVED, outcome=Outcome.DONE).model_copy(
        update={"cleared": True}
    )
    return make_case([back, new, done], state=CaseState.AWAITING_APPROVAL)


def _gave_up() -> CaseItem:
    """An item Partner Center failed on, run after run: the bot's reason comes first."""
    error = ItemError(description="Injected fault", code="800003", status=503, correlation_id="c-7", reason="unavailable_repeatedly")
    return decided(legacy_item(), Decision.APPROVED, outcome=Outcome.FAILED).model_copy(update={"error": error})


# Every card function of the package, to check the catalogue misses none.
CARD_FUNCTIONS = (
    "cancelled_card",
    "case_card",
    "confirmation_card",
    "customer_choice_card",
    "decision_recorded_card",
    "error_card",
    "external_notification_card",
    "notification_card",
    "final_confirmation_card",
    "help_card",
    "history_card",
    "partner_center_error_card",
    "paused_card",
    "plan_card",
    "removing_card",
    "result_card",
    "resumed_card",
    "status_card",
    "still_blocked_card",
    "token_health_card",
    "transfer_confirmation_card",
    "window_closing_card",
)
