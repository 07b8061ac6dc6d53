"""Cases in the document store: a SQLite file keeps them across a restart."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.models import Customer
from removal import CaseState, Decision, Person, RemovalCase
from removal.store import DocumentCaseStore
from storage import SqliteStore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def _case() -> RemovalCase:
    customer = Customer.model_validate({"id": "c-1", "companyProfile": {"companyName": "Contoso Ltd", "domain": "contoso.onmicrosoft.com"}})
    plan = RemovalPlan(customer, (Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, "s-1", "Office 365 E3", quantity=25),), NOW)
    case = RemovalCase.open(plan, requested_by=Person(id="29:ann", name="Ann"), at=NOW)
    case.decide("legacy_subscription:s-1", Decision.APPROVED, by=Person(id="29:bob", name="Bob"), at=NOW)
    return case


async def test_a_case_survives_closing_and_reopening_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "offboard.db"
    first = SqliteStore(path)
    cases = DocumentCaseStore(first)
    case = _case()
    await cases.save(case)
    await cases.attach("19:thread@thread.tacv2;messageid=1", case.id)
    await first.close()

    second = SqliteStore(path)
    reopened = DocumentCaseStore(second)
    found = await reopened.current_for("19:thread@thread.tacv2;messageid=1")
    assert found is not None and found.model_dump() == case.model_dump()
    assert found.items[0].decided_by.name == "Bob"
    assert await reopened.state_of(case.id) is CaseState.AWAITING_APPROVAL
    await reopened.attach("19:thread@thread.tacv2;messageid=1", None)
    assert await reopened.current_for("19:thread@thread.tacv2;messageid=1") is None
    await second.close()
