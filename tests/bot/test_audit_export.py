"""`python -m bot.audit export` reads the configured store and writes every event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from removal.audit import AuditEvent, AuditTrail
from storage import SqliteStore

ROOT = Path(__file__).resolve().parents[2]


async def test_export_writes_json_lines_and_csv_from_the_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "offboard.db"
    store = SqliteStore(database)
    trail = AuditTrail(store)
    at = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    await trail.record(AuditEvent(at=at, action="removal.requested", actor="Ann", customer_id="c-1", customer_name="ООО «Ромашка»"))
    await trail.record(
        AuditEvent(at=at, action="item.failed", actor="offboard", customer_id="c-1", detail="window passed", correlation_id="corr-9")
    )
    await store.close()

    env = {**os.environ, "OFFBOARD_STORAGE": "sqlite", "OFFBOARD_SQLITE_PATH": str(database)}
    jsonl = subprocess.run([sys.executable, "-m", "bot.audit", "export"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [(r["seq"], r["action"]) for r in records] == [(1, "removal.requested"), (2, "item.failed")]
    assert records[0]["customer_name"] == "ООО «Ромашка»" and records[1]["correlation_id"] == "corr-9"
    assert "2 audit events exported" in jsonl.stderr

    output = tmp_path / "audit.csv"
    subprocess.run(
        [sys.executable, "-m", "bot.audit", "export", "--format", "csv", "--output", str(output)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("seq,at,action,actor") and len(lines) == 3
