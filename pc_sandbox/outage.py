"""A Partner Center outage, switched on and off by an operator (``POST /_sandbox/outage``).

While it is on, no ``/v1`` request is processed: in ``reset`` mode the connection is dropped
without an answer (what a client sees when the service or the network is down); in ``503`` mode
the gateway answers 503 Service Unavailable. The world is untouched, so switching it off is
Partner Center coming back with everything as it was. Tokens are still issued: Entra ID is not
Partner Center.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ("OUTAGE_MODES", "Outage")

OutageMode = Literal["reset", "503"]
OUTAGE_MODES: tuple[OutageMode, ...] = ("reset", "503")


@dataclass(slots=True)
class Outage:
    on: bool = False
    mode: OutageMode = "reset"

    def switch(self, on: bool, mode: OutageMode = "reset") -> None:
        self.on, self.mode = on, mode

    def to_json(self) -> dict[str, Any]:
        return {"on": self.on, "mode": self.mode}
