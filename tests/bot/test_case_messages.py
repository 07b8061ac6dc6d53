"""The Teams edge's record of which messages show a case: kept beside the case, read from an
older case document until first changed, and never overwritten by a step that was overtaken."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.case_messages import CaseMessageBook, CaseMessages
from removal import CaseState, Person, RemovalCase
from removal.decisions import Applied, Effect
from removal.store import CaseStore
from storage import MemoryStore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann Admin")


def _case(state: CaseState) -> RemovalCase:
    return RemovalCase(customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=NOW, state=state)


async def test_a_case_stored_with_its_message_ids_keeps_them_and_the_first_change_moves_them() -> None:
    documents = MemoryStore()
    case = await CaseStore(documents).create(_case(CaseState.EXECUTING))
    old = (await documents.read(f"cases/{case.id}")).document  # type: ignore[union-attr]
    await documents.write(f"cases/{case.id}", old | {"plan_message_id": "m-plan", "status_message_id": "m-status"})
    book = CaseMessageBook(documents)
    assert await book.get(case.id) == CaseMessages(plan="m-plan", status="m-status")
    await book.work_started(Applied(case, Effect.STARTS_EXECUTION), "m-clicked")
    assert (await documents.read(f"casemessages/{case.id}")).document["plan"] == "m-plan"  # type: ignore[index]
    assert await book.get(case.id) == CaseMessages(plan="m-plan", status="m-clicked")


async def test_a_step_is_noted_only_while_the_case_is_still_in_its_state() -> None:
    documents = MemoryStore()
    cases = CaseStore(documents)
    case = await cases.create(_case(CaseState.AWAITING_APPROVAL))
    book = CaseMessageBook(documents)
    await book.opened(case, plan="m-plan", step="m-first")
    await book.step_shown(case, "m-question", state_now=lambda: cases.state_of(case.id))
    # The question shows the case from now on (a pause or a progress updates it), as before the move.
    assert await book.get(case.id) == CaseMessages(plan="m-plan", status="m-question", question="m-question")

    def executing(current: RemovalCase) -> None:
        current.move_to(CaseState.EXECUTING, at=NOW)

    await cases.update(case.id, executing)  # a click moved it on meanwhile
    await book.step_shown(case, "m-late", state_now=lambda: cases.state_of(case.id))
    assert (await book.get(case.id)).question == "m-question"


async def test_the_ids_of_an_open_case_stored_by_an_older_version_survive_its_first_change() -> None:
    documents = MemoryStore()
    cases = CaseStore(documents)
    case = await cases.create(_case(CaseState.AWAITING_APPROVAL))
    old = (await documents.read(f"cases/{case.id}")).document  # type: ignore[union-attr]
    await documents.write(
        f"cases/{case.id}", old | {"plan_message_id": "m-plan", "status_message_id": "m-status", "final_message_id": "m-final"}
    )
    book = CaseMessageBook(documents)
    assert await book.carry_over(await cases.open_cases()) == 1  # at start-up, before any change

    def executing(current: RemovalCase) -> None:
        current.move_to(CaseState.EXECUTING, at=NOW)

    await cases.update(case.id, executing)  # the case model drops the old fields when it writes
    assert "plan_message_id" not in (await documents.read(f"cases/{case.id}")).document  # type: ignore[union-attr]
    assert await book.get(case.id) == CaseMessages(plan="m-plan", status="m-status", final="m-final")
    assert await book.carry_over(await cases.open_cases()) == 0  # never twice, never over a newer record
