"""Opening a second SqliteStore on a file this process already uses must not drop this process's
SQLite locks: closing any descriptor of a file drops every POSIX lock the process holds on it,
and another process's last connection then checkpoints and deletes the WAL under our feet
("database disk image is malformed", as the fanout benchmark saw reading the bot's file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage import SqliteStore

_OTHER_PROCESS = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT count(*) FROM documents").fetchone()
connection.close()
"""


async def test_a_second_store_in_the_same_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    path = tmp_path / "offboard.db"
    first = SqliteStore(path)
    await first.write("cases/1", {"state": "executing"})  # both connections of the first store open
    assert await first.read("cases/1") is not None
    second = SqliteStore(path)  # what a reader beside the bot, or a second store of the bot, does
    assert await second.read("cases/1") is not None
    subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(path)], check=True, timeout=60)
    # Our connections are open: the other process was not the last one, so the WAL stays.
    assert path.with_name(path.name + "-wal").exists()
    await first.write("cases/2", {"state": "cancelled"})
    assert (await second.read("cases/2")) is not None
    assert sorted(await first.list_keys("cases/")) == ["cases/1", "cases/2"]
    await second.close()
    await first.close()
