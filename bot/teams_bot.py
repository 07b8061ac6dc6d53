"""The Teams edge: reads each activity once and routes it by table.

- Messages: the @mention is stripped, the text read as a command (:func:`dialogs.commands.parse_command`)
  and routed by name through :data:`_COMMANDS`; only ``remove`` and ``plan`` start the one dialog
  (:class:`dialogs.main_dialog.MainDialog`), the others are answered without dialog state.
- Card clicks, as Action.Execute invokes (``adaptiveCard/action``) or Action.Submit messages,
  are parsed once (:func:`bot.card_actions.card_action_of`) and routed by verb through
  :data:`_CLICKS`. Clicks on a case's cards (decide, approve all, confirm, cancel) change the
  stored case through :class:`CaseDecisions` and are answered with the case's current card (the
  plan's teardown timing switch, with the plan card);
  page buttons are answered from the store; only the customer choice goes to the waiting dialog.
  A click on a case never loads dialog state.
- Every invoke gets a valid answer: the card a step chose, or the case's current card, or an
  ``application/vnd.microsoft.error`` for a malformed payload (in the clicker's language); an
  invoke other than a card click gets 501.
- Who may do what is decided before anything runs, for every command and every click, by
  :class:`removal.access.AccessPolicy`: the activity's tenant first (for every activity type),
  then the member's own tenant and role from Teams' roster, then the permission the route
  declares next to its handler (:meth:`bot.routes.Routes.on`). A refusal is said in the
  person's language, audited, and changes nothing.
- The inbound activity is read, never changed: the dialogs get typed values (:class:`dialogs.turn.Turn`).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from botbuilder.core import ConversationState, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.dialogs import DialogSet
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.schema.teams import TeamsChannelData
from botframework.connector import Channels
from msrest.exceptions import DeserializationError

import cards
from cards import CardDecision, Verb
from dialogs.answers import answer_help, answer_history, answer_notify_here, answer_status, answer_too_long
from dialogs.commands import COMMAND_NAMES, Command, parse_command
from dialogs.main_dialog import MainDialog, removal_options
from dialogs.remove_dialog import RemovalServices
from dialogs.turn import CustomerChoice, Reply, Turn, post
from removal import CaseState, Decision, Person, RemovalCase
from removal.access import AccessPolicy, Member, Permission, Refusal
from removal.decisions import Applied, Effect
from removal.store import StoredCase

from .activity import conversation_reference, locale_of, person_of, tenant_ids, typed_text
from .card_actions import (
    ADAPTIVE_CARD_ACTION,
    AcceptTransfer,
    ApproveAll,
    CancelCase,
    ChooseCustomer,
    ChooseTeardownTiming,
    Click,
    ConfirmRemoval,
    Decide,
    InvalidCardAction,
    PlanPage,
    RejectTransfer,
    ShowTransfer,
    StatusPage,
    card_action_of,
    card_reply,
    error_reply,
)
from .case_messages import CaseMessageBook
from .installations import InstallationStore, place_of
from .routes import Routes

__all__ = ("OffboardBot",)

_log = logging.getLogger(__name__)
# A new removal may start over a case in these states; in the others, it is still in progress.
_REPLACEABLE = (CaseState.WAITING, CaseState.FAILED, CaseState.CANCELLED, CaseState.REMOVED)
# The message key that tells a person why they were refused.
_REFUSAL_TEXTS = {
    Refusal.TENANT: "access.tenant",
    Refusal.GUEST: "access.guest.text",
    Refusal.UNVERIFIED: "access.unverified.text",
    Refusal.NOT_REQUESTER: "access.not_requester.text",
    Refusal.NOT_APPROVER: "access.not_approver.text",
    Refusal.FOUR_EYES: "access.four_eyes.text",
    Refusal.NOT_CANCELLER: "access.not_canceller.text",
    Refusal.PROTECTED: "access.protected.text",
    Refusal.NOT_THE_REQUESTER: "access.not_the_requester.text",
}
# Teams' roster answer for a member (role, own tenant), kept this long: one roster read per
# person per few minutes, not per click; a guest removed from the team is refused soon after.
_ROSTER_SECONDS = 300.0
_ROSTER_ENTRIES = 2048

CommandHandler = Callable[["OffboardBot", TurnContext, Turn, Command, RemovalCase | None], Awaitable[None]]
# A click's handler gets the case as read for the access check, with its ETag: the decision
# starts from it instead of reading the case a second time.
ClickHandler = Callable[["OffboardBot", TurnContext, Any, StoredCase | None, Reply], Awaitable[None]]
# Typed commands by name (dialogs.commands), and card clicks by verb (cards.Verb); each handler
# is registered below, next to its definition, with what it needs.
_COMMANDS: Routes[str, CommandHandler] = Routes()
_CLICKS: Routes[Verb, ClickHandler] = Routes()


def _may_decide(access: AccessPolicy, member: Member, case: RemovalCase | None, click: Decide) -> Refusal | None:
    """Deciding an item: approver, and a second approver for an item that cannot be undone."""
    if case is not None and (item := case.item(click.item_key)) is not None:
        return access.decision_refusal(member, case, item, approve=click.decision is CardDecision.APPROVE)
    return access.refusal(member, Permission.DECIDE, case)


def _may_approve_all(access: AccessPolicy, member: Member, case: RemovalCase | None, click: ApproveAll) -> Refusal | None:
    refusal = access.refusal(member, Permission.DECIDE, case)
    if refusal is None and case is not None and access.approves_nothing(member.person, case):
        return Refusal.FOUR_EYES  # every item left cannot be undone: a second approver's
    return refusal


def _may_decide_transfer(
    access: AccessPolicy, member: Member, case: RemovalCase | None, click: AcceptTransfer | RejectTransfer
) -> Refusal | None:
    """Accepting or rejecting a transfer request: approver; accepting, a second approver."""
    return access.transfer_refusal(member, case, accept=click.verb is Verb.ACCEPT_TRANSFER)


class OffboardBot(TeamsActivityHandler):
    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        services: RemovalServices,
        access: AccessPolicy | None = None,
        installations: InstallationStore | None,
        messages: CaseMessageBook | None,
    ) -> None:
        """``installations`` and ``messages`` are the ones in ``services``, whole: the dialogs see
        only the part of them they use (dialogs.remove_dialog's Protocols)."""
        self._access = access or AccessPolicy()
        self._conversation_state = conversation_state
        self._services = services
        self._installations = installations
        self._messages = messages
        self._main = MainDialog(services)
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(self._main)
        self._roster: OrderedDict[tuple[str, str], tuple[float, str, str]] = OrderedDict()

    async def on_turn(self, turn_context: TurnContext) -> None:
        if not _readable(turn_context.activity):
            _log.warning("ignored a %.40s activity that is not of Teams' shape", turn_context.activity.type)
            return
        if not await self._from_the_partner_tenant(turn_context):
            return
        installations = self._installations
        if installations is not None and turn_context.activity.type != ActivityTypes.installation_update:
            await installations.remember(turn_context)  # the latest serviceUrl of this place
        await super().on_turn(turn_context)
        # Writes only when a dialog ran this turn (botbuilder saves what it loaded and changed).
        await self._conversation_state.save_changes(turn_context)

    async def _from_the_partner_tenant(self, turn_context: TurnContext) -> bool:
        """Activities of every type from the partner's tenant only: every tenant id the activity
        names (Teams writes it twice) must be the partner's. An installation or conversation
        update from another tenant writes nothing; only messages and clicks are answered."""
        activity = turn_context.activity
        refused = [tenant for tenant in tenant_ids(activity) or [""] if not self._access.tenant_allowed(tenant)]
        if not refused:
            return True
        # What the activity named, escaped where it is not text (a lone surrogate cannot be stored).
        detail = f"{str(activity.type)[:32]} from tenant {refused[0][:64] or 'unknown'}"
        await self._services.record(
            person_of(activity),
            "refused.tenant",
            result="refused",
            detail=detail.encode("utf-8", "backslashreplace").decode("utf-8"),
        )
        if activity.type not in (ActivityTypes.message, ActivityTypes.invoke):
            return False
        message = cards.t(locale_of(activity), "access.tenant")
        if activity.type == ActivityTypes.invoke:
            await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=error_reply(403, "Forbidden", message)))
        else:
            await turn_context.send_activity(message)
        return False

    # ---- Messages ----

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        try:
            click = card_action_of(turn_context.activity)
        except InvalidCardAction as error:
            _log.info("refused a card action: %s", error)
            await turn_context.send_activity(cards.t(locale_of(turn_context.activity), "action.invalid"))
            return
        if click is None:
            await self._on_command(turn_context, parse_command(typed_text(turn_context.activity)))
            return
        await self._on_click(turn_context, click, Reply(turn_context, in_place=False))

    # ---- Invokes ----

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name != ADAPTIVE_CARD_ACTION:
            # The app declares no message extension, task module, tab, file consent or sign-in, so
            # Teams sends none of those invokes: 501, before botbuilder's handlers for them parse
            # (and fail on) a payload only a forger would send.
            return InvokeResponse(status=HTTPStatus.NOT_IMPLEMENTED)
        locale = locale_of(turn_context.activity)
        try:
            click = card_action_of(turn_context.activity)
        except InvalidCardAction as error:
            _log.info("refused a card action: %s", error)
            return error_reply(400, "BadRequest", cards.t(locale, "action.invalid"))
        assert click is not None
        reply = Reply(turn_context, in_place=True)
        await self._on_click(turn_context, click, reply)
        if reply.card is None:
            return card_reply(_stale_card(locale))
        return card_reply(reply.card)

    # ---- Routing ----

    async def _on_command(self, turn_context: TurnContext, command: Command) -> None:
        route = _COMMANDS.route(command.name) or _COMMANDS.route("unknown")
        assert route is not None
        case = await self._services.store.current_for(turn_context.activity.conversation.id) if route.reads_case else None
        refusal = route.refusal(self._access, await self._member(turn_context), case, command)
        if await self._refuse(turn_context, refusal, case, what=f"command {command.name}", reply=None):
            return
        await route.handler(self, turn_context, self._turn(turn_context, Reply(turn_context, in_place=False)), command, case)

    async def _on_click(self, turn_context: TurnContext, click: Click, reply: Reply) -> None:
        route = _CLICKS.route(click.verb)
        assert route is not None  # every verb is routed (checked at import)
        stored = await self._services.store.read(click.case_id) if route.reads_case else None
        case = stored.case if stored is not None else None
        refusal = route.refusal(self._access, await self._member(turn_context), case, click)
        if await self._refuse(turn_context, refusal, case, what=click.verb.value, reply=reply):
            return
        await route.handler(self, turn_context, click, stored, reply)

    def _turn(self, turn_context: TurnContext, reply: Reply, choice: CustomerChoice | None = None) -> Turn:
        """The typed values the dialogs get, read from the activity once."""
        activity = turn_context.activity
        turn = Turn(
            person=person_of(activity),
            locale=locale_of(activity),
            conversation_id=activity.conversation.id,
            reference=conversation_reference(activity),
            reply=reply,
            choice=choice,
        )
        turn.hand_to(turn_context)
        return turn

    # ---- Commands ----

    @_COMMANDS.on("remove", needs=Permission.REQUEST)
    @_COMMANDS.on("plan", needs=Permission.REQUEST)
    async def _start_removal(self, turn_context: TurnContext, turn: Turn, command: Command, case: RemovalCase | None) -> None:
        """A new removal (or dry run) replaces a customer choice still waiting."""
        if command.name == "remove":
            current = await self._services.store.current_for(turn.conversation_id)
            if current is not None and current.state not in _REPLACEABLE:
                await turn_context.send_activity(cards.t(turn.locale, "remove.in_progress", customer=cards.literal(current.customer.name)))
                return
        dialog_context = await self._dialogs.create_context(turn_context)
        await dialog_context.cancel_all_dialogs()
        await dialog_context.begin_dialog(self._main.id, removal_options(command.argument, dry_run=command.name == "plan"))

    @_COMMANDS.on("cancel", needs=Permission.CANCEL, reads_case=True)
    async def _cancel_command(self, turn_context: TurnContext, turn: Turn, command: Command, case: RemovalCase | None) -> None:
        """``cancel``: the conversation's current case, and a customer choice still waiting."""
        if case is None or not case.is_open:  # the conversation's last case is over: nothing to cancel
            if case is not None:
                await self._services.store.attach(turn.conversation_id, None)
            await turn_context.send_activity(cards.t(turn.locale, "cancel.nothing"))
        else:
            applied = await self._cancel(turn_context, case.id, by=turn.person, locale=turn.locale)
            if applied.effect is not Effect.NOT_NOW:
                await turn.reply.show(cards.case_card(applied.case or case, now=self._services.clock(), locale=turn.locale))
        dialog_context = await self._dialogs.create_context(turn_context)
        if dialog_context.active_dialog is not None:
            await dialog_context.cancel_all_dialogs()

    # ---- Card clicks ----

    @_CLICKS.on(Verb.PLAN_PAGE, needs=Permission.VIEW)
    @_CLICKS.on(Verb.STATUS_PAGE, needs=Permission.VIEW)
    async def _show_page(self, turn_context: TurnContext, click: PlanPage | StatusPage, _: StoredCase | None, reply: Reply) -> None:
        case = await self._services.store.get(click.case_id)
        locale, now = locale_of(turn_context.activity), self._services.clock()
        if case is None:
            await self._answer_unexpected(turn_context, click.case_id, reply)
            return
        if click.verb is Verb.PLAN_PAGE:
            card = cards.plan_card(case, page=click.page, now=now, locale=locale)
        else:
            card = cards.status_card(case, page=click.page, now=now, locale=locale)
        await reply.show(card)

    @_CLICKS.on(Verb.CHOOSE_CUSTOMER, needs=Permission.REQUEST)
    async def _choose_customer(self, turn_context: TurnContext, click: ChooseCustomer, _: StoredCase | None, reply: Reply) -> None:
        """The one click a dialog waits for: the removal goes on with the chosen customer."""
        choice = CustomerChoice(click.customer_id)
        self._turn(turn_context, reply, choice)
        dialog_context = await self._dialogs.create_context(turn_context)
        await dialog_context.continue_dialog()
        if choice.refused_for is not None:
            await self._refuse(
                turn_context, Refusal.NOT_THE_REQUESTER, None, what=click.verb.value, reply=reply, requester=choice.refused_for.name
            )
        elif not choice.taken:
            await self._answer_unexpected(turn_context, "", reply)

    @_CLICKS.on(Verb.DECIDE, needs=_may_decide, reads_case=True)
    async def _decide(self, turn_context: TurnContext, click: Decide, stored: StoredCase | None, reply: Reply) -> None:
        member = await self._member(turn_context)
        decision = Decision.APPROVED if click.decision is CardDecision.APPROVE else Decision.SKIPPED
        applied = await self._services.decisions.decide(
            click.case_id,
            click.item_key,
            decision,
            by=member.person,
            proposal=click.proposal,
            may_approve=lambda case, item: self._access.decision_refusal(member, case, item, approve=True) is None,
            read=stored,
        )
        await self._answer_case(turn_context, click.case_id, applied, reply)

    @_CLICKS.on(Verb.APPROVE_ALL, needs=_may_approve_all, reads_case=True)
    async def _approve_all(self, turn_context: TurnContext, click: ApproveAll, stored: StoredCase | None, reply: Reply) -> None:
        person = person_of(turn_context.activity)
        # Who clicked decides the filter, not the case's state: reading it again is not needed.
        only = self._access.approve_all_filter(person, stored.case) if stored is not None else None
        applied = await self._services.decisions.approve_all(click.case_id, by=person, only=only, pending=click.pending, read=stored)
        await self._answer_case(turn_context, click.case_id, applied, reply)

    @_CLICKS.on(Verb.CONFIRM_REMOVAL, needs=Permission.CONFIRM, reads_case=True)
    async def _confirm_removal(self, turn_context: TurnContext, click: ConfirmRemoval, stored: StoredCase | None, reply: Reply) -> None:
        applied = await self._services.decisions.confirm_removal(click.case_id, by=person_of(turn_context.activity), read=stored)
        await self._answer_case(turn_context, click.case_id, applied, reply)

    @_CLICKS.on(Verb.CANCEL_CASE, needs=Permission.CANCEL, reads_case=True)
    async def _cancel_case(self, turn_context: TurnContext, click: CancelCase, stored: StoredCase | None, reply: Reply) -> None:
        activity = turn_context.activity
        applied = await self._cancel(turn_context, click.case_id, by=person_of(activity), locale=locale_of(activity), read=stored)
        # The plan card's one button besides its pages: this click may come from the plan message.
        await self._answer_case(turn_context, click.case_id, applied, reply, from_the_plan=True)

    @_CLICKS.on(Verb.TEARDOWN_TIMING, needs=Permission.DECIDE, reads_case=True)
    async def _choose_teardown_timing(
        self, turn_context: TurnContext, click: ChooseTeardownTiming, stored: StoredCase | None, reply: Reply
    ) -> None:
        """The plan card's switch: approved teardown items run before or after the relationship's
        removal. Answered with the plan card as it now reads (the timing in force, the button to
        switch it back), also for a late or duplicate click: the plan shows where the case is."""
        by = person_of(turn_context.activity)
        applied = await self._services.decisions.choose_teardown_timing(click.case_id, click.timing, by=by, read=stored)
        if applied.case is None:
            await self._answer_unexpected(turn_context, click.case_id, reply)
            return
        case = applied.case
        # In the case's language, as the workflow redraws the plan: the plan is one message for
        # the whole conversation, whoever clicked.
        await reply.show(cards.plan_card(case, now=self._services.clock(), locale=case.locale))

    @_CLICKS.on(Verb.SHOW_TRANSFER, needs=Permission.VIEW, reads_case=True)
    async def _show_transfer(self, turn_context: TurnContext, click: ShowTransfer, stored: StoredCase | None, reply: Reply) -> None:
        """A transfer request's confirmation card: what moves, to whom, what it clears."""
        case = stored.case if stored is not None else None
        await self._answer_transfer(turn_context, case, click.transfer_id, reply)

    @_CLICKS.on(Verb.ACCEPT_TRANSFER, needs=_may_decide_transfer, reads_case=True)
    @_CLICKS.on(Verb.REJECT_TRANSFER, needs=_may_decide_transfer, reads_case=True)
    async def _decide_transfer(
        self, turn_context: TurnContext, click: AcceptTransfer | RejectTransfer, stored: StoredCase | None, reply: Reply
    ) -> None:
        """Accept (all or some line items) or reject a transfer request. Answered with the
        transfer's card as it now reads (accepted, rejected, or no longer open: a late or
        duplicate click changes nothing and shows why); a transfer the case does not have (a
        forged or stale id) gets the stale card. The click whose decision was written starts
        sending it to Partner Center."""
        member = await self._member(turn_context)
        accept = isinstance(click, AcceptTransfer)
        decisions = self._services.decisions

        def may_decide(case: RemovalCase) -> bool:
            return self._access.transfer_refusal(member, case, accept=accept) is None

        if isinstance(click, AcceptTransfer):
            applied = await decisions.accept_transfer(
                click.case_id, click.transfer_id, click.line_items, by=member.person, lines=click.lines, may_decide=may_decide, read=stored
            )
        else:
            applied = await decisions.reject_transfer(
                click.case_id, click.transfer_id, by=member.person, may_decide=may_decide, read=stored
            )
        if applied.stale:
            # The card showed other line items (or quantities) than the request now has.
            await reply.show(_stale_card(locale_of(turn_context.activity)))
        else:
            await self._answer_transfer(turn_context, applied.case, click.transfer_id, reply)
        if applied.effect is Effect.STARTS_TRANSFER:
            await decisions.begin(applied)

    async def _answer_transfer(self, turn_context: TurnContext, case: RemovalCase | None, transfer_id: str, reply: Reply) -> None:
        locale = locale_of(turn_context.activity)
        if case is None or case.transfer(transfer_id) is None:
            await reply.show(_stale_card(locale))
            return
        await reply.show(cards.transfer_confirmation_card(case, transfer_id, now=self._services.clock(), locale=locale))

    async def _cancel(self, turn_context: TurnContext, case_id: str, *, by: Person, locale: str, read: StoredCase | None = None) -> Applied:
        """The one cancel, typed or clicked: end the case cleanly, or say it is too late (Partner
        Center changes already made stay). A cancelled case is no longer the conversation's current one."""
        applied = await self._services.decisions.cancel(case_id, by=by, read=read)
        if applied.case is not None and applied.effect is Effect.NOT_NOW:
            await turn_context.send_activity(cards.t(locale, "cancel.too_late", customer=cards.literal(applied.case.customer.name)))
            return applied
        conversation_id = turn_context.activity.conversation.id
        current = await self._services.store.current_for(conversation_id)
        if current is not None and current.id == case_id:
            await self._services.store.attach(conversation_id, None)
        return applied

    async def _answer_case(
        self, turn_context: TurnContext, case_id: str, applied: Applied, reply: Reply, *, from_the_plan: bool = False
    ) -> None:
        """Answer a click on a case with where the case now is (for a duplicate or late click
        too); start the work the click started, if it did. ``from_the_plan``: the click's verb is
        one the plan card offers (only then is it worth reading which message is the plan)."""
        if applied.case is None:
            await self._answer_unexpected(turn_context, case_id, reply)
            return
        now, case = self._services.clock(), applied.case
        card = cards.case_card(case, now=now, locale=locale_of(turn_context.activity))
        messages, clicked = self._messages, turn_context.activity.reply_to_id
        plan_message_id = (await messages.get(case.id)).plan if messages is not None and clicked and from_the_plan else ""
        if plan_message_id and clicked == plan_message_id:
            # A click on the plan itself ("Cancel this removal"). The workflow redraws the plan
            # message on every state change; another card answered there would race with that
            # redraw, and the loser would vanish. So the plan stays the plan, and the case's card
            # comes as a new message.
            await reply.show(cards.plan_card(case, now=now, locale=case.locale))
            message_id = await reply.post(card)
        else:
            message_id = await reply.show(card)
        if applied.starts_work:
            if messages is not None:  # the message that will show the work, before it starts
                await messages.work_started(applied, message_id)
            await self._services.decisions.begin(applied)

    async def _answer_unexpected(self, turn_context: TurnContext, case_id: str, reply: Reply) -> None:
        """A click no step waits for: show where the case really is, change nothing."""
        locale = locale_of(turn_context.activity)
        case = await self._services.store.get(case_id) if case_id else None
        if case is None:
            await reply.show(_stale_card(locale))
            return
        await reply.show(cards.status_card(case, now=self._services.clock(), locale=locale))

    # ---- Who may do what ----

    async def _refuse(
        self,
        turn_context: TurnContext,
        refusal: Refusal | None,
        case: RemovalCase | None,
        *,
        what: str,
        reply: Reply | None,
        requester: str = "",
    ) -> bool:
        """A refusal (None: none): said (as a card to a click, else as text), audited; True."""
        if refusal is None:
            return False
        activity = turn_context.activity
        person, locale = person_of(activity), locale_of(activity)
        await self._services.record(person, refusal.value, case, result="refused", detail=what)
        customer = cards.literal(case.customer.name) if case is not None else ""
        key = _REFUSAL_TEXTS[refusal]
        if refusal is Refusal.FOUR_EYES and what != Verb.CONFIRM_REMOVAL:
            key = "access.four_eyes_item.text"  # an irreversible item, not the final removal
        text = cards.t(locale, key, person=cards.literal(person.name or person.id), customer=customer, requester=cards.literal(requester))
        if reply is not None:
            title = "access.not_approver.title" if refusal in (Refusal.NOT_APPROVER, Refusal.FOUR_EYES) else "access.refused.title"
            await reply.show(cards.error_card(cards.t(locale, title), text, locale=locale))
        else:
            await turn_context.send_activity(text)
        return True

    async def _member(self, turn_context: TurnContext) -> Member:
        """Who is acting: the person the authenticated activity names, with their role and own
        tenant from Teams' roster (kept a few minutes; "" when the roster cannot be read)."""
        person = person_of(turn_context.activity)
        role, tenant = await self._roster_entry(turn_context, person.id)
        return Member(person=person, tenant_id=tenant, role=role)

    async def _roster_entry(self, turn_context: TurnContext, user_id: str) -> tuple[str, str]:
        key = (turn_context.activity.conversation.id.split(";", 1)[0], user_id)
        held = self._roster.get(key)
        if held is not None and time.monotonic() - held[0] < _ROSTER_SECONDS:
            return held[1], held[2]
        try:
            member = await TeamsInfo.get_member(turn_context, user_id)
        except Exception as error:  # noqa: BLE001 (no roster: not Teams, Teams unreachable; nothing to vouch with)
            _log.info("could not read the roster entry of %.64s: %s", user_id, type(error).__name__)
            return "", ""
        role = str(getattr(member, "user_role", "") or "")
        tenant = str(getattr(member, "tenant_id", "") or "")
        self._roster[key] = (time.monotonic(), role, tenant)
        self._roster.move_to_end(key)
        while len(self._roster) > _ROSTER_ENTRIES:
            self._roster.popitem(last=False)
        return role, tenant

    # ---- Members ----

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.channel_id == Channels.ms_teams and activity.channel_data is None:
            # Teams always sends channelData; botbuilder's Teams dispatch fails without it. Read
            # such an update (tests, a forger) as Teams' would be with no team named.
            if activity.members_added:
                await self.on_teams_members_added(activity.members_added, None, turn_context)
            elif activity.members_removed:
                await self.on_teams_members_removed(activity.members_removed, None, turn_context)
            return
        await super().on_conversation_update_activity(turn_context)

    async def on_teams_members_added(self, teams_members_added: Any, team_info: Any, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_added):
            await post(turn_context, cards.help_card(locale=locale_of(turn_context.activity)))

    async def on_members_added_activity(self, members_added: Any, turn_context: TurnContext) -> None:
        if turn_context.activity.channel_id != "msteams":
            await self.on_teams_members_added(members_added, None, turn_context)

    # ---- Installation (the places notifications can go) ----

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if self._installations is not None:
            await self._installations.remember(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget_this_place(turn_context)

    async def on_teams_members_removed(self, teams_members_removed: Any, team_info: Any, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_removed):
            await self._forget_this_place(turn_context)

    async def on_teams_team_deleted(self, team_info: Any, turn_context: TurnContext) -> None:
        await self._forget_this_place(turn_context)

    async def _forget_this_place(self, turn_context: TurnContext) -> None:
        if self._installations is not None:
            place = place_of(turn_context.activity)
            if place is not None:
                await self._installations.forget(place.key)

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type != ActivityTypes.invoke_response:
            _log.debug("ignored activity of type %s", turn_context.activity.type)


def _answering(answer: Callable[[TurnContext, Turn, RemovalServices, str], Awaitable[None]]) -> CommandHandler:
    """A command answered at once (dialogs.answers), as a route's handler."""

    async def handler(bot: OffboardBot, turn_context: TurnContext, turn: Turn, command: Command, case: RemovalCase | None) -> None:
        await answer(turn_context, turn, bot._services, command.argument)

    return handler


_COMMANDS.add("status", _answering(answer_status), needs=Permission.VIEW)
_COMMANDS.add("help", _answering(answer_help), needs=Permission.VIEW)
_COMMANDS.add("unknown", _answering(answer_help), needs=Permission.VIEW)
_COMMANDS.add("too_long", _answering(answer_too_long), needs=Permission.VIEW)
_COMMANDS.add("history", _answering(answer_history), needs=Permission.REQUEST)
_COMMANDS.add("notify", _answering(answer_notify_here), needs=Permission.REQUEST)
_COMMANDS.covering(COMMAND_NAMES)
_CLICKS.covering(Verb)


def _stale_card(locale: str) -> dict[str, Any]:
    return cards.error_card(cards.t(locale, "action.stale.title"), cards.t(locale, "action.stale.text"), locale=locale)


def _readable(activity: Activity) -> bool:
    """Whether botbuilder's Teams handlers can read the activity (they fail on anything else):
    ``channelData`` of Teams' shape (or none: see ``on_conversation_update_activity``), and
    members added or removed that have ids."""
    members = (activity.members_added or []) + (activity.members_removed or [])
    if not all(member is not None and isinstance(member.id, str) for member in members):
        return False
    if activity.channel_id != Channels.ms_teams or activity.channel_data is None:
        return True
    try:
        return isinstance(activity.channel_data, dict) and TeamsChannelData().deserialize(activity.channel_data) is not None
    except DeserializationError:
        return False
