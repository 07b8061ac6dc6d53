"""``python -m bench``: Offboard's benchmarks, one JSON object per figure, a summary line last.

    python -m bench                  # everything (under 10 minutes)
    python -m bench --quick          # smaller loads (under 2 minutes)
    python -m bench turns fanout     # some of them
    python -m bench --profile build/profiles   # and py-spy profiles of the bot process

Every time is compared with a baseline measured in the same run; see README "Benchmarks".
Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from .profiling import Profiler
from .report import Report

BENCHES = ("turns", "fanout", "plan", "memory", "cards")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benches", nargs="*", choices=[*BENCHES, []], metavar="BENCH", help=f"any of {', '.join(BENCHES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller loads, for a quick look (under 2 minutes)")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR", help="record py-spy profiles of the bot into DIR")
    args = parser.parse_args(argv)
    report = Report()
    profiler = Profiler(args.profile)
    started = time.perf_counter()
    for name in args.benches or BENCHES:
        module = importlib.import_module(f"bench.{name}")
        try:
            await module.run(report, quick=args.quick, profiler=profiler)
        except Exception as error:  # one broken bench must not hide the others' figures  # noqa: BLE001
            report.error(name, f"{type(error).__name__}: {error}")
    summary = report.summary(elapsed_seconds=time.perf_counter() - started, mode="quick" if args.quick else "full", machine=machine())
    for line in profiler.summaries():
        print(line, file=sys.stderr)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
