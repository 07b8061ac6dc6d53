"""Every ``/v1`` request the sandbox received, for tests and curious humans.

``GET /_sandbox/requests`` shows it; it includes requests answered 401, 429 or
an injected 5xx, which is how a test proves that a client retried, backed off,
or reused its ``MS-RequestId``.

Two fields appear only when they say something: ``injected`` lists what the
sandbox did to the request on purpose (``spike``, ``5xx-before``, ``5xx-after``,
``429-burst``, ``outage-503``, ``outage-reset``), and ``replayed`` is true when a write was answered
from the idempotency store instead of being applied again. A request whose
connection was dropped (an outage in ``reset`` mode) has ``status`` 0.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ("LoggedRequest", "RequestLog")

_MAX_ENTRIES = 10_000  # a long demo must not grow memory without bound


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str
    query: str  # the raw query string, as received
    status: int
    requestId: str
    correlationId: str
    at: str  # sandbox-clock time the request arrived (ISO 8601)
    injected: tuple[str, ...] = ()
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        entry = asdict(self)
        if self.injected:
            entry["injected"] = list(self.injected)
        else:
            del entry["injected"]
        if not self.replayed:
            del entry["replayed"]
        return entry


class RequestLog:
    def __init__(self, *, max_entries: int = _MAX_ENTRIES) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=max_entries)

    def append(self, entry: LoggedRequest) -> None:
        self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
