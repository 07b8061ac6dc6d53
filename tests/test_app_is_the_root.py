"""``app.py`` is the top of the layers: nothing in the product imports it.

import-linter scans packages only, so the contracts in pyproject.toml cannot see the single module
``app``; this test is that missing line of the layers contract.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = ("bot", "dialogs", "cards", "removal", "partner_center", "storage", "pc_sandbox")


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_no_product_package_imports_the_composition_root(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(name == "app" or name.startswith("app.") for name in _imported_modules(path))
    ]
    assert offenders == []


def test_the_check_sees_an_import_of_app(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text("from app import create_app\n", encoding="utf-8")
    assert "app" in _imported_modules(module)
