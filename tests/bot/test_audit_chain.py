"""The audit trail is hash-chained, and `python -m bot.audit export` checks it: a record deleted or
changed by hand is reported by number (exit status 1, the trail still exported), an intact trail
verifies; CSV cells cannot run as spreadsheet formulas."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from azure.storage.blob.aio import ContainerClient

from app import create_app
from bot.audit import write_events
from bot.notify_api import signed_headers
from bot.settings import Settings
from removal.audit import GENESIS, PREVIOUS, AuditEvent, AuditTrail, check_chain, record_hash
from storage import BlobStore, MemoryStore, SqliteStore
from tests._azurite import Azurite, azurite  # noqa: F401  (the session fixture, for pytest to find)

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _event(action: str, *, customer: str = "c-1", **fields: str) -> AuditEvent:
    return AuditEvent(
        at=AT, action=action, actor="Ann (aad-1)", customer_id=customer, customer_name=f"Customer {customer}" if customer else "", **fields
    )


async def _trail_of_five(database: Path) -> None:
    store = SqliteStore(database)
    trail = AuditTrail(store)
    await trail.record(_event("removal.requested"))
    await trail.record(_event("item.approved", item="suspend Office 365 E3 (sub-1)"))
    await trail.record(_event("item.started", item="suspend Office 365 E3 (sub-1)", result="intent"))
    await trail.record(_event("item.done", item="suspend Office 365 E3 (sub-1)"))
    await trail.record(_event("refused.tenant", customer="", result="refused"))
    await store.close()


def _export(database: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OFFBOARD_STORAGE": "sqlite", "OFFBOARD_SQLITE_PATH": str(database)}
    return subprocess.run([sys.executable, "-m", "bot.audit", "export", *extra], cwd=ROOT, env=env, capture_output=True, text=True)


def _by_hand(database: Path, statement: str, *parameters: object) -> None:
    """What anyone holding the SQLite file can do, outside Offboard."""
    with sqlite3.connect(database) as db:
        assert db.execute(statement, parameters).rowcount == 1


async def test_each_record_carries_the_hash_of_the_one_before_it(tmp_path: Path) -> None:
    database = tmp_path / "offboard.db"
    await _trail_of_five(database)
    store = SqliteStore(database)
    try:
        everything = await store.read_stream("audit")
        customer = await store.read_stream("audit/customer/c-1")
    finally:
        await store.close()
    assert everything[0][1][PREVIOUS] == GENESIS
    for (_, before), (_, record) in itertools.pairwise(everything):
        assert record[PREVIOUS] == record_hash(before)
    # The customer's stream is a chain of its own; each copy names the audit record it copies.
    assert customer[0][1][PREVIOUS] == GENESIS and customer[1][1][PREVIOUS] == record_hash(customer[0][1])
    assert [record["seq"] for _, record in customer] == [1, 2, 3, 4]


async def test_an_intact_trail_verifies(tmp_path: Path) -> None:
    database = tmp_path / "offboard.db"
    await _trail_of_five(database)
    result = _export(database)
    assert result.returncode == 0, result.stderr
    assert "audit trail verified: 2 streams, hash chains intact, no gaps; last record 5" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5] and records[2]["result"] == "intent"
    assert records[-1][PREVIOUS] == record_hash({k: v for k, v in records[-2].items() if k != "seq"})


async def test_a_record_deleted_by_hand_is_reported_and_the_rest_still_exported(tmp_path: Path) -> None:
    database = tmp_path / "offboard.db"
    await _trail_of_five(database)
    _by_hand(database, "DELETE FROM records WHERE stream = 'audit' AND number = 3")

    result = _export(database)
    assert result.returncode == 1
    assert "AUDIT TRAIL BROKEN: audit: record 3 is missing (the stream goes from 2 to 4)" in result.stderr
    # The customer's copy of it is still there, and says so.
    assert "customer c-1's record 3 copies audit record 3, which is missing" in result.stderr
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [1, 2, 4, 5]
    assert "4 audit events exported" in result.stderr


async def test_a_record_changed_by_hand_is_reported(tmp_path: Path) -> None:
    database = tmp_path / "offboard.db"
    await _trail_of_five(database)
    with sqlite3.connect(database) as db:
        (text,) = db.execute("SELECT record FROM records WHERE stream = 'audit' AND number = 2").fetchone()
    changed = json.dumps({**json.loads(text), "actor": "Bob (aad-2)"})  # who approved, rewritten
    _by_hand(database, "UPDATE records SET record = ? WHERE stream = 'audit' AND number = 2", changed)

    result = _export(database, "--format", "csv", "--output", str(tmp_path / "audit.csv"))
    assert result.returncode == 1
    assert "AUDIT TRAIL BROKEN: audit: record 3 does not follow record 2" in result.stderr
    assert "customer c-1's record 2 differs from audit record 2" in result.stderr
    assert len((tmp_path / "audit.csv").read_text(encoding="utf-8").splitlines()) == 6


async def test_the_newest_record_changed_by_hand_shows_against_the_customers_copy(tmp_path: Path) -> None:
    """No record follows the newest one to carry its hash; the customer's copy still tells."""
    database = tmp_path / "offboard.db"
    store = SqliteStore(database)
    await AuditTrail(store).record(_event("removal.requested"))
    await AuditTrail(store).record(_event("removal.done", detail="relationship removed"))
    await store.close()
    _by_hand(database, "UPDATE records SET record = json_set(record, '$.detail', 'nothing sent') WHERE stream = 'audit' AND number = 2")
    result = _export(database)
    assert result.returncode == 1
    assert "customer c-1's record 2 differs from audit record 2, which it copies" in result.stderr


async def test_a_record_blob_deleted_on_azure_is_reported(azurite: Azurite) -> None:
    container = f"test-{uuid.uuid4().hex[:20]}"
    store = BlobStore(azurite.connection_string, container)
    raw = ContainerClient.from_connection_string(azurite.connection_string, container)
    try:
        trail = AuditTrail(store)
        for action in ("removal.requested", "item.approved", "item.done", "removal.done"):
            await trail.record(_event(action, customer=""))
        assert all(report.intact for report in await trail.verify())
        await raw.delete_blob("streams/audit/000000000002.json")
        [report] = await trail.verify()
        assert report.problems == ("record 2 is missing (the stream goes from 1 to 3)",)
    finally:
        await raw.close()
        await store.close()


async def test_instances_appending_together_keep_one_chain(tmp_path: Path, azurite: Azurite) -> None:
    """Two instances (two store objects on the same data), twenty records each, at once."""
    container = f"test-{uuid.uuid4().hex[:20]}"
    for open_store in (lambda: SqliteStore(tmp_path / "shared.db"), lambda: BlobStore(azurite.connection_string, container)):
        one, two = open_store(), open_store()
        try:
            await asyncio.gather(
                *(AuditTrail(one if n % 2 else two).record(_event("item.done", customer=f"c-{n % 3}", item=f"item {n}")) for n in range(40))
            )
            reports = await AuditTrail(one).verify()
            assert [r.problems for r in reports] == [()] * 4 and reports[0].records == 40
        finally:
            await one.close()
            await two.close()


async def test_a_partner_center_write_whose_outcome_is_missing_is_named(tmp_path: Path) -> None:
    """An intent record with no outcome after it: the bot stopped in between (or is writing now)."""
    database = tmp_path / "offboard.db"
    store = SqliteStore(database)
    trail = AuditTrail(store)
    await trail.record(_event("item.started", item="suspend Office 365 E3 (sub-1)", result="intent", case_id="case-1"))
    await trail.record(_event("item.started", item="cancel Azure plan (az-1)", result="intent", case_id="case-1"))
    await trail.record(_event("item.done", item="suspend Office 365 E3 (sub-1)", case_id="case-1"))
    await trail.record(_event("removal.started", result="intent", case_id="case-1"))
    await trail.record(_event("removal.done", case_id="case-1"))
    await store.close()
    result = _export(database)
    assert result.returncode == 0, result.stderr  # the trail itself is intact
    [unfinished] = [line for line in result.stderr.splitlines() if line.startswith("NO OUTCOME")]
    assert unfinished.startswith("NO OUTCOME: record 2 (item.started cancel Azure plan (az-1) in case case-1, Customer c-1) has no outcome")


def test_records_without_their_link_are_reported_even_at_the_start() -> None:
    """Stripping every link must not pass for records older than the chain (there are none)."""
    stripped = [(1, {"action": "removal.requested"}), (2, {"action": "item.done"})]
    chained = (3, {"action": "removal.done", PREVIOUS: record_hash(stripped[1][1])})
    report = check_chain("audit", [*stripped, chained])
    assert not report.intact and report.unchained == 2 and len(report.problems) == 2
    # After a chained record, one without a hash is a replacement.
    assert check_chain("audit", [*stripped, chained, (4, {"action": "x"})]).problems[-1] == (
        "record 4 carries no hash of the record before it, as the records before it do: it was replaced"
    )


async def test_a_partner_center_event_does_not_rename_the_customer() -> None:
    """Records that know only the customer's id keep the name `history` finds them by."""
    trail = AuditTrail(MemoryStore())
    await trail.record(_event("removal.done"))
    await trail.record(AuditEvent(at=AT, action="partnercenter.event", actor="Partner Center", customer_id="c-1"))
    assert await trail.customers_named("customer c-1") == [{"id": "c-1", "name": "Customer c-1"}]


def test_csv_cells_cannot_be_formulas() -> None:
    evil = {
        "actor": '=HYPERLINK("https://evil.example")',
        "customer_name": "+cmd|' /C calc'!A0",
        "detail": "-2+3",
        "item": "@SUM(A1)",
        "correlation_id": "\t=1",
        "case_id": "\r=1",
    }
    record = {"at": AT.isoformat(), "action": "item.failed", "result": "failed", **evil}
    table = io.StringIO()
    write_events([(1, record), (2, {**record, "actor": "Ann = approver", "detail": "a-b"})], table, format="csv")
    first, second = list(csv.DictReader(io.StringIO(table.getvalue(), newline="")))
    assert {column: first[column] for column in evil} == {column: "'" + value for column, value in evil.items()}
    assert second["actor"] == "Ann = approver" and second["detail"] == "a-b" and second["at"] == AT.isoformat()
    # JSON lines are data, not a spreadsheet: written as they are.
    lines = io.StringIO()
    write_events([(1, record)], lines, format="jsonl")
    assert json.loads(lines.getvalue())["actor"] == evil["actor"]


async def test_the_trail_may_have_a_container_of_its_own(azurite: Azurite, aiohttp_server: Any) -> None:
    """The bot writes it there (so that the container can be immutable), and `export` reads it there."""
    cases, trail = f"cases-{uuid.uuid4().hex[:20]}", f"audit-{uuid.uuid4().hex[:20]}"
    env = {
        "OFFBOARD_STORAGE": "blob",
        "OFFBOARD_BLOB_CONNECTION_STRING": azurite.connection_string,
        "OFFBOARD_BLOB_CONTAINER": cases,
        "OFFBOARD_BLOB_AUDIT_CONTAINER": trail,
    }
    settings = Settings(_env_file=None, sandbox_port=0, notify_secret="s3cret", **{name: value for name, value in env.items()})
    server = await aiohttp_server(create_app(settings))
    body = json.dumps({"title": "Ticket 4711"}).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url("/api/notifications"), data=body, headers=signed_headers("s3cret", body)) as response:
            assert response.status == 202
    await server.close()
    async with ContainerClient.from_connection_string(azurite.connection_string, trail) as own:
        assert [name async for name in own.list_blob_names(name_starts_with="streams/")] == ["streams/audit/000000000001.json"]
    async with ContainerClient.from_connection_string(azurite.connection_string, cases) as shared:
        assert not [name async for name in shared.list_blob_names(name_starts_with="streams/")]

    result = subprocess.run(
        [sys.executable, "-m", "bot.audit", "export"], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["action"] for line in result.stdout.splitlines()] == ["notify.api"]
