"""The Teams edge: turns activities into dialog turns, and card clicks into dialog input.

- Messages: the @mention is stripped, then the main dialog reads the command.
- Card clicks, as Action.Execute invokes (``adaptiveCard/action``) or Action.Submit messages,
  are parsed once (:func:`card_action_of`). Clicks on a case's cards (decide, approve all,
  confirm, cancel) change the stored case through :class:`CaseDecisions` and are answered with
  the case's current card; page buttons are answered from the store; only the customer choice
  goes to the waiting dialog.
- Every invoke gets a valid answer: the card a step chose, or the case's current card, or an
  ``application/vnd.microsoft.error`` for a malformed payload (in the clicker's language); an
  invoke other than a card click gets 501.
- Who may do what is decided before anything runs, for every command and every click, by
  :class:`removal.access.AccessPolicy` (:meth:`OffboardBot._refused`): the activity's tenant
  first (for every activity type), then the member's own tenant and role from Teams' roster,
  then the permission the command or click needs. A refusal is said in the person's language,
  audited, and changes nothing.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from http import HTTPStatus
from typing import Any

from botbuilder.core import ConversationState, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.dialogs import DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.schema.teams import TeamsChannelData
from botframework.connector import Channels
from msrest.exceptions import DeserializationError

import cards
from dialogs.card_prompt import refused_chooser, was_consumed
from dialogs.commands import parse_command
from dialogs.main_dialog import MainDialog
from dialogs.remove_dialog import RemovalServices, person_of
from dialogs.turn import CARD_ACTION, INVOKE_CARD, locale_of, post, show, tenant_ids

from removal import Decision, RemovalCase
from removal.access import AccessPolicy, Member, Permission, Refusal
from removal.decisions import Effect

from .installations import place_of
from .card_actions import ADAPTIVE_CARD_ACTION, CardAction, InvalidCardAction, card_action_of, card_reply, error_reply

__all__ = ("OffboardBot",)

_log = logging.getLogger(__name__)
_DECISIONS = frozenset({"decide", "approve_all", "confirm_removal"})
_CASE_CLICKS = _DECISIONS | {"cancel_case"}
# What each typed command and each button needs (commands not listed: VIEW).
_COMMAND_PERMISSIONS = {
    "remove": Permission.REQUEST, "plan": Permission.REQUEST, "history": Permission.REQUEST,
    "notify": Permission.REQUEST, "cancel": Permission.CANCEL,
}
_VERB_PERMISSIONS = {
    "plan_page": Permission.VIEW, "status_page": Permission.VIEW, "choose_customer": Permission.REQUEST,
    "decide": Permission.DECIDE, "approve_all": Permission.DECIDE, "confirm_removal": Permission.CONFIRM,
    "cancel_case": Permission.CANCEL,
}
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
_LEADING_MENTION = re.compile(r"^\s*(<at>[^<]*</at>\s*)+", re.IGNORECASE)
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)


class OffboardBot(TeamsActivityHandler):
    def __init__(
        self, *, conversation_state: ConversationState, services: RemovalServices, access: AccessPolicy | None = None
    ) -> None:
        self._access = access or AccessPolicy()
        self._conversation_state = conversation_state
        self._dialog_state = conversation_state.create_property("DialogState")
        self._services = services
        self._main = MainDialog(services)
        self._roster: OrderedDict[tuple[str, str], tuple[float, str, str]] = OrderedDict()

    async def on_turn(self, turn_context: TurnContext) -> None:
        if turn_context.activity.channel_data is None:  # other channels and tests send none; Teams' handlers need {}
            turn_context.activity.channel_data = {}
        if not _readable(turn_context.activity):
            _log.warning("ignored a %.40s activity that is not of Teams' shape", turn_context.activity.type)
            return
        if not await self._from_the_partner_tenant(turn_context):
            return
        installations = self._services.installations
        if installations is not None and turn_context.activity.type != ActivityTypes.installation_update:
            await installations.remember(turn_context)  # the latest serviceUrl of this place
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def _from_the_partner_tenant(self, turn_context: TurnContext) -> bool:
        """Activities of every type from the partner's tenant only: every tenant id the activity
        names (Teams writes it twice) must be the partner's. An installation or conversation
        update from another tenant writes nothing; only messages and clicks are answered."""
        activity = turn_context.activity
        refused = [tenant for tenant in tenant_ids(activity) or [""] if not self._access.tenant_allowed(tenant)]
        if not refused:
            return True
        await self._services.record(
            turn_context, "refused.tenant", result="refused",
            detail=f"{str(activity.type)[:32]} from tenant {refused[0][:64] or 'unknown'}",
        )
        if activity.type not in (ActivityTypes.message, ActivityTypes.invoke):
            return False
        message = cards.t(locale_of(turn_context), "access.tenant")
        if activity.type == ActivityTypes.invoke:
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=error_reply(403, "Forbidden", message))
            )
        else:
            await turn_context.send_activity(message)
        return False

    # ---- Messages ----

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        try:
            action = card_action_of(turn_context)
        except InvalidCardAction as error:
            _log.info("refused a card action: %s", error)
            await turn_context.send_activity(cards.t(locale_of(turn_context), "action.invalid"))
            return
        if action is None:
            turn_context.activity.text = _without_mentions_of_the_bot(turn_context.activity)
            command = parse_command(turn_context.activity.text)
            permission = _COMMAND_PERMISSIONS.get(command.name, Permission.VIEW)
            case = None
            if permission is Permission.CANCEL:
                case = await self._services.store.current_for(turn_context.activity.conversation.id)
            if await self._refused(turn_context, permission, case, what=f"command {command.name}"):
                return
            await self._run_dialog(turn_context, start_if_idle=True)
            return
        await self._on_card_action(turn_context, action)

    # ---- Invokes ----

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name != ADAPTIVE_CARD_ACTION:
            # The app declares no message extension, task module, tab, file consent or sign-in, so
            # Teams sends none of those invokes: 501, before botbuilder's handlers for them parse
            # (and fail on) a payload only a forger would send.
            return InvokeResponse(status=HTTPStatus.NOT_IMPLEMENTED)
        try:
            action = card_action_of(turn_context)
        except InvalidCardAction as error:
            _log.info("refused a card action: %s", error)
            return error_reply(400, "BadRequest", cards.t(locale_of(turn_context), "action.invalid"))
        assert action is not None
        await self._on_card_action(turn_context, action)
        card = turn_context.turn_state.get(INVOKE_CARD)
        if card is None:
            card = cards.error_card(
                cards.t(locale_of(turn_context), "action.stale.title"),
                cards.t(locale_of(turn_context), "action.stale.text"),
                locale=locale_of(turn_context),
            )
        return card_reply(card)

    # ---- Card actions ----

    async def _on_card_action(self, turn_context: TurnContext, action: CardAction) -> None:
        turn_context.turn_state[CARD_ACTION] = action
        case = await self._services.store.get(action.case_id) if action.case_id and action.verb in _CASE_CLICKS else None
        if await self._refused_click(turn_context, action, case):
            return
        if action.verb in ("plan_page", "status_page"):
            await self._show_page(turn_context, action)
            return
        if action.verb in _CASE_CLICKS:
            await self._on_case_click(turn_context, action, case)
            return
        await self._run_dialog(turn_context, start_if_idle=False)
        if (requester := refused_chooser(turn_context.turn_state)) is not None:
            await self._refuse(turn_context, Refusal.NOT_THE_REQUESTER, None, what=action.verb, requester=requester.name)
        elif not was_consumed(turn_context.turn_state):
            await self._answer_unexpected(turn_context, action)

    async def _on_case_click(self, turn_context: TurnContext, action: CardAction, case: RemovalCase | None) -> None:
        """Apply the click to the stored case (``case``: as read for the access check); answer
        with where the case now is (for a duplicate or late click too); start the work the click
        started, if it did."""
        decisions, person = self._services.decisions, person_of(turn_context)
        if action.verb == "decide":
            decision = Decision.APPROVED if action.decision == "approve" else Decision.SKIPPED
            member = await self._member(turn_context)
            applied = await decisions.decide(
                action.case_id, action.item_key, decision, by=person, proposal=action.proposal,
                may_approve=lambda case, item: self._access.decision_refusal(member, case, item, approve=True) is None,
            )
        elif action.verb == "approve_all":
            # Who clicked decides the filter, not the case's state: reading it again is not needed.
            only = self._access.approve_all_filter(person, case) if case is not None else None
            applied = await decisions.approve_all(action.case_id, by=person, only=only, pending=action.pending)
        elif action.verb == "confirm_removal":
            applied = await decisions.confirm_removal(action.case_id, by=person)
        else:
            applied = await decisions.cancel(action.case_id, by=person)
        if applied.case is None:
            await self._answer_unexpected(turn_context, action)
            return
        if action.verb == "cancel_case":
            if applied.effect is Effect.NOT_NOW:
                await turn_context.send_activity(
                    cards.t(locale_of(turn_context), "cancel.too_late", customer=cards.literal(applied.case.customer.name))
                )
            else:
                await self._detach(turn_context, applied.case.id)
        now, case = self._services.clock(), applied.case
        card = cards.case_card(case, now=now, locale=locale_of(turn_context))
        if case.plan_message_id and turn_context.activity.reply_to_id == case.plan_message_id:
            # A click on the plan itself ("Cancel this removal"). The workflow redraws the plan
            # message on every state change; another card answered there would race with that
            # redraw, and the loser would vanish. So the plan stays the plan, and the case's card
            # comes as a new message.
            await show(turn_context, cards.plan_card(case, now=now, locale=case.locale))
            message_id = await post(turn_context, card)
        else:
            message_id = await show(turn_context, card)
        if applied.starts_work:
            await decisions.begin(applied, message_id=message_id)

    async def _detach(self, turn_context: TurnContext, case_id: str) -> None:
        """A cancelled case is no longer the conversation's current one (typed status/cancel)."""
        conversation_id = turn_context.activity.conversation.id
        current = await self._services.store.current_for(conversation_id)
        if current is not None and current.id == case_id:
            await self._services.store.attach(conversation_id, None)

    # ---- Who may do what ----

    async def _refused_click(self, turn_context: TurnContext, action: CardAction, case: RemovalCase | None) -> bool:
        """A click the clicker may not make: said, audited, nothing changed (True)."""
        permission = _VERB_PERMISSIONS[action.verb]
        if action.verb == "decide" and case is not None and (item := case.item(action.item_key)) is not None:
            member = await self._member(turn_context)
            refusal = self._access.decision_refusal(member, case, item, approve=action.decision == "approve")
            return await self._refuse(turn_context, refusal, case, what=action.verb)
        if action.verb == "approve_all" and case is not None:
            member = await self._member(turn_context)
            refusal = self._access.refusal(member, permission, case)
            if refusal is None and self._access.approves_nothing(member.person, case):
                refusal = Refusal.FOUR_EYES  # every item left cannot be undone: a second approver's
            return await self._refuse(turn_context, refusal, case, what=action.verb)
        return await self._refused(turn_context, permission, case, what=action.verb)

    async def _refused(self, turn_context: TurnContext, permission: Permission, case: RemovalCase | None, *, what: str) -> bool:
        refusal = self._access.refusal(await self._member(turn_context), permission, case)
        return await self._refuse(turn_context, refusal, case, what=what)

    async def _refuse(
        self, turn_context: TurnContext, refusal: Refusal | None, case: RemovalCase | None, *, what: str, requester: str = ""
    ) -> bool:
        if refusal is None:
            return False
        person, locale = person_of(turn_context), locale_of(turn_context)
        await self._services.record(turn_context, refusal.value, case, result="refused", detail=what)
        customer = cards.literal(case.customer.name) if case is not None else ""
        key = _REFUSAL_TEXTS[refusal]
        if refusal is Refusal.FOUR_EYES and what != "confirm_removal":
            key = "access.four_eyes_item.text"  # an irreversible item, not the final removal
        text = cards.t(
            locale, key, person=cards.literal(person.name or person.id), customer=customer, requester=cards.literal(requester)
        )
        if turn_context.turn_state.get(CARD_ACTION) is not None:
            title = "access.not_approver.title" if refusal in (Refusal.NOT_APPROVER, Refusal.FOUR_EYES) else "access.refused.title"
            await show(turn_context, cards.error_card(cards.t(locale, title), text, locale=locale))
        else:
            await turn_context.send_activity(text)
        return True

    async def _member(self, turn_context: TurnContext) -> Member:
        """Who is acting: the person the authenticated activity names, with their role and own
        tenant from Teams' roster (kept a few minutes; "" when the roster cannot be read)."""
        person = person_of(turn_context)
        role, tenant = await self._roster_entry(turn_context, person.id)
        return Member(person=person, tenant_id=tenant, role=role)

    async def _roster_entry(self, turn_context: TurnContext, user_id: str) -> tuple[str, str]:
        key = (turn_context.activity.conversation.id.split(";", 1)[0], user_id)
        held = self._roster.get(key)
        if held is not None and time.monotonic() - held[0] < _ROSTER_SECONDS:
            return held[1], held[2]
        try:
            member = await TeamsInfo.get_member(turn_context, user_id)
        except Exception as error:  # no roster (not Teams, Teams unreachable): nothing to vouch with
            _log.info("could not read the roster entry of %.64s: %s", user_id, type(error).__name__)
            return "", ""
        role = str(getattr(member, "user_role", "") or "")
        tenant = str(getattr(member, "tenant_id", "") or "")
        self._roster[key] = (time.monotonic(), role, tenant)
        self._roster.move_to_end(key)
        while len(self._roster) > _ROSTER_ENTRIES:
            self._roster.popitem(last=False)
        return role, tenant

    async def _show_page(self, turn_context: TurnContext, action: CardAction) -> None:
        case = await self._services.store.get(action.case_id)
        locale, now = locale_of(turn_context), self._services.clock()
        if case is None:
            await self._answer_unexpected(turn_context, action)
            return
        if action.verb == "plan_page":
            card = cards.plan_card(case, page=action.page, now=now, locale=locale)
        else:
            card = cards.status_card(case, page=action.page, now=now, locale=locale)
        await show(turn_context, card)

    async def _answer_unexpected(self, turn_context: TurnContext, action: CardAction) -> None:
        """A click no step waits for: show where the case really is, change nothing."""
        locale = locale_of(turn_context)
        case = await self._services.store.get(action.case_id) if action.case_id else None
        if case is None:
            await show(turn_context, cards.error_card(
                cards.t(locale, "action.stale.title"), cards.t(locale, "action.stale.text"), locale=locale
            ))
            return
        await show(turn_context, cards.status_card(case, now=self._services.clock(), locale=locale))

    async def _run_dialog(self, turn_context: TurnContext, *, start_if_idle: bool) -> None:
        dialogs = DialogSet(self._dialog_state)
        dialogs.add(self._main)
        dialog_context = await dialogs.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty and start_if_idle:
            await dialog_context.begin_dialog(self._main.id)

    # ---- Members ----

    async def on_teams_members_added(self, teams_members_added: Any, team_info: Any, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_added):
            await show(turn_context, cards.help_card(locale=locale_of(turn_context)))

    async def on_members_added_activity(self, members_added: Any, turn_context: TurnContext) -> None:
        if turn_context.activity.channel_id != "msteams":
            await self.on_teams_members_added(members_added, None, turn_context)

    # ---- Installation (the places notifications can go) ----

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if self._services.installations is not None:
            await self._services.installations.remember(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget_this_place(turn_context)

    async def on_teams_members_removed(self, teams_members_removed: Any, team_info: Any, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_removed):
            await self._forget_this_place(turn_context)

    async def on_teams_team_deleted(self, team_info: Any, turn_context: TurnContext) -> None:
        await self._forget_this_place(turn_context)

    async def _forget_this_place(self, turn_context: TurnContext) -> None:
        if self._services.installations is not None:
            place = place_of(turn_context.activity)
            if place is not None:
                await self._services.installations.forget(place.key)

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type != ActivityTypes.invoke_response:
            _log.debug("ignored activity of type %s", turn_context.activity.type)


def _without_mentions_of_the_bot(activity: Activity) -> str:
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


def _readable(activity: Activity) -> bool:
    """Whether botbuilder's Teams handlers can read the activity (they fail on anything else):
    ``channelData`` of Teams' shape, and members added or removed that have ids."""
    members = (activity.members_added or []) + (activity.members_removed or [])
    if not all(member is not None and isinstance(member.id, str) for member in members):
        return False
    if activity.channel_id != Channels.ms_teams:
        return True
    try:
        return isinstance(activity.channel_data, dict) and TeamsChannelData().deserialize(activity.channel_data) is not None
    except DeserializationError:
        return False
