"""Removing a customer relationship, as a case: its data and rules (:mod:`.case`), where cases live
(:mod:`.store`, :mod:`.lease`), the work done in the background (:mod:`.workflow`,
:mod:`.executor`, :mod:`.scheduler`), what a click does (:mod:`.decisions`), who may do what
(:mod:`.access`) and the audit trail (:mod:`.audit`).

It says what happened to a case through ports the Teams edge implements (:mod:`.display`,
:mod:`.notifications`); it knows no cards and no botbuilder, so a port to the Microsoft 365
Agents SDK, or another way of showing a case, leaves this package alone. Only the case's values
are re-exported here: importing the package does not load the workflow.
"""

from __future__ import annotations

from .case import (
    CaseItem,
    CaseState,
    CaseTransfer,
    CaseTransferLine,
    CustomerRef,
    Decision,
    ErrorReason,
    InvalidTransition,
    ItemError,
    Outcome,
    Person,
    RemovalCase,
    SincePlan,
    TeardownTiming,
    TransferDecision,
    TransferOutcome,
)

__all__ = (
    "CaseItem",
    "CaseState",
    "CaseTransfer",
    "CaseTransferLine",
    "CustomerRef",
    "Decision",
    "ErrorReason",
    "InvalidTransition",
    "ItemError",
    "Outcome",
    "Person",
    "RemovalCase",
    "SincePlan",
    "TeardownTiming",
    "TransferDecision",
    "TransferOutcome",
)
