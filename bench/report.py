"""One figure per line, as JSON, and the summary line at the end.

Every figure that is a time has a baseline measured in the same run (the machines are shared and
noisy: a ratio survives that, seconds do not), and a target the figure is checked against.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ("Figure", "Report")


@dataclass(frozen=True)
class Figure:
    """One measured value.

    Attributes:
        bench: ``<bench>.<measure>``, e.g. ``turns.throughput``.
        value: the measurement, in ``unit``.
        baseline: what it is compared with, measured in the same run (None: nothing to compare).
        ratio: ``value / baseline`` (None without a baseline).
        target: the target in words, e.g. ``">= 0.8 x echo bot"``.
        ok: whether the target is met (True for a figure that is only informative).
        details: further numbers behind the figure (counts, bounds, settings).
    """

    bench: str
    value: float
    unit: str
    target: str
    ok: bool
    baseline: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def to_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "bench": self.bench,
            "value": _rounded(self.value),
            "unit": self.unit,
            "baseline": _rounded(self.baseline),
            "ratio": None if ratio is None else round(ratio, 3),
            "target": self.target,
            "ok": self.ok,
            **({"details": {k: _rounded(v) for k, v in self.details.items()}} if self.details else {}),
        }


@dataclass
class Report:
    out: TextIO = sys.stdout
    figures: list[Figure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(json.dumps(figure.to_json(), ensure_ascii=False), file=self.out, flush=True)

    def error(self, bench: str, message: str) -> None:
        """A bench that could not run counts as a failed target."""
        self.errors.append(f"{bench}: {message}")
        print(json.dumps({"bench": bench, "error": message, "ok": False}), file=self.out, flush=True)

    def summary(self, *, elapsed_seconds: float, mode: str, machine: dict[str, Any]) -> dict[str, Any]:
        failed = [f.bench for f in self.figures if not f.ok]
        line = {
            "summary": True,
            "mode": mode,
            "figures": len(self.figures),
            "ok": not failed and not self.errors,
            "failed": failed + self.errors,
            "elapsed_s": round(elapsed_seconds, 1),
            "machine": machine,
        }
        print(json.dumps(line, ensure_ascii=False), file=self.out, flush=True)
        return line


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if abs(value) < 100 else round(value, 1)
    return value
