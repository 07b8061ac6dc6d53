"""The root dialog: the one conversation that needs state between turns.

``remove <customer>`` and ``plan <customer>`` (a dry run) start the remove-relationship dialog,
which waits across turns only when several customers match (the customer choice). Every other
command and every click on a case's cards is answered by the Teams edge without dialog state
(:mod:`dialogs.answers`, :mod:`bot.teams_bot`); the edge routes a command here only to start a
removal, and a click here only when it is a customer choice.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import ComponentDialog

from .remove_dialog import RemovalServices, RemoveRelationshipDialog

__all__ = ("MainDialog", "removal_options")


def removal_options(query: str, *, dry_run: bool) -> dict[str, Any]:
    """What :class:`MainDialog` begins with (kept as JSON in the dialog state)."""
    return {"query": query, "dry_run": dry_run}


class MainDialog(ComponentDialog):
    def __init__(self, services: RemovalServices) -> None:
        super().__init__(MainDialog.__name__)
        remove = RemoveRelationshipDialog(services)
        self.add_dialog(remove)
        self.initial_dialog_id = remove.id
