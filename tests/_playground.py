"""The Microsoft 365 Agents Playground (npm, pinned) as a test process, always with both telemetry switches.

It runs in a scratch folder (it writes ``devTools/`` there) holding a copy of our
``.m365agentsplayground.yml``; without both switches it reaches for a telemetry host and the cloud
metadata address (../shared/reference/bot-stack.md).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from bench.ports import free_port

REPO = Path(__file__).resolve().parents[1]
PLAYGROUND = REPO / "node_modules" / ".bin" / "agentsplayground"


@contextmanager
def running_playground(folder: Path, bot_endpoint: str, *, output: IO[bytes] | int = subprocess.DEVNULL) -> Iterator[int]:
    """Start the Playground for ``bot_endpoint``; yields its port once it listens, stops it after."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".m365agentsplayground.yml").write_text((REPO / ".m365agentsplayground.yml").read_text())
    port = free_port()
    env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none", "APPLICATION_INSIGHTS_NO_STATSBEAT": "true"}
    process = subprocess.Popen(
        [str(PLAYGROUND), "-e", bot_endpoint, "-p", str(port), "--disable-telemetry"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the Agents Playground did not start"
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
