"""Azurite, the Azure Storage emulator, for tests: blob service only, in memory, on loopback.

npm ``azurite`` 3.35.0 is a devDependency in package.json (``npm ci`` installs it; 3.36+ needs
Node 22). Any test package can use the session fixture by importing it into its conftest.py::

    from tests._azurite import azurite  # noqa: F401  (pytest finds fixtures imported into conftest)

    async def test_something(azurite: Azurite) -> None:
        store = BlobStore(azurite.connection_string, "some-container")

Outside pytest: ``with running_azurite() as emulator: ...``. A missing node or node_modules/azurite
makes the fixture fail (not skip): CI is expected to have run ``npm ci``.

Opt-in, ``azurite_oauth`` (or ``running_azurite(oauth=True)``): Azurite over HTTPS (a certificate
from a throw-away trustme CA, ``Azurite.ca_file``) with ``--oauth basic``, so that a client can
authenticate with a bearer token instead of the account key, as a managed identity does in Azure.
Azurite accepts bearer tokens over HTTPS only, and its "basic" check reads the token without
verifying its signature: the audience must be Azure Storage's (``https://storage.azure.com`` or
``https://<account>.blob.core.windows.net``), the issuer one of Entra's (``https://sts.windows.net/...``),
and ``iat``/``nbf``/``exp`` present with now inside [nbf, exp]
(node_modules/azurite/dist/src/blob/authentication/BlobTokenAuthenticator.js).
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

import jwt
import pytest
import trustme
from azure.core.credentials import AccessToken

from bench.ports import free_port

__all__ = (
    "ACCOUNT_KEY",
    "ACCOUNT_NAME",
    "Azurite",
    "AzuriteUnavailable",
    "EntraStandInCredential",
    "azurite",
    "azurite_oauth",
    "running_azurite",
)

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
        blob_endpoint: ``http://127.0.0.1:<port>/devstoreaccount1`` (``https://`` with ``oauth``):
            the account URL.
        connection_string: the development connection string for this endpoint (with the key).
        ca_file: with ``oauth``, the CA bundle (PEM) the service's certificate chains to; else None.
    """

    port: int
    blob_endpoint: str
    connection_string: str
    ca_file: Path | None = None


class EntraStandInCredential:
    """An ``AsyncTokenCredential`` that mints its own tokens: a STAND-IN for Microsoft Entra (the
    managed identity's token endpoint), which cannot run here. It proves nothing about Entra: only
    that the store asks for a token for the right scope and sends it, and that the service's answer
    to a wrong token is explained. The tokens have the shape Azurite's ``--oauth basic`` checks
    (module docstring) and are signed with a throw-away key nobody verifies.

    :param audience: the token's ``aud``; default: the scope asked for without ``/.default``
        (``https://storage.azure.com``), as Entra does.
    :param lifetime: seconds from now to ``exp`` (negative: already expired).
    """

    ISSUER = "https://sts.windows.net/72f988bf-0000-0000-0000-000000000000/"  # Entra's v1 issuer shape

    def __init__(self, *, audience: str | None = None, lifetime: int = 3600) -> None:
        self.audience = audience
        self.lifetime = lifetime
        self.scopes: list[tuple[str, ...]] = []  # every request for a token, in order
        self.closed = False

    async def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.append(scopes)
        now = int(time.time())
        expires = now + self.lifetime
        claims = {
            "aud": self.audience or scopes[0].removesuffix("/.default"),
            "iss": self.ISSUER,
            "iat": min(now, expires) - 60,
            "nbf": min(now, expires) - 60,
            "exp": expires,
            "oid": "00000000-0000-0000-0000-00000000f00d",  # the managed identity's object id, made up
        }
        return AccessToken(jwt.encode(claims, "not-a-real-signing-key-" + "0" * 16, algorithm="HS256"), expires)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> EntraStandInCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


@contextmanager
def running_azurite(*, root: Path = REPO_ROOT, oauth: bool = False) -> Iterator[Azurite]:
    """Start Azurite's blob service on a free loopback port, yield it, and stop it.

    :param root: the folder holding node_modules/ (the repository root).
    :param oauth: serve HTTPS with a trustme CA's certificate and accept bearer tokens (``--oauth basic``).
    :raises AzuriteUnavailable: node or Azurite is missing, or Azurite did not start.
    """
    node = shutil.which("node")
    if node is None:
        raise AzuriteUnavailable("node is not on PATH: Azurite needs Node 20 (see package.json)")
    if not (root / AZURITE_BLOB_MAIN).is_file():
        raise AzuriteUnavailable(f"{root / AZURITE_BLOB_MAIN} is missing: run `npm ci` in {root} to install azurite (package.json)")
    with tempfile.TemporaryDirectory(prefix="azurite-") as workspace:
        tls_arguments: list[str] = []
        ca_file: Path | None = None
        if oauth:
            ca_file, tls_arguments = _tls_files(Path(workspace))
        scheme = "https" if oauth else "http"
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
                        *tls_arguments,
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
                    endpoint = f"{scheme}://127.0.0.1:{port}/{ACCOUNT_NAME}"
                    yield Azurite(
                        port=port,
                        blob_endpoint=endpoint,
                        connection_string=(
                            f"DefaultEndpointsProtocol={scheme};AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};BlobEndpoint={endpoint};"
                        ),
                        ca_file=ca_file,
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


@pytest.fixture(scope="session")
def azurite_oauth() -> Iterator[Azurite]:
    """Opt-in: a second Azurite for the session, over HTTPS, accepting bearer tokens (``oauth=True``)."""
    try:
        with running_azurite(oauth=True) as running:
            yield running
    except AzuriteUnavailable as error:
        pytest.fail(str(error), pytrace=False)


def _tls_files(workspace: Path) -> tuple[Path, list[str]]:
    """A throw-away CA and a certificate for 127.0.0.1 and localhost: the CA file, Azurite's arguments."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = workspace / "ca.pem", workspace / "cert.pem", workspace / "key.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    for position, blob in enumerate(certificate.cert_chain_pems):  # the leaf first, then its issuers
        blob.write_to_path(str(cert_file), append=position > 0)
    return ca_file, ["--cert", str(cert_file), "--key", str(key_file), "--oauth", "basic"]


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
