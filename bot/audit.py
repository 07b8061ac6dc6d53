"""Export the audit trail: ``python -m bot.audit export [--format jsonl|csv] [--output FILE]``.

Reads the store the settings name (the same ``OFFBOARD_STORAGE`` as the bot, and
``OFFBOARD_BLOB_AUDIT_CONTAINER`` when the trail has a container of its own) and writes every
event in order, one per line (JSON lines) or as CSV with a header. Before writing, it checks the
trail (each stream's hash chain, gaps in its numbers, and each customer's copies against
``audit``) and says on standard error what it found: the head hash when all is well, each broken
record otherwise, and each Partner Center write whose intent record no outcome follows. A
broken trail is still exported (it is the evidence), and the exit status is
1; 0 means the trail verified.

CSV cells that a spreadsheet would read as a formula (starting with ``= + - @``, a tab or a
carriage return) are written with a leading ``'``: names and Partner Center's error texts come
from outside and must not run in the auditor's Excel.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from bot.settings import Settings, open_configured_store
from removal.audit import PREVIOUS, AuditTrail, ChainReport, writes_without_outcome
from storage import DocumentStore, StoreKind

_COLUMNS = (
    "seq",
    "at",
    "action",
    "actor",
    "customer_id",
    "customer_name",
    "case_id",
    "item",
    "result",
    "detail",
    "correlation_id",
    "extra",
    PREVIOUS,
)
# What Excel, LibreOffice and Google Sheets take as the start of a formula (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BROKEN = 1


def open_audit_store(settings: Settings, *, kind: StoreKind | None = None) -> DocumentStore | None:
    """The audit trail's own store, when it has one: a Blob container of its own, which can be
    immutable (README, "Audit trail"). None: the trail is in the cases' store."""
    container = settings.blob_audit_container
    if (kind or settings.effective_storage) != "blob" or not container or container == settings.blob_container:
        return None
    # The same way in as the cases' store: the managed identity with OFFBOARD_BLOB_ACCOUNT_URL.
    return open_configured_store(settings, kind="blob", container=container)


def neutralised(value: Any) -> Any:
    """A CSV cell that no spreadsheet evaluates: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_events(events: list[tuple[int, dict[str, Any]]], output: IO[str], *, format: str) -> None:
    if format == "jsonl":
        for number, record in events:
            output.write(json.dumps({"seq": number, **record}, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(output, fieldnames=_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for number, record in events:
        row = {**record, "seq": number, "extra": json.dumps(record["extra"], ensure_ascii=False) if record.get("extra") else ""}
        writer.writerow({column: neutralised(value) for column, value in row.items()})


def describe(reports: Sequence[ChainReport], events: Sequence[tuple[int, dict[str, Any]]] = ()) -> list[str]:
    """What the check found, a line each, for standard error: the problems first."""
    problems = [f"{report.stream}: {problem}" for report in reports for problem in report.problems]
    everything = reports[0]
    lines = [f"AUDIT TRAIL BROKEN: {problem}" for problem in problems]
    lines += [f"NO OUTCOME: {unfinished}" for unfinished in writes_without_outcome(events)]
    if problems:
        lines.append(
            f"{len(problems)} problems in {sum(1 for r in reports if not r.intact)} of {len(reports)} streams: the trail was changed outside Offboard"
        )
    else:
        lines.append(
            f"audit trail verified: {len(reports)} streams, hash chains intact, no gaps; "
            f"last record {everything.last}, its SHA-256 {everything.head or '(none: the trail is empty)'}"
        )
    return lines


async def _export(settings: Settings, output: IO[str], format: str) -> tuple[list[tuple[int, dict[str, Any]]], list[ChainReport]]:
    # The storage explicitly configured: an export of the sandbox's in-memory default is empty.
    store = open_audit_store(settings, kind=settings.storage) or open_configured_store(settings, kind=settings.storage)
    try:
        trail = AuditTrail(store)
        events = await trail.everything()
        reports = await trail.verify(events)
    finally:
        await store.close()
    write_events(events, output, format=format)
    return events, reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.audit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="check the trail and write every audit event")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as output:
            events, reports = asyncio.run(_export(settings, output, args.format))
    else:
        events, reports = asyncio.run(_export(settings, sys.stdout, args.format))
    for line in describe(reports, events):
        print(line, file=sys.stderr)
    print(f"{len(events)} audit events exported", file=sys.stderr)
    return BROKEN if any(not report.intact for report in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
