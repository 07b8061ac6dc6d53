"""``--profile DIR``: py-spy samples the bot's process while a bench loads it.

py-spy attaches from outside (no change to the bot; it pauses the process for each sample, which
slows it a little but, unlike --nonblocking, gives stacks that are not torn) and writes the
sampled stacks (``DIR/<bench>.txt``, collapsed: one ``frame;frame;… count`` per line, which
speedscope and flamegraph.pl read). The summary printed at the end groups the samples' innermost
frame by where the code lives (Offboard's packages, botbuilder, msrest, aiohttp, …): that is the
answer to "where does the time go".
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

__all__ = ("Profiler", "where_time_goes")

# Innermost frame's file → the area it belongs to; first match wins.
_AREAS = (
    ("offboard: bot/", r"(^|/)bot/"),
    ("offboard: dialogs/", r"(^|/)dialogs/"),
    ("offboard: cards/", r"(^|/)cards/"),
    ("offboard: removal/", r"(^|/)removal/"),
    ("offboard: partner_center/", r"(^|/)partner_center/"),
    ("offboard: storage/", r"(^|/)storage/"),
    ("botbuilder/botframework", r"botbuilder|botframework"),
    ("msrest (SDK serialisation)", r"msrest"),
    ("aiohttp/yarl/multidict", r"aiohttp|yarl|multidict"),
    ("asyncio", r"asyncio/"),
    ("json", r"json/"),
    ("babel", r"babel/"),
    ("pydantic", r"pydantic"),
    ("jsonpickle/copy/typing", r"jsonpickle|/copy\.py|typing"),
    ("logging", r"logging/"),
    ("sqlite3", r"sqlite3"),
    ("ssl/socket/selectors", r"ssl\.py|socket\.py|selectors\.py"),
)
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]+)(:\d+)?\)$")


def where_time_goes(collapsed: str, *, top: int = 12) -> tuple[Counter[str], Counter[str], int]:
    """(samples by area, samples by innermost function, total samples) of py-spy's raw output."""
    areas: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        innermost = stack.split(";")[-1]
        match = _FRAME.match(innermost)
        file = match.group("file") if match else innermost
        function = f"{match.group('function')} ({file})" if match else innermost
        area = next((name for name, pattern in _AREAS if re.search(pattern, file)), "other")
        areas[area] += count
        functions[function] += count
        total += count
    return areas, Counter(dict(functions.most_common(top))), total


class Profiler:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._summaries: list[str] = []
        if folder is not None:
            if shutil.which("py-spy") is None and not (Path(sys.executable).parent / "py-spy").exists():
                raise SystemExit("--profile needs py-spy (pip install -r requirements-dev.txt)")
            folder.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def recording(self, name: str, pid: int) -> AsyncIterator[None]:
        """Sample process ``pid`` while the block runs (nothing when profiling is off)."""
        if self.folder is None:
            yield
            return
        output = self.folder / f"{name}.txt"
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        process = subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil", "-o", str(output)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        await asyncio.sleep(0.5)  # attached before the load starts
        try:
            yield
        finally:
            process.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            _, errors = await asyncio.to_thread(process.communicate, timeout=30)
            if output.exists():
                self._summaries.append(self._summary(name, output))
            else:
                self._summaries.append(f"[profile {name}] py-spy wrote nothing: {errors.decode(errors='replace')[-500:]}")

    @staticmethod
    def _summary(name: str, output: Path) -> str:
        areas, functions, total = where_time_goes(output.read_text(encoding="utf-8", errors="replace"))
        if not total:
            return f"[profile {name}] no samples"
        lines = [f"[profile {name}] {total} samples of the bot's CPU time ({output}); innermost frame by area:"]
        lines += [f"  {count / total:6.1%}  {area}" for area, count in areas.most_common()]
        lines.append("  top functions (self):")
        lines += [f"  {count / total:6.1%}  {function}" for function, count in functions.most_common()]
        return "\n".join(lines)

    def summaries(self) -> list[str]:
        return list(self._summaries)
