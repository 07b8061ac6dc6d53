"""The bridge between card clicks and waterfall dialogs.

Waterfall prompts only look at message activities, so an Action.Execute click (an invoke) would
never advance them. :class:`CardActionPrompt` waits for the card action the Teams edge parsed
for this turn (Action.Execute invoke or Action.Submit message alike) and ends with it when its
verb is one the step expects and it belongs to the expected case; anything else leaves it
waiting (the edge answers such clicks with the case's current card).

A prompt can also say who may answer it (``by``: the person who typed the command) and which
customers it offered (``among``): a click by anyone else is reported to the edge as refused
(:func:`refused_chooser`), and a customer that was not offered is not taken.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from removal import Person
from removal.access import same_person

from .turn import CARD_ACTION

__all__ = ("CardActionPrompt", "expect", "refused_chooser")

_REFUSED_CHOOSER = "offboard.refused_chooser"


def expect(*verbs: str, case_id: str = "", by: Person | None = None, among: list[str] | None = None) -> dict[str, Any]:
    """Options for :class:`CardActionPrompt`: the verbs to accept, for which case, from whom,
    choosing among which customers."""
    return {
        "verbs": list(verbs), "case_id": case_id,
        "by": by.model_dump() if by is not None else None, "among": list(among) if among is not None else None,
    }


def refused_chooser(turn_state: dict[str, Any]) -> Person | None:
    """The person the prompt waits for, when this turn's click came from someone else."""
    return turn_state.get(_REFUSED_CHOOSER)


class CardActionPrompt(Dialog):
    async def begin_dialog(self, dialog_context: DialogContext, options: Any = None) -> DialogTurnResult:
        dialog_context.active_dialog.state["expect"] = options or expect()
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        action = dialog_context.context.turn_state.get(CARD_ACTION)
        wanted = dialog_context.active_dialog.state.get("expect", {})
        if action is None or action.verb not in wanted.get("verbs", []):
            return Dialog.end_of_turn
        if wanted.get("case_id") and action.case_id != wanted["case_id"]:
            return Dialog.end_of_turn
        if wanted.get("among") is not None and action.customer_id not in wanted["among"]:
            return Dialog.end_of_turn  # not one of the customers offered: a forged or foreign click
        if wanted.get("by"):
            waited_for = Person.model_validate(wanted["by"])
            sender = dialog_context.context.activity.from_property
            clicker = Person(id=sender.id or "", aad_object_id=sender.aad_object_id or "") if sender else Person(id="")
            if not same_person(clicker, waited_for):
                dialog_context.context.turn_state[_CONSUMED] = True
                dialog_context.context.turn_state[_REFUSED_CHOOSER] = waited_for
                return Dialog.end_of_turn  # still waiting for the person who asked
        dialog_context.context.turn_state[_CONSUMED] = True
        return await dialog_context.end_dialog(action.model_dump())


_CONSUMED = "offboard.card_action_consumed"


def was_consumed(turn_state: dict[str, Any]) -> bool:
    """Whether a dialog took this turn's card action."""
    return bool(turn_state.get(_CONSUMED))
