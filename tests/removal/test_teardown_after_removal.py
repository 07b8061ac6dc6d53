"""After the removal: DAP went with the relationship (nothing sent to Partner Center for it), a
pause says which service it waits for (stored cases from before read as Partner Center), and a
Graph refusal names what was missing on the failed item."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from partner_center.access import PartnerIdentity
from partner_center.blockers import Action, Blocker, BlockerKind
from partner_center.errors import GraphPermissionError, UnavailableError
from partner_center.teardown import DAP_ENDED_BY_REMOVAL, Service, Teardown, service_of
from removal import CaseState
from removal.case import ItemError, Pause

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_DAP = Blocker(BlockerKind.DAP, Action.REMOVE_DAP, item_id="c-1", name="DAP", blocks_removal=False)


class _NoCalls:
    """A Partner Center client that must not be called."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Partner Center called: {name}")


async def test_dap_after_the_removal_is_ended_by_it_and_nothing_is_sent() -> None:
    teardown = Teardown(graph=None, partner_center=_NoCalls(), partner=PartnerIdentity())  # type: ignore[arg-type]
    detail = await teardown.carry_out("c-1", _DAP, relationship_removed=True)
    assert detail == DAP_ENDED_BY_REMOVAL
    assert "ended by the removal" in detail and "remove-a-relationship" in detail and "no PATCH" in detail


async def test_dap_before_the_removal_is_still_removed_through_partner_center() -> None:
    teardown = Teardown(graph=None, partner_center=_NoCalls(), partner=PartnerIdentity())  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="remove_dap"):
        await teardown.carry_out("c-1", _DAP)


def test_each_teardown_action_names_its_service() -> None:
    assert service_of(Action.REMOVE_DAP) is Service.PARTNER_CENTER
    for action in (
        Action.DELETE_GUEST,
        Action.CLEAR_CONTACTS,
        Action.DELETE_SERVICE_PRINCIPAL,
        Action.TERMINATE_GDAP,
        Action.DELETE_GDAP_REQUEST,
    ):
        assert service_of(action) is Service.GRAPH
    assert service_of(Action.SUSPEND) is Service.PARTNER_CENTER


def _pause(**extra: Any) -> dict[str, Any]:
    return {"since": NOW.isoformat(), "resume_to": "removing", "error": {"description": "Graph did not answer"}, **extra}


def test_a_pause_keeps_its_service_and_older_or_unknown_ones_read_as_partner_center() -> None:
    graph = Pause.model_validate(_pause(service="graph"))
    assert graph.service is Service.GRAPH and graph.resume_to is CaseState.REMOVING
    assert Pause.model_validate(graph.model_dump(mode="json")).service is Service.GRAPH
    assert Pause.model_validate(_pause()).service is Service.PARTNER_CENTER  # stored before it was kept
    assert Pause.model_validate(_pause(service="exchange")).service is Service.PARTNER_CENTER  # a newer version's


def test_a_graph_refusal_names_what_was_missing_on_the_item_error() -> None:
    refused = GraphPermissionError("Insufficient privileges", status=403, code="Authorization_RequestDenied", needs="User.ReadWrite.All")
    error = ItemError.from_error(refused)
    assert error.needs == "User.ReadWrite.All" and error.status == 403
    assert ItemError.from_error(UnavailableError("no answer", status=503)).needs == ""
    assert ItemError.model_validate({"description": "stored before"}).needs == ""
