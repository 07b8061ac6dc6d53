"""Azurite, the Azure Storage emulator, for tests: blob service only, in memory, on loopback.

npm ``azurite`` 3.35.0 is a devDependency in package.json (``npm ci`` installs it; 3.36+ needs
Node 22). Any test package can use the session fixture by importing it into its conftest.py::

    from tests._azurite import azurite  # noqa: F401  (pytest finds fixtures imported into conftest)

    async def test_something(azurite: Azurite) -> None:
        store = BlobStore(azurite.connection_string, "some-container")

Outside pytest: ``with running_azurite() as emulator: ...``. A missing node or node_modules/azurite
makes the fixture fail (not skip): CI is expected to have run ``npm ci``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.ports import free_port

__all__ = ("ACCOUNT_KEY", "ACCOUNT_NAME", "Azurite", "AzuriteUnavailable", "azurite", "running_azurite")

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BLOB_MAIN = Path("node_modules/azurite/dist/src/blob/main.js")

# Azurite's well-known development account, published by Microsoft: not a secret.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_READY_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0
_START_ATTEMPTS = 3  # a free port can be taken by someone else between choosing it and binding it


class AzuriteUnavailable(RuntimeError):
    """Azurite is not installed, or did not start."""


@dataclass(frozen=True, slots=True)
class Azurite:
    """A running Azurite blob service.

    Attributes:
        port: the blob service's port on 127.0.0.1.
        blob_endpoint: ``http://127.0.0.1:<port>/devstoreaccount1``.
        connection_string: the development connection string for this endpoint.
    """

    port: int
    blob_endpoint: str
    connection_string: str


@contextmanager
def running_azurite(*, root: Path = REPO_ROOT) -> Iterator[Azurite]:
    """Start Azurite's blob service on a free loopback port, yield it, and stop it.

    :param root: the folder holding node_modules/ (the repository root).
    :raises AzuriteUnavailable: node or Azurite is missing, or Azurite did not start.
    """
    node = shutil.which("node")
    if node is None:
        raise AzuriteUnavailable("node is not on PATH: Azurite needs Node 20 (see package.json)")
    if not (root / AZURITE_BLOB_MAIN).is_file():
        raise AzuriteUnavailable(f"{root / AZURITE_BLOB_MAIN} is missing: run `npm ci` in {root} to install azurite (package.json)")
    with tempfile.TemporaryDirectory(prefix="azurite-") as workspace:
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = free_port()
            log_path = Path(workspace) / f"azurite-{attempt}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [
                        node,
                        str(AZURITE_BLOB_MAIN),
                        "--blobHost",
                        "127.0.0.1",
                        "--blobPort",
                        str(port),
                        "--inMemoryPersistence",
                        "--extentMemoryLimit",
                        "512",
                        "--disableTelemetry",
                        "--silent",
                        # Azurite 3.35 knows service versions up to 2025-11-05; the current SDK asks for newer.
                        "--skipApiVersionCheck",
                    ],
                    cwd=root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Custom accounts there would disable the development account these tests use.
                    env={name: value for name, value in os.environ.items() if name != "AZURITE_ACCOUNTS"},
                )
            try:
                if _wait_until_listening(process, port):
                    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT_NAME}"
                    yield Azurite(
                        port=port,
                        blob_endpoint=endpoint,
                        connection_string=(
                            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};BlobEndpoint={endpoint};"
                        ),
                    )
                    return
            finally:
                _stop(process)
            if attempt == _START_ATTEMPTS:
                raise AzuriteUnavailable(
                    f"Azurite did not listen on 127.0.0.1:{port} (exit code {process.returncode}):\n"
                    + log_path.read_text(errors="replace")[-2000:]
                )


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A running Azurite for the whole test session; fails (never skips) if Azurite is missing."""
    try:
        with running_azurite() as running:
            yield running
    except AzuriteUnavailable as error:
        pytest.fail(str(error), pytrace=False)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    """True once the port accepts connections; False if the process exits or the wait times out."""
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process.poll() is None  # not a stranger that took the port first
        except OSError:
            time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
