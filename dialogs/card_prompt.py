"""The one prompt left: waiting for a click on the customer choice.

Waterfall prompts only look at message activities, so an Action.Execute click (an invoke) would
never advance them. :class:`CustomerChoicePrompt` waits for the :class:`~dialogs.turn.CustomerChoice`
the Teams edge read from this turn's click (Action.Execute invoke or Action.Submit message alike)
and ends with the chosen customer id. It says who may answer (``by``: the person who typed the
command) and among which customers (``among``): a click by anyone else is marked refused for the
edge to say so, and a customer that was not offered is not taken (the edge then answers the
click with where things stand).
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from removal import Person
from removal.access import same_person

from .turn import Turn

__all__ = ("CustomerChoicePrompt", "expect")


def expect(*, by: Person, among: list[str]) -> dict[str, Any]:
    """Options for :class:`CustomerChoicePrompt` (kept as JSON in the dialog state)."""
    return {"by": by.model_dump(), "among": list(among)}


class CustomerChoicePrompt(Dialog):
    async def begin_dialog(self, dialog_context: DialogContext, options: Any = None) -> DialogTurnResult:
        dialog_context.active_dialog.state["expect"] = options or {}
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        turn = Turn.of(dialog_context.context)
        choice = turn.choice
        wanted = dialog_context.active_dialog.state.get("expect", {})
        if choice is None:
            return Dialog.end_of_turn
        if wanted.get("among") is not None and choice.customer_id not in wanted["among"]:
            return Dialog.end_of_turn  # not one of the customers offered: a forged or foreign click
        if wanted.get("by"):
            waited_for = Person.model_validate(wanted["by"])
            if not same_person(turn.person, waited_for):
                choice.taken, choice.refused_for = True, waited_for
                return Dialog.end_of_turn  # still waiting for the person who asked
        choice.taken = True
        return await dialog_context.end_dialog({"customer_id": choice.customer_id})
