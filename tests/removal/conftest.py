"""Fixtures shared by the removal tests."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from storage import SqliteStore


@pytest.fixture
async def documents(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A real SQLite file, as each bot instance opens it."""
    store = SqliteStore(tmp_path / "offboard.db")
    yield store
    await store.close()
