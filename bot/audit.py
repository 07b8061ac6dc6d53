"""Export the audit trail: ``python -m bot.audit export [--format jsonl|csv] [--output FILE]``.

Reads the store the settings name (the same ``OFFBOARD_STORAGE`` as the bot) and writes every
event in order, one per line (JSON lines) or as CSV with a header.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from typing import IO, Any

from bot.settings import Settings, open_configured_store
from removal.audit import AuditTrail

_COLUMNS = ("seq", "at", "action", "actor", "customer_id", "customer_name", "case_id", "item", "result", "detail", "correlation_id")


def write_events(events: list[tuple[int, dict[str, Any]]], output: IO[str], *, format: str) -> None:
    if format == "jsonl":
        for number, record in events:
            output.write(json.dumps({"seq": number, **record}, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(output, fieldnames=_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for number, record in events:
        writer.writerow({"seq": number, **record})


async def _export(settings: Settings, output: IO[str], format: str) -> int:
    # The storage explicitly configured: an export of the sandbox's in-memory default is empty.
    store = open_configured_store(settings, kind=settings.storage)
    try:
        events = await AuditTrail(store).everything()
    finally:
        await store.close()
    write_events(events, output, format=format)
    return len(events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.audit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write every audit event")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as output:
            count = asyncio.run(_export(settings, output, args.format))
    else:
        count = asyncio.run(_export(settings, sys.stdout, args.format))
    print(f"{count} audit events exported", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
