"""The benchmarks import no test module: tests may use the bench's helpers (the recording Bot
Connector, ``free_port``, the button readers), never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_bench_module_imports_the_tests() -> None:
    modules = sorted(BENCH.glob("*.py"))
    assert len(modules) > 5
    offending = {
        path.name: sorted(name for name in _imported_modules(path) if name == "tests" or name.startswith("tests.")) for path in modules
    }
    assert {name: found for name, found in offending.items() if found} == {}
