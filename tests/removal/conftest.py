"""Fixtures shared by the removal tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import SqliteStore


@pytest.fixture
async def documents(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A real SQLite file, as each bot instance opens it."""
    store = SqliteStore(tmp_path / "offboard.db")
    yield store
    await store.close()
