"""Conversation and dialog state as plain JSON with ETags (no jsonpickle)."""

from __future__ import annotations

import json

import pytest
from botbuilder.dialogs import DialogInstance, DialogState

from bot.state_storage import DocumentStateStorage
from storage import MemoryStore, PreconditionFailed


async def test_dialog_state_round_trips_as_plain_json() -> None:
    store = MemoryStore()
    state = DocumentStateStorage(store)
    inner = DialogState([DialogInstance(id="decide", state={"options": {"case_id": "c1"}, "stepIndex": 1})])
    stack = DialogState([DialogInstance(id="MainDialog", state={"dialogs": inner})])
    await state.write({"msteams/conversations/19:a@thread.tacv2;messageid=1/": {"DialogState": stack}})
    stored = await store.read("botstate/msteams/conversations/19:a@thread.tacv2;messageid=1/")
    json.dumps(stored.document)  # plain JSON, nothing pickled
    [(_key, read)] = (await state.read(["msteams/conversations/19:a@thread.tacv2;messageid=1/"])).items()
    revived = read["DialogState"].dialog_stack[0].state["dialogs"].dialog_stack[0]
    assert isinstance(revived, DialogInstance) and revived.id == "decide" and revived.state["options"] == {"case_id": "c1"}
    assert read["e_tag"] == stored.etag


async def test_a_write_over_a_changed_state_is_refused() -> None:
    state = DocumentStateStorage(MemoryStore())
    await state.write({"k": {"count": 1}})
    first = (await state.read(["k"]))["k"]
    second = (await state.read(["k"]))["k"]
    await state.write({"k": {**first, "count": 2}})
    with pytest.raises(PreconditionFailed):
        await state.write({"k": {**second, "count": 3}})
    assert (await state.read(["k"]))["k"]["count"] == 2


async def test_objects_that_are_not_plain_json_are_refused_not_pickled() -> None:
    state = DocumentStateStorage(MemoryStore())
    with pytest.raises(TypeError, match="not plain JSON"):
        await state.write({"k": {"thing": object()}})
