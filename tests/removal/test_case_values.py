"""The case's typed values and the paused row of its transitions; the domain knows no UI.

Cases stored by earlier versions must still load: with the Teams message ids they carried
(now the edge's own record, ``bot.case_messages``), and with reasons this version does not know.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from removal import CaseState, ErrorReason, ItemError, Person, RemovalCase, SincePlan
from removal.case import Pause

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann Admin")
REMOVAL = Path(__file__).parents[2] / "removal"


def _case(state: CaseState, **fields: object) -> RemovalCase:
    return RemovalCase(customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=NOW, state=state, **fields)


def test_a_case_stored_with_teams_message_ids_still_loads_without_them() -> None:
    stored = _case(CaseState.EXECUTING).model_dump(mode="json")
    stored |= {"plan_message_id": "m-plan", "status_message_id": "m-status", "final_message_id": ""}
    case = RemovalCase.model_validate(stored)
    assert case.state is CaseState.EXECUTING
    assert not {"plan_message_id", "status_message_id", "final_message_id"} & set(case.model_dump())


def test_reasons_and_changes_read_as_enums_and_an_unknown_reason_as_none() -> None:
    assert ItemError(description="x", reason="removal_unclear").reason is ErrorReason.REMOVAL_UNCLEAR
    assert ItemError(description="x", reason="written_by_a_newer_version").reason is ErrorReason.NONE
    assert ItemError(description="x").reason is ErrorReason.NONE and not ItemError(description="x").reason
    item = {"key": "k", "kind": "legacy_subscription", "action": "suspend", "item_id": "s-1", "name": "E3", "since_plan": "back"}
    assert _case(CaseState.AWAITING_APPROVAL, items=[item]).items[0].since_plan is SincePlan.BACK


@pytest.mark.parametrize(
    ("paused_in", "allowed"),
    [
        (CaseState.EXECUTING, {CaseState.EXECUTING, CaseState.CANCELLED, CaseState.FAILED}),
        # The removal's PATCH may have reached Partner Center: a paused removal is not cancelled.
        (CaseState.REMOVING, {CaseState.REMOVING, CaseState.FAILED}),
    ],
)
def test_a_paused_case_goes_back_or_where_both_rows_allow(paused_in: CaseState, allowed: set[CaseState]) -> None:
    error = ItemError(description="Partner Center is not answering", status=503)
    case = _case(CaseState.PAUSED, pause=Pause(since=NOW, resume_to=paused_in, error=error))
    assert {state for state in CaseState if state is not CaseState.PAUSED and case.may_move_to(state)} == allowed


def test_the_domain_imports_no_ui() -> None:
    """``removal`` says what happened through ports; cards, dialogs and the Teams edge are above it."""
    forbidden = {"cards", "bot", "dialogs", "botbuilder", "botframework", "msrest", "app"}
    found = []
    for module in sorted(REMOVAL.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{module.name}: {name}" for name in names if name.split(".")[0] in forbidden]
    assert not found
