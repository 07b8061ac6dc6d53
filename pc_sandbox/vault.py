"""The Key Vault stand-in's secrets: names, versions, tags and attributes (``keyvault.py`` serves them).

Facts from https://learn.microsoft.com/azure/key-vault/secrets/about-secrets and the REST
reference (https://learn.microsoft.com/rest/api/keyvault/secrets): every set creates a new
version (32 hex characters) and the name without a version reads the latest; names are 1-127
characters of letters, digits and dashes, and are case-insensitive; a value is at most 25 KB
(25,600 bytes here: assumption on the exact count); ``created``/``updated`` are Unix seconds;
a soft-delete-enabled vault reports ``recoveryLevel`` ``Recoverable+Purgeable`` with 90
``recoverableDays`` (the defaults of a new vault).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .clock import SandboxClock

__all__ = ("MAX_VALUE_BYTES", "SecretVault", "SecretVersion", "valid_secret_name")

MAX_VALUE_BYTES = 25 * 1024
_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def valid_secret_name(name: str) -> bool:
    return bool(_NAME.match(name))


@dataclass(slots=True)
class SecretVersion:
    name: str  # as first set (Key Vault keeps the first spelling)
    version: str
    value: str
    content_type: str | None
    tags: dict[str, str]
    enabled: bool
    not_before: int | None
    expires: int | None
    created: int
    updated: int

    def bundle(self, vault_url: str, *, with_value: bool) -> dict[str, Any]:
        """A ``SecretBundle`` (with the value) or a ``SecretItem`` (without)."""
        attributes: dict[str, Any] = {
            "enabled": self.enabled,
            "created": self.created,
            "updated": self.updated,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        }
        if self.not_before is not None:
            attributes["nbf"] = self.not_before
        if self.expires is not None:
            attributes["exp"] = self.expires
        body: dict[str, Any] = {"id": f"{vault_url}/secrets/{self.name}/{self.version}", "attributes": attributes}
        if with_value:
            body["value"] = self.value
        if self.content_type is not None:
            body["contentType"] = self.content_type
        body["tags"] = dict(self.tags)
        return body


@dataclass(slots=True)
class _Secret:
    versions: list[SecretVersion] = field(default_factory=list)  # oldest first


class SecretVault:
    """One vault's secrets, and whether the caller's identity holds a secrets role on it.

    ``role_assigned`` stands for an Azure RBAC assignment such as "Key Vault Secrets Officer" to
    the bot's managed identity (``/_sandbox/keyvault/role`` switches it).
    """

    def __init__(self, *, clock: SandboxClock) -> None:
        self._clock = clock
        self._secrets: dict[str, _Secret] = {}
        self.role_assigned = True

    def set(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: dict[str, str],
        enabled: bool,
        not_before: int | None,
        expires: int | None,
    ) -> SecretVersion:
        now = int(self._clock.now().timestamp())
        secret = self._secrets.setdefault(name.lower(), _Secret())
        version = SecretVersion(
            name=secret.versions[0].name if secret.versions else name,
            version=uuid.uuid4().hex,
            value=value,
            content_type=content_type,
            tags=dict(tags),
            enabled=enabled,
            not_before=not_before,
            expires=expires,
            created=now,
            updated=now,
        )
        secret.versions.append(version)
        return version

    def get(self, name: str, version: str | None = None) -> SecretVersion | None:
        secret = self._secrets.get(name.lower())
        if secret is None or not secret.versions:
            return None
        if not version:
            return secret.versions[-1]
        return next((item for item in secret.versions if item.version == version.lower()), None)

    def versions(self, name: str) -> list[SecretVersion]:
        secret = self._secrets.get(name.lower())
        return list(secret.versions) if secret is not None else []

    def names(self) -> list[str]:
        return sorted(secret.versions[0].name for secret in self._secrets.values() if secret.versions)
