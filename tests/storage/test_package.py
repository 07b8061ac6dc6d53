"""The package's factory and the rules on what it may import (its exported names: tests/test_exported_names.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import storage
from storage import BlobStore, DocumentStore, MemoryStore, SqliteStore, open_store

PACKAGE = Path(storage.__file__).parent
FORBIDDEN_IMPORTS = {"botbuilder", "botframework", "pickle", "jsonpickle", "dill", "shelve", "marshal", "cloudpickle"}


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_no_botbuilder_and_no_pickle(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN_IMPORTS


async def test_open_store_memory() -> None:
    store = open_store("memory")
    assert isinstance(store, MemoryStore) and isinstance(store, DocumentStore)


async def test_open_store_sqlite(tmp_path: Path) -> None:
    store = open_store("sqlite", sqlite_path=tmp_path / "state.sqlite3")
    assert isinstance(store, SqliteStore) and isinstance(store, DocumentStore)
    await store.write("k", {})
    await store.close()
    assert (tmp_path / "state.sqlite3").exists()


async def test_open_store_blob() -> None:
    store = open_store(
        "blob",
        blob_connection_string="DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/a;",
    )
    assert isinstance(store, BlobStore) and isinstance(store, DocumentStore)
    assert "container='offboard'" in repr(store)
    await store.close()  # touched nothing: no request was made


@pytest.mark.parametrize(
    ("kind", "settings", "named"),
    [
        ("sqlite", {}, "sqlite_path"),
        ("blob", {}, "blob_connection_string"),
        ("blob", {"blob_connection_string": ""}, "blob_connection_string"),
        ("postgres", {}, "unknown storage kind 'postgres'"),
    ],
)
def test_open_store_refuses_missing_settings(kind: str, settings: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        open_store(kind, **settings)  # type: ignore[arg-type]
