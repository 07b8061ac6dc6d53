"""The bridge between card clicks and waterfall dialogs.

Waterfall prompts only look at message activities, so an Action.Execute click (an invoke) would
never advance them. :class:`CardActionPrompt` waits for the card action the Teams edge parsed
for this turn (Action.Execute invoke or Action.Submit message alike) and ends with it when its
verb is one the step expects and it belongs to the expected case; anything else leaves it
waiting (the edge answers such clicks with the case's current card).
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from .turn import CARD_ACTION

__all__ = ("CardActionPrompt", "expect")


def expect(*verbs: str, case_id: str = "") -> dict[str, Any]:
    """Options for :class:`CardActionPrompt`: the verbs to accept, for which case."""
    return {"verbs": list(verbs), "case_id": case_id}


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
        dialog_context.context.turn_state[_CONSUMED] = True
        return await dialog_context.end_dialog(action.model_dump())


_CONSUMED = "offboard.card_action_consumed"


def was_consumed(turn_state: dict[str, Any]) -> bool:
    """Whether a dialog took this turn's card action."""
    return bool(turn_state.get(_CONSUMED))
