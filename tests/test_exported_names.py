"""Each package with a curated façade exports exactly its public names, in ruff's order.

The httpx test (tests/test_exported_members.py) written once for every such package: a name
imported into a package ``__init__`` is either in ``__all__`` or was imported only to annotate
the façade's own code.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

PACKAGES = ("cards", "partner_center", "pc_sandbox", "removal", "storage")

# Imported into a façade for its own signatures, not re-exported (``from __future__ import
# annotations`` binds ``annotations`` too).
FOR_ANNOTATIONS_ONLY = frozenset({"annotations", "Literal", "Path", "TYPE_CHECKING"})


def ruff_order(name: str) -> tuple[int, str]:
    """ruff's RUF022 ("isort-style"): CONSTANTS, then Classes, then functions, each alphabetical."""
    if name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


def public_names(package: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name not in FOR_ANNOTATIONS_ONLY
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_exactly_the_public_names_in_order(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert set(exported) == public_names(package)
    assert exported == sorted(exported, key=ruff_order)
    assert len(exported) == len(set(exported))
