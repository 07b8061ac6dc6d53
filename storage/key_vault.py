"""Secrets in Azure Key Vault: the latest value of a secret with its version and tags, and new versions.

A thin layer over ``azure.keyvault.secrets.aio.SecretClient`` that says, when Key Vault refuses,
which vault it was and which role the identity lacks, in words an operator can act on:

- reading a secret needs the data-plane role **Key Vault Secrets User**; writing one (the bot writes
  every rotated refresh token back) needs **Key Vault Secrets Officer**
  (https://learn.microsoft.com/azure/key-vault/general/rbac-guide#azure-built-in-roles-for-key-vault-data-plane-operations).

The credential is the caller's: ``azure.identity.aio.DefaultAzureCredential`` in Azure (the
user-assigned managed identity named by ``AZURE_CLIENT_ID``), or any ``AsyncTokenCredential`` (the
sandbox's). Secret values are never logged nor put into an exception.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.transport import AioHttpTransport
from azure.keyvault.secrets.aio import SecretClient

__all__ = (
    "READ_ROLE",
    "WRITE_ROLE",
    "KeyVaultAccessDenied",
    "KeyVaultError",
    "KeyVaultSecret",
    "KeyVaultSecrets",
    "KeyVaultUnavailable",
    "StoredSecret",
)

_log = logging.getLogger(__name__)

# Azure's built-in data-plane roles (the RBAC guide above).
READ_ROLE = "Key Vault Secrets User"
WRITE_ROLE = "Key Vault Secrets Officer"
_RBAC_GUIDE = "https://learn.microsoft.com/azure/key-vault/general/rbac-guide"


class KeyVaultError(Exception):
    """Key Vault did not do what was asked; the message names the vault and the secret.

    Attributes:
        vault_url: the vault.
        secret_name: the secret, when one was involved.
        status: the HTTP status, when Key Vault answered.
    """

    def __init__(self, message: str, *, vault_url: str, secret_name: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.vault_url = vault_url
        self.secret_name = secret_name
        self.status = status


class KeyVaultAccessDenied(KeyVaultError):
    """The identity is unknown to the vault (401) or lacks the role (403): the message says which."""


class KeyVaultUnavailable(KeyVaultError):
    """The vault did not answer (DNS, connection, TLS): worth retrying, or a wrong URL."""


@dataclass(frozen=True, slots=True)
class StoredSecret:
    """One version of a secret.

    Attributes:
        value: the secret's value (never log it).
        version: Key Vault's version id (32 hex digits).
        tags: the version's tags.
        content_type: e.g. ``application/x-pem-file``.
        updated_on: when this version was written.
    """

    value: str
    version: str
    tags: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    updated_on: datetime | None = None

    def __repr__(self) -> str:  # the value is a secret: never in a log line or a traceback
        return f"StoredSecret(version={self.version!r}, tags={dict(self.tags)!r}, content_type={self.content_type!r})"


class KeyVaultSecrets:
    """The secrets of one vault.

    :param vault_url: ``https://<name>.vault.azure.net/`` (https only: Key Vault and its SDK send
        bearer tokens over TLS alone).
    :param credential: gives the vault's tokens; closed by :meth:`close` only if ``owns_credential``.
    :param ca_file: a CA bundle to verify the vault's certificate with instead of the system's
        (the sandbox's Key Vault stand-in only).
    :param routes: ``{"offboard.vault.azure.net": ("127.0.0.1", 8443)}``: connect to that socket
        for that name (the sandbox's stand-in). The name stays the vault's, so TLS verifies it and
        the SDK's check that the challenge's resource matches the vault's host stays on.
    """

    def __init__(
        self,
        vault_url: str,
        credential: AsyncTokenCredential,
        *,
        ca_file: Path | str | None = None,
        owns_credential: bool = True,
        routes: Mapping[str, tuple[str, int]] | None = None,
    ) -> None:
        if urlsplit(vault_url).scheme != "https":
            raise ValueError(f"the Key Vault URL must be https (got {vault_url!r})")
        self.vault_url = vault_url
        self._credential = credential
        self._owns_credential = owns_credential
        options: dict[str, Any] = {}
        if ca_file is not None:
            options["connection_verify"] = str(ca_file)
        if routes:
            options = {"transport": _RoutedTransport(routes, **options)}
        self._client = SecretClient(vault_url=vault_url, credential=credential, **options)

    async def get(self, name: str) -> StoredSecret | None:
        """The latest version of ``name``; None when the vault has no such secret."""
        try:
            bundle = await self._client.get_secret(name)
        except ResourceNotFoundError:
            return None
        except Exception as error:
            raise self._explain(error, name, reading=True) from error
        return StoredSecret(
            value=bundle.value or "",
            version=bundle.properties.version or "",
            tags=dict(bundle.properties.tags or {}),
            content_type=bundle.properties.content_type,
            updated_on=bundle.properties.updated_on,
        )

    async def set(self, name: str, value: str, *, tags: Mapping[str, str] | None = None, content_type: str | None = None) -> str:
        """Write a new version of ``name`` (its tags are this version's alone); its version id."""
        try:
            bundle = await self._client.set_secret(name, value, tags=dict(tags or {}), content_type=content_type)
        except Exception as error:
            raise self._explain(error, name, reading=False) from error
        return bundle.properties.version or ""

    def secret(self, name: str) -> KeyVaultSecret:
        """One secret of this vault, as a store of a single value (the MSAL token cache)."""
        return KeyVaultSecret(self, name)

    async def close(self) -> None:
        await self._client.close()
        if self._owns_credential:
            await self._credential.close()

    async def __aenter__(self) -> KeyVaultSecrets:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _explain(self, error: Exception, name: str, *, reading: bool) -> Exception:
        """The exception to raise for ``error``: which vault, which secret, and what to do."""
        where = f"Key Vault {self.vault_url} (secret {name!r})"
        role = READ_ROLE if reading else WRITE_ROLE
        grant = (
            f"grant the bot's identity (the managed identity named by AZURE_CLIENT_ID, or your own sign-in locally) "
            f"the role {role!r} on this vault ({_RBAC_GUIDE})"
        )
        if isinstance(error, ClientAuthenticationError):
            # 401 from the vault, or no credential could give a token at all.
            return KeyVaultAccessDenied(
                f"{where}: could not authenticate ({_first_line(error)}); check the identity, then {grant}",
                vault_url=self.vault_url,
                secret_name=name,
                status=_status(error),
            )
        if isinstance(error, HttpResponseError) and error.status_code == 403:
            return KeyVaultAccessDenied(
                f"{where}: access denied ({_error_code(error)}); {grant}",
                vault_url=self.vault_url,
                secret_name=name,
                status=403,
            )
        if isinstance(error, (ServiceRequestError, ServiceResponseError)):
            return KeyVaultUnavailable(
                f"{where}: the vault did not answer ({_first_line(error)}); check OFFBOARD_KEY_VAULT_URL and the network",
                vault_url=self.vault_url,
                secret_name=name,
            )
        if isinstance(error, HttpResponseError):
            return KeyVaultError(
                f"{where}: HTTP {error.status_code} ({_error_code(error)})",
                vault_url=self.vault_url,
                secret_name=name,
                status=error.status_code,
            )
        if isinstance(error, ValueError):
            # The SDK's own checks: a challenge whose resource does not match the vault's host.
            return KeyVaultError(f"{where}: {_first_line(error)}", vault_url=self.vault_url, secret_name=name)
        return error


class _Routes(AbstractResolver):
    """aiohttp's resolver with fixed answers for some names (the sandbox's vault)."""

    def __init__(self, routes: Mapping[str, tuple[str, int]]) -> None:
        self._routes = {name.lower(): target for name, target in routes.items()}
        self._default = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        target = self._routes.get(host.lower())
        if target is None:
            return await self._default.resolve(host, port, family)
        address, routed_port = target
        return [
            {
                "hostname": host,
                "host": address,
                "port": routed_port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        await self._default.close()


class _RoutedTransport(AioHttpTransport):  # type: ignore[misc]  # azure-core's aio transport is untyped
    """azure-core's aiohttp transport over a session whose resolver routes the vault's name."""

    def __init__(self, routes: Mapping[str, tuple[str, int]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._routes = routes

    async def open(self) -> None:
        if getattr(self, "session", None) is None:
            # As azure-core makes its own (no cookies, no decompression: the pipeline does that),
            # with the routing resolver; made here, on the first call, where a loop runs.
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=_Routes(self._routes)),
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
            self._session_owner = True
        await super().open()


class KeyVaultSecret:
    """One secret of a vault, read and written whole: ``load()`` → latest, ``save()`` → new version."""

    def __init__(self, vault: KeyVaultSecrets, name: str) -> None:
        self.vault = vault
        self.name = name

    @property
    def description(self) -> str:
        return f"Key Vault {self.vault.vault_url} secret {self.name!r}"

    async def load(self) -> StoredSecret | None:
        return await self.vault.get(self.name)

    async def save(self, value: str, tags: Mapping[str, str]) -> str:
        return await self.vault.set(self.name, value, tags=tags)


def _status(error: Exception) -> int | None:
    return getattr(error, "status_code", None)


def _error_code(error: HttpResponseError) -> str:
    """Key Vault's error code and inner code (``Forbidden/ForbiddenByRbac``): never its message, which
    may quote the caller's object id and is long."""
    code = getattr(error.error, "code", None) if error.error is not None else None
    inner = getattr(getattr(error.error, "innererror", None), "get", None)
    inner_code = inner("code") if callable(inner) else None
    if inner_code is None and error.error is not None:
        inner_error = getattr(error.error, "inner_error", None)
        inner_code = getattr(inner_error, "code", None)
    parts = [part for part in (code, inner_code) if part]
    return "/".join(parts) or f"HTTP {error.status_code}"


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
