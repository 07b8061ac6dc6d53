"""The bot's conversation and dialog state on our document store: plain JSON, with ETags.

botbuilder's state keeps live objects (``DialogState`` holding ``DialogInstance``s, nested in
component dialogs). botbuilder-azure stores such objects with jsonpickle, which lets anyone who
can write the container make the bot instantiate arbitrary classes. Here those two classes, and
only those, are written as tagged JSON and revived by name; anything else that is not plain
JSON is refused when written (a bug to fix, not something to store).

ETags: botbuilder passes the ``e_tag`` it read back with its write; a write over a changed
document raises :class:`storage.PreconditionFailed` (another instance wrote first).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import Storage, StoreItem
from botbuilder.dialogs import DialogInstance, DialogState

from storage import DocumentStore

__all__ = ("DocumentStateStorage",)

_TAG = "$offboard"
_ETAG = "e_tag"


class DocumentStateStorage(Storage):
    """botbuilder ``Storage`` over a :class:`storage.DocumentStore` (keys under ``prefix``)."""

    def __init__(self, store: DocumentStore, *, prefix: str = "botstate/") -> None:
        self._store = store
        self._prefix = prefix

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        found = await self._store.read_many([self._prefix + key for key in keys])
        result: dict[str, Any] = {}
        for key in keys:
            stored = found.get(self._prefix + key)
            if stored is not None:
                state = _revive(stored.document)
                state[_ETAG] = stored.etag
                result[key] = state
        return result

    async def write(self, changes: dict[str, Any]) -> None:
        for key, value in (changes or {}).items():
            document = dict(value.__dict__ if isinstance(value, StoreItem) else value)
            etag = document.pop(_ETAG, None)
            encoded = _encode(document)
            if etag in (None, "*"):
                await self._store.write(self._prefix + key, encoded)
            else:
                await self._store.write(self._prefix + key, encoded, if_match=etag)

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            await self._store.delete(self._prefix + key)


def _encode(value: Any) -> Any:
    if isinstance(value, DialogState):
        return {_TAG: "DialogState", "stack": [_encode(instance) for instance in value.dialog_stack]}
    if isinstance(value, DialogInstance):
        return {_TAG: "DialogInstance", "id": value.id, "state": _encode(value.state or {})}
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"conversation state holds a {type(value).__name__}, which is not plain JSON")


def _revive(value: Any) -> Any:
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag == "DialogState":
            return DialogState([_revive(instance) for instance in value.get("stack", [])])
        if tag == "DialogInstance":
            return DialogInstance(id=value.get("id"), state=_revive(value.get("state") or {}))
        return {key: _revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_revive(item) for item in value]
    return value
