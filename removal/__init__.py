"""The removal case: its data and rules, shared by the dialogs, the cards and the executor.

No botbuilder here: a port to the Microsoft 365 Agents SDK leaves this package alone.
"""

from __future__ import annotations

from .case import CaseItem, CaseState, CustomerRef, Decision, InvalidTransition, ItemError, Outcome, Person, RemovalCase

__all__ = (
    "CaseItem",
    "CaseState",
    "CustomerRef",
    "Decision",
    "InvalidTransition",
    "ItemError",
    "Outcome",
    "Person",
    "RemovalCase",
)
