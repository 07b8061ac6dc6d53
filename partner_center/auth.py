"""Access tokens for Partner Center, through MSAL.

Two kinds of credential, as Partner Center's Secure Application Model has them:

- **app-only**: the web app's client secret or certificate (client credentials grant);
- **app+user**: a refresh token obtained once, interactively and with MFA, by an admin agent
  (``python -m golive consent``), exchanged for access tokens; MSAL's token cache keeps the
  rotated refresh token, so the stored one is only needed the first time.

The token cache lives in a :class:`TokenCacheStore`: a private file for local use
(:class:`FileTokenCacheStore`), or a Key Vault secret (``storage.key_vault.KeyVaultSecret``) that
several instances share. Entra ID rotates the refresh token on every use and lets one lapse after
90 days without use (https://learn.microsoft.com/entra/identity-platform/refresh-tokens), so every
change is written back at once, and an instance reloads the stored cache before it redeems a
refresh token (and once more after ``invalid_grant``) when another instance has written a newer
version: whichever instance used the token last, the others carry on with its successor.

Key Vault has no conditional write for secrets (no If-Match: the last writer wins,
https://learn.microsoft.com/rest/api/keyvault/secrets/set-secret/set-secret has no such header), so
before every write to a shared store the instance reads the stored version: one it did not come
from (another instance wrote since), or one tagged as redeemed later than its own rotation, is
adopted and the pending rotation dropped rather than written over it. The read and the write are
still two calls, so this narrows the race rather than closing it; both refresh tokens stay valid
meanwhile (the sandbox's assumption: Entra does not revoke a redeemed one). A shared store gets only
what the other instances need (the refresh token, the accounts and ID token of the home realm), not
the access tokens of every customer tenant Graph reached: a Key Vault secret holds at most 25 KB
(https://learn.microsoft.com/azure/key-vault/general/service-limits), and real JWTs are ~2 KB each.

Some operations are app+user only (removal, relationship request link, entitlements); the client
asks for ``needs_user=True`` there and gets an app-only token everywhere else when one is
configured.

Microsoft Graph tokens (:meth:`MsalTokenProvider.graph_token`) are app+user too, from the same
refresh token (delegated permissions), for the partner tenant (``tenantRelationships``) or for a
customer's tenant (what GDAP lets the admin agent do there): one MSAL application per authority,
all sharing the one token cache, so the refresh token MSAL rotates is the same for all.

The same MSAL code path serves the sandbox: MSAL insists on an ``https://host/tenant`` authority,
so in sandbox mode the authority is a made-up https host that :class:`LoopbackRouter` (MSAL's
``http_client``) sends to the sandbox's plain-HTTP token endpoint on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import msal
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from storage.private_files import PRIVATE_FILE_MODE, tighten, tighten_folder, write_private

from .errors import AuthError, UnavailableError

__all__ = (
    "GRAPH_RESOURCE",
    "GRAPH_SCOPE",
    "PARTNER_CENTER_RESOURCE",
    "REDEEMED_AT_TAG",
    "CachedSecret",
    "CertificateCredential",
    "ClientCredentialsAzureCredential",
    "FileTokenCacheStore",
    "LoopbackRouter",
    "MsalTokenProvider",
    "TokenCacheStore",
    "TokenProvider",
)

PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com"
_APP_ONLY_SCOPE = f"{PARTNER_CENTER_RESOURCE}/.default"
_APP_USER_SCOPE = f"{PARTNER_CENTER_RESOURCE}/user_impersonation"
GRAPH_RESOURCE = "https://graph.microsoft.com"
# Every delegated permission the app was consented, for the signed-in admin agent
# (https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope).
GRAPH_SCOPE = f"{GRAPH_RESOURCE}/.default"
# The cache holds an admin agent's refresh token (every customer, app+user): this user's alone.
# The stored cache's tags (issue 20's contract): when a refresh token was last redeemed (ISO UTC),
# for the token-health check; who consented, when, and that the sign-in had MFA.
REDEEMED_AT_TAG = "redeemed-at"
# MSAL treats an access token expiring within 5 minutes as expired (msal/application.py,
# _acquire_token_silent_from_cache_and_possibly_refresh_it): the same margin here.
_EXPIRY_MARGIN_SECONDS = 300

_log = logging.getLogger(__name__)


class TokenProvider(Protocol):
    """Gives bearer tokens for Partner Center calls."""

    async def access_token(self, *, needs_user: bool) -> str: ...

    async def forget(self, token: str) -> None:
        """Partner Center refused ``token`` (401): never hand it out again."""
        ...


@dataclass(frozen=True, slots=True)
class CertificateCredential:
    """A client certificate: the PEM private key and the certificate's SHA-1 thumbprint (hex).

    Attributes:
        private_key_pem: the PEM-encoded private key.
        thumbprint: the certificate's SHA-1 thumbprint, hex.
        public_certificate_pem: optional; sent as ``x5c`` for subject-name/issuer auth.
    """

    private_key_pem: str
    thumbprint: str
    public_certificate_pem: str | None = None

    @classmethod
    def from_pem(cls, pem: str) -> CertificateCredential:
        """From one PEM holding the private key and the certificate (as Key Vault keeps a
        certificate's secret, content type ``application/x-pem-file``).

        :raises ValueError: no private key or no certificate in ``pem``.
        """
        blocks = _pem_blocks(pem)
        key = next((block for label, block in blocks if label.endswith("PRIVATE KEY")), None)
        certificate = next((block for label, block in blocks if label == "CERTIFICATE"), None)
        if key is None or certificate is None:
            raise ValueError("the PEM needs the private key and the certificate")
        thumbprint = x509.load_pem_x509_certificate(certificate.encode()).fingerprint(hashes.SHA1()).hex()  # noqa: S303  (Entra's x5t is SHA-1)
        return cls(private_key_pem=key, thumbprint=thumbprint, public_certificate_pem=certificate)

    def for_msal(self) -> dict[str, str]:
        credential = {"private_key": self.private_key_pem, "thumbprint": self.thumbprint}
        if self.public_certificate_pem:
            credential["public_certificate"] = self.public_certificate_pem
        return credential


class LoopbackRouter(requests.Session):
    """MSAL's ``http_client`` for the sandbox: rewrites URL prefixes (https → local http).

    :param routes: ``{"https://login.sandbox.offboard.invalid": "http://127.0.0.1:8787"}``.
    """

    def __init__(self, routes: Mapping[str, str]) -> None:
        super().__init__()
        self.trust_env = False  # loopback only: no proxy, no CA bundle from the environment
        # request() rewrites a body through the private attribute ``.content`` caches it in: fail
        # here, at start-up, rather than serve MSAL unrewritten URLs if a requests release drops it.
        if "_content" not in vars(requests.Response()):
            raise RuntimeError(f"requests {requests.__version__} keeps no Response._content: LoopbackRouter needs review")
        self._routes = dict(routes)

    def public_url(self, url: str) -> str:
        """``url`` as a browser reaches it: the made-up https prefix replaced by its target (the
        sandbox's sign-in page, whose address MSAL builds from the made-up authority)."""
        for prefix, target in self._routes.items():
            if url.startswith(prefix):
                return target + url[len(prefix) :]
        return url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        text = url.decode() if isinstance(url, bytes) else url
        verb = method.decode() if isinstance(method, bytes) else method
        for prefix, target in self._routes.items():
            if text.startswith(prefix):
                response = super().request(verb, target + text[len(prefix) :], *args, **kwargs)
                # Like a reverse proxy's ProxyPassReverse: URLs the server gives back (the OpenID
                # configuration's endpoints) point at the https name MSAL insists on.
                response._content = response.content.replace(target.encode(), prefix.encode())
                return response
        return super().request(verb, text, *args, **kwargs)


class CachedSecret(Protocol):
    """One stored version of the token cache (``storage.key_vault.StoredSecret`` is one)."""

    @property
    def value(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def tags(self) -> Mapping[str, str]: ...


class TokenCacheStore(Protocol):
    """Where MSAL's serialized token cache is kept: read whole, written whole (a new version)."""

    @property
    def description(self) -> str:
        """Where it is, for messages (never its content)."""
        ...

    async def load(self) -> CachedSecret | None:
        """The latest stored cache; None when nothing is stored yet."""
        ...

    async def save(self, value: str, tags: Mapping[str, str]) -> str:
        """Store a new version with these tags; its version."""
        ...


@dataclass(frozen=True, slots=True)
class _FileState:
    value: str
    version: str
    tags: Mapping[str, str] = field(default_factory=dict)


# The file keeps the tags beside MSAL's sections, in a section of its own of the same shape.
_FILE_TAGS_SECTION = "OffboardTags"


class FileTokenCacheStore:
    """The cache in a private file (0600, written atomically, in a 0700 folder): local use.

    A file that is not a token cache (cut short by a crash of an older version, a bad copy) is
    moved aside (``<name>.corrupt-<UTC time>``) and the bot starts with an empty cache.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return f"token cache file {self.path}"

    def load_now(self) -> _FileState | None:
        """:meth:`load`, synchronously (a provider reads its file when it is made)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            state = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            _move_aside(self.path, error)
            return None
        # A copy restored from a backup or put in place by a deploy step keeps the mode it came with.
        tighten(self.path, PRIVATE_FILE_MODE)
        tighten_folder(self.path.parent)
        try:
            sections = json.loads(_checked_cache_state(state))
        except ValueError as error:
            _move_aside(self.path, error)
            return None
        tags = sections.pop(_FILE_TAGS_SECTION, {}).get("tags", {})
        return _FileState(value=json.dumps(sections), version=_digest(raw), tags={str(k): str(v) for k, v in tags.items()})

    async def load(self) -> _FileState | None:
        return await asyncio.to_thread(self.load_now)

    async def save(self, value: str, tags: Mapping[str, str]) -> str:
        sections = json.loads(value)
        if tags:
            sections[_FILE_TAGS_SECTION] = {"tags": dict(tags)}
        content = json.dumps(sections, indent=1)
        await asyncio.to_thread(write_private, self.path, content)
        return _digest(content.encode("utf-8"))


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class MsalTokenProvider:
    """Tokens from Microsoft Entra ID (or the sandbox's token endpoint) via MSAL.

    :param authority_host: ``https://login.microsoftonline.com`` in live mode.
    :param tenant: the partner's tenant (id or domain).
    :param client_id: the Partner Center web app's client id.
    :param client_secret: its secret; or give ``certificate``.
    :param refresh_token: the app+user refresh token (optional: the consent command stores MSAL's
        whole cache instead, with the refresh token in it).
    :param cache_path: a private file for MSAL's token cache (shorthand for
        ``cache_store=FileTokenCacheStore(cache_path)``).
    :param cache_store: where MSAL's token cache is kept (a Key Vault secret in production).
    :param http_client: MSAL's HTTP client (a :class:`LoopbackRouter` for the sandbox).
    :param known_authority: False for the sandbox's made-up host (skips instance discovery).
    :param clock: now, in UTC, for the ``redeemed-at`` tag (the sandbox's clock on the sandbox).
    """

    def __init__(
        self,
        *,
        authority_host: str,
        tenant: str,
        client_id: str,
        client_secret: str | None = None,
        certificate: CertificateCredential | None = None,
        refresh_token: str | None = None,
        cache_path: Path | None = None,
        cache_store: TokenCacheStore | None = None,
        http_client: requests.Session | None = None,
        known_authority: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not client_secret and not certificate:
            raise ValueError("a client secret or a certificate is required")
        self._refresh_token = refresh_token
        self._authority_host = authority_host.rstrip("/")
        self._tenant = tenant
        self._cache = msal.SerializableTokenCache()
        self._store: TokenCacheStore | None = cache_store or (FileTokenCacheStore(cache_path) if cache_path is not None else None)
        self._clock = clock or (lambda: datetime.now(UTC))
        # The stored version this instance's cache came from (or last wrote), and its tags.
        self._version: str | None = None
        self._tags: dict[str, str] = {}  # in memory: redeemed-at moves on when this instance redeems
        self._persisted_tags: dict[str, str] = {}  # what the store holds, as last read or written
        self._persist_error: str | None = None
        self._redeemed_now = self._clock()  # when this instance last redeemed (exact; the tag has seconds)
        self._unsaved_rotation = False  # a refresh token rotated here and not stored yet
        self._loaded = self._store is None
        if isinstance(self._store, FileTokenCacheStore):
            # A local file is read at once, so that has_user_credential knows before the first call.
            self._adopt(self._store.load_now())
            self._loaded = True
        options: dict[str, Any] = {
            "client_credential": certificate.for_msal() if certificate else client_secret,
            "authority": f"{authority_host.rstrip('/')}/{tenant}",
            "token_cache": self._cache,
        }
        if http_client is not None:
            options["http_client"] = http_client
        if not known_authority:
            options.update(validate_authority=False, instance_discovery=False)
        self._client_id = client_id
        self._options = options
        # Built on first use, in a worker thread: MSAL's constructor fetches the authority's
        # OpenID configuration synchronously, which must not block the event loop (the
        # in-process sandbox serves it from that very loop).
        self._app: msal.ConfidentialClientApplication | None = None
        # The customer tenants' applications (Graph through GDAP), by lower-case tenant id.
        self._customer_apps: dict[str, msal.ConfidentialClientApplication] = {}
        # MSAL is synchronous; one lock keeps concurrent calls from racing to the endpoint, and
        # the store's reads and writes from interleaving with them.
        self._lock = asyncio.Lock()

    @property
    def has_user_credential(self) -> bool:
        """A refresh token is configured, or one is in the cache read so far."""
        stored = next(iter(self._cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)), None)
        return bool(self._refresh_token) or bool(stored)

    @property
    def last_redeemed_at(self) -> datetime | None:
        """When a refresh token was last redeemed (by any instance sharing the store, as of the
        last read), from the stored cache's ``redeemed-at`` tag; None if never recorded."""
        return _parse_time(self._tags.get(REDEEMED_AT_TAG))

    @property
    def last_persisted_redeemed_at(self) -> datetime | None:
        """The ``redeemed-at`` tag the store holds, as last read or written by this instance: behind
        :attr:`last_redeemed_at` while a rotation could not be written back (what lapses after 90
        days is the stored token's, if this instance stops)."""
        return _parse_time(self._persisted_tags.get(REDEEMED_AT_TAG))

    @property
    def persist_error(self) -> str | None:
        """Why the last write-back of a rotation failed (the store's words, never a token); None once
        a write succeeded, or another instance's newer cache was adopted instead."""
        return self._persist_error

    @property
    def stored_tags(self) -> Mapping[str, str]:
        """The stored cache's tags as last read or written (``consented-by``, ``mfa``...)."""
        return dict(self._tags)

    async def load(self) -> None:
        """Read the stored cache now (else the first token request does)."""
        async with self._lock:
            await self._ensure_loaded()

    async def exercise(self) -> datetime:
        """Redeem the refresh token now (a new access token and a new refresh token, written back):
        what keeps it from lapsing after 90 days unused. When it happened (the ``redeemed-at`` tag).

        :raises AuthError: Entra ID refused (the message is its own: lapsed, revoked, MFA needed).
        :raises UnavailableError: the token endpoint did not answer.
        """
        async with self._lock:
            await self._ensure_loaded()
            await self._reload_if_changed()
            result = await asyncio.to_thread(self._guarded, self._redeem)
            if result.get("error") == "invalid_grant" and await self._reload_if_changed():
                result = await asyncio.to_thread(self._guarded, self._redeem)
            await self._persist(redeemed="access_token" in result)
        _raise_for(result, "Could not redeem the Partner Center refresh token")
        return self._redeemed_now

    async def access_token(self, *, needs_user: bool) -> str:
        async with self._lock:
            await self._ensure_loaded()
            if needs_user:
                result = await self._app_user(_APP_USER_SCOPE, lambda: self._acquire_app_user(self._application(), _APP_USER_SCOPE))
            else:
                result = await asyncio.to_thread(
                    self._guarded, lambda: self._application().acquire_token_for_client(scopes=[_APP_ONLY_SCOPE])
                )
                await self._persist(redeemed=False)
        _raise_for(result, "Could not get a Partner Center token")
        return str(result["access_token"])

    async def graph_token(self, *, tenant: str | None = None) -> str:
        """An app+user token for Microsoft Graph (``https://graph.microsoft.com/.default``).

        :param tenant: a customer's tenant id, for calls into that tenant (GDAP); None (or the
            partner tenant) for the partner's own, such as ``tenantRelationships``.
        :raises AuthError: no app+user credential, or Entra ID refused it.
        :raises UnavailableError: the token endpoint did not answer.
        """

        def acquire() -> dict[str, Any] | None:
            if tenant is None or tenant.lower() == self._tenant.lower():
                app = self._application()
            else:
                app = self._customer_application(tenant)
            return self._acquire_app_user(app, GRAPH_SCOPE)

        async with self._lock:
            await self._ensure_loaded()
            result = await self._app_user(GRAPH_SCOPE, acquire)
        _raise_for(result, f"Could not get a Microsoft Graph token for tenant {tenant or self._tenant}")
        return str(result["access_token"])

    async def forget(self, token: str) -> None:
        """Drop a cached access token Partner Center refused, so the next call gets a new one."""
        async with self._lock:
            await asyncio.to_thread(self._forget, token)
            await self._persist(redeemed=False)

    def _forget(self, token: str) -> None:
        refused = list(self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={"secret": token}))
        for entry in refused:
            self._cache.remove_at(entry)

    async def _app_user(self, scope: str, acquire: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """``acquire`` (MSAL, in a worker thread), with the shared store kept in step: before a
        refresh token is redeemed, and once more after Entra ID refused one (``invalid_grant``:
        lapsed or revoked, while another instance may have stored its successor). Caller holds the lock."""
        if self._store is not None and not await asyncio.to_thread(self._holds_valid_access_token, scope):
            await self._reload_if_changed()
        result = await asyncio.to_thread(self._guarded, acquire)
        if result.get("error") == "invalid_grant" and self._store is not None and await self._reload_if_changed():
            result = await asyncio.to_thread(self._guarded, acquire)
        await self._persist(redeemed=result.get("token_source") == "identity_provider")
        return result

    def _holds_valid_access_token(self, scope: str) -> bool:
        """MSAL will answer from memory (no refresh token redeemed): an access token for ``scope``
        is cached and neither expires within MSAL's margin nor is due for MSAL's early refresh."""
        now = time.time()
        for entry in self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, target=[scope]):
            if entry.get("client_id") != self._client_id:
                continue
            expires_on = int(entry.get("expires_on") or 0)
            refresh_on = int(entry.get("refresh_on") or expires_on)
            if expires_on - now > _EXPIRY_MARGIN_SECONDS and refresh_on > now:
                return True
        return False

    async def _ensure_loaded(self) -> None:
        if not self._loaded and self._store is not None:
            # The first read must succeed: without it there is no app+user credential at all.
            stored = await self._store.load()
            if stored is not None:
                self._adopt(stored)
        self._loaded = True

    async def _reload_if_changed(self) -> bool:
        """Read the stored cache; adopt it if its version is not the one this instance holds.

        A store that cannot be read now (the vault unreachable, a role removed) is logged and the
        cache in memory used: its refresh token is as good as it was a moment ago."""
        if self._store is None:
            return False
        try:
            stored = await self._store.load()
        except Exception as error:
            if isinstance(self._store, FileTokenCacheStore):
                raise
            _log.warning("could not read the MSAL token cache from %s, using the one in memory: %s", self._store.description, error)
            return False
        if stored is None or stored.version == self._version:
            return False
        self._adopt(stored)
        return True

    def _adopt(self, stored: CachedSecret | None) -> None:
        if stored is None:
            return
        try:
            self._cache.deserialize(_checked_cache_state(stored.value))
        except ValueError as error:
            # A Key Vault secret that is not a token cache (written by hand?): left where it is for
            # a person to look at; the configured refresh token, if any, is used meanwhile.
            _log.warning(
                "MSAL token cache in %s is not a token cache (%s); using an empty cache",
                self._store.description if self._store else "the store",
                type(error).__name__,
            )
        self._cache.has_state_changed = False
        self._unsaved_rotation = False  # what another instance stored is newer than ours
        self._persist_error = None  # nothing of ours is waiting to be written any more
        self._version = stored.version
        self._tags = dict(stored.tags)
        self._persisted_tags = dict(stored.tags)

    async def _persist(self, *, redeemed: bool) -> None:
        """Write the cache back if MSAL changed it.

        The private file gets every change (a rotated refresh token, a new or dropped access
        token). A shared store (Key Vault) gets the rotations only: a version written for an
        access token alone could carry an older refresh token over one another instance has just
        stored, and access tokens are cheap to get again.
        """
        if redeemed:
            self._redeemed_now = self._clock()
            self._tags[REDEEMED_AT_TAG] = self._redeemed_now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            self._unsaved_rotation = True
        if self._store is None or not self._cache.has_state_changed:
            return
        shared = not isinstance(self._store, FileTokenCacheStore)
        if not self._unsaved_rotation and shared:
            return
        if shared and not await self._still_ours():
            return
        state = self._cache.serialize()
        if shared:
            state = _shared_state(state, home_realms={self._tenant.lower()})
        self._cache.has_state_changed = False
        try:
            self._version = await self._store.save(state, self._tags)
        except Exception as error:
            # The new refresh token is in memory and works; the stored one still does too (Entra
            # does not revoke it on redemption — assumption, see the sandbox). Written next time,
            # if the store still holds the version it came from.
            self._cache.has_state_changed = True
            self._persist_error = f"could not write the rotated token cache to {self._store.description}: {_first_line(error)}"
            if not shared:
                raise
            _log.exception("could not write the rotated MSAL token cache to %s; trying again on the next change", self._store.description)
            return
        self._unsaved_rotation = False
        self._persist_error = None
        self._persisted_tags = dict(self._tags)

    async def _still_ours(self) -> bool:
        """Before a write to the shared store: True when it still holds the version this instance's
        cache came from (or nothing yet) and no later redemption. Otherwise another instance wrote
        since: its cache is adopted, this instance's pending rotation dropped (False)."""
        assert self._store is not None
        try:
            stored = await self._store.load()
        except Exception as error:  # noqa: BLE001  (any store's failure: the write waits, the call goes on)
            # Unreadable now: never write blind over what may be a newer version. Tried again next time.
            self._persist_error = f"could not read {self._store.description} before writing the rotated token cache: {_first_line(error)}"
            _log.warning(
                "could not read %s before writing the rotated MSAL token cache; trying again on the next change: %s",
                self._store.description,
                error,
            )
            return False
        if stored is None:
            return True
        theirs, ours = _parse_time(stored.tags.get(REDEEMED_AT_TAG)), _parse_time(self._tags.get(REDEEMED_AT_TAG))
        newer = theirs is not None and (ours is None or theirs > ours)
        if stored.version == self._version and not newer:
            return True
        _log.info("%s holds a newer token cache than this instance's pending rotation: adopting it", self._store.description)
        self._adopt(stored)
        return False

    def _guarded(self, acquire: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """``acquire()`` with MSAL's failures as results (runs in a worker thread)."""
        try:
            result = acquire()
        except requests.RequestException as error:
            return {"error": "unreachable", "error_description": str(error)}
        except ValueError as error:
            # MSAL could not read the authority's OpenID configuration (unknown tenant...).
            return {"error": "invalid_authority", "error_description": str(error)}
        return result or {"error": "no_token", "error_description": "MSAL returned nothing"}

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = msal.ConfidentialClientApplication(self._client_id, **self._options)
        return self._app

    def _customer_application(self, tenant: str) -> msal.ConfidentialClientApplication:
        """The MSAL application of a customer's authority, sharing the token cache."""
        key = tenant.lower()
        if key not in self._customer_apps:
            options = {**self._options, "authority": f"{self._authority_host}/{tenant}"}
            self._customer_apps[key] = msal.ConfidentialClientApplication(self._client_id, **options)
        return self._customer_apps[key]

    def _redeem(self) -> dict[str, Any] | None:
        app = self._application()
        accounts = app.get_accounts()
        result: dict[str, Any] | None
        if accounts:
            result = app.acquire_token_silent_with_error([_APP_USER_SCOPE], account=accounts[0], force_refresh=True)
        elif self._refresh_token:
            result = app.acquire_token_by_refresh_token(self._refresh_token, [_APP_USER_SCOPE])
        else:
            result = _NO_USER_CREDENTIAL
        return result

    def _acquire_app_user(self, app: msal.ConfidentialClientApplication, scope: str) -> dict[str, Any] | None:
        # The cached account is the admin agent's (home tenant: the partner's); MSAL finds its
        # refresh token for any authority of the same host, so a customer tenant's first token
        # comes from the same, rotated, refresh token.
        accounts = app.get_accounts()
        refused: dict[str, Any] | None = None
        if accounts:
            result: dict[str, Any] | None = app.acquire_token_silent_with_error([scope], account=accounts[0])
            if result and "access_token" in result:
                return result
            refused = result
        if not self._refresh_token:
            # Entra's own words when it refused the cached one (lapsed: AADSTS700082).
            return refused or _NO_USER_CREDENTIAL
        refreshed: dict[str, Any] | None = app.acquire_token_by_refresh_token(self._refresh_token, [scope])
        return refreshed


_NO_USER_CREDENTIAL: dict[str, Any] = {
    "error": "app_user_not_configured",
    "error_description": "this operation needs an App+User credential (run `python -m golive consent`, or set a refresh token)",
}


def _raise_for(result: dict[str, Any], what: str) -> None:
    if result.get("error") == "unreachable":
        # The token endpoint did not answer: worth retrying, like any outage.
        raise UnavailableError(f"Could not reach the token endpoint: {result.get('error_description')}", code="unreachable")
    if "access_token" not in result:
        raise AuthError(
            f"{what}: {result.get('error_description') or result.get('error')}",
            status=401,
            code=str(result.get("error", "")),
            correlation_id=str(result.get("correlation_id", "")),
        )


def _shared_state(state: str, *, home_realms: set[str]) -> str:
    """MSAL's serialized cache cut to what another instance needs: the refresh tokens, app
    metadata, and the accounts and ID tokens of the home realm (the account's home tenant, or the
    authority's tenant as the provider names it); no access tokens (cheap to get again, and the
    bulk: one per scope and customer tenant)."""
    sections: dict[str, Any] = json.loads(state)
    sections.pop("AccessToken", None)
    refresh_tokens: dict[str, Any] = sections.get("RefreshToken", {})
    realms = set(home_realms)
    for entry in refresh_tokens.values():
        _, _, home_tenant = str(entry.get("home_account_id", "")).partition(".")
        if home_tenant:
            realms.add(home_tenant.lower())
    for section in ("Account", "IdToken"):
        entries: dict[str, Any] = sections.get(section, {})
        sections[section] = {key: entry for key, entry in entries.items() if str(entry.get("realm", "")).lower() in realms}
    return json.dumps(sections)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _pem_blocks(pem: str) -> list[tuple[str, str]]:
    """``[(label, block)]`` of each ``-----BEGIN label----- ... -----END label-----`` in ``pem``."""
    blocks: list[tuple[str, str]] = []
    lines: list[str] = []
    label = ""
    for line in pem.splitlines():
        if line.startswith("-----BEGIN ") and line.endswith("-----"):
            label, lines = line[len("-----BEGIN ") : -5], [line]
        elif label:
            lines.append(line)
            if line == f"-----END {label}-----":
                blocks.append((label, "\n".join(lines) + "\n"))
                label = ""
    return blocks


class ClientCredentialsAzureCredential:
    """An ``azure.core`` async credential from MSAL's client-credentials grant: the Azure SDK's
    clients (Key Vault) on the sandbox, whose Entra stand-in is reached through :class:`LoopbackRouter`.
    In Azure the bot uses ``azure.identity.aio.DefaultAzureCredential`` (its managed identity) instead.

    Every call asks the token endpoint: the SDK's policy keeps the token it got until it expires,
    and asks again only after the vault refused it (401), when an answer from MSAL's cache would be
    the refused token again (the sandbox's clock may have run past its expiry).
    """

    def __init__(
        self,
        *,
        authority_host: str,
        tenant: str,
        client_id: str,
        client_secret: str | None = None,
        certificate: CertificateCredential | None = None,
        http_client: requests.Session | None = None,
        known_authority: bool = True,
    ) -> None:
        options: dict[str, Any] = {
            "client_credential": certificate.for_msal() if certificate else client_secret,
            "authority": f"{authority_host.rstrip('/')}/{tenant}",
        }
        if http_client is not None:
            options["http_client"] = http_client
        if not known_authority:
            options.update(validate_authority=False, instance_discovery=False)
        self._client_id = client_id
        self._options = options
        self._cache = msal.TokenCache()
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = asyncio.Lock()

    async def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, enable_cae: bool = False, **kwargs: Any
    ) -> AccessToken:
        async with self._lock:
            result = await asyncio.to_thread(self._acquire, list(scopes))
        if "access_token" not in result:
            raise ClientAuthenticationError(
                message=f"client credentials refused for {' '.join(scopes)}: {result.get('error_description') or result.get('error')}"
            )
        return AccessToken(str(result["access_token"]), int(time.time()) + int(result.get("expires_in", 3600)))

    def _acquire(self, scopes: list[str]) -> dict[str, Any]:
        try:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(self._client_id, token_cache=self._cache, **self._options)
            for entry in list(self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                self._cache.remove_at(entry)
            result: dict[str, Any] | None = self._app.acquire_token_for_client(scopes=scopes)
        except (requests.RequestException, ValueError) as error:
            return {"error": "unreachable", "error_description": str(error)}
        return result or {"error": "no_token"}

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> ClientCredentialsAzureCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def _checked_cache_state(state: str) -> str:
    """``state`` if it has the shape of MSAL's serialized cache: ``{credential type: {key: entry}}``.

    MSAL's ``deserialize`` takes any JSON; one of another shape would only fail later, at the first
    token request, and on every one after it.

    :raises ValueError: for text that is not JSON, or JSON of another shape.
    """
    sections = json.loads(state)
    if not isinstance(sections, dict) or not all(
        isinstance(section, dict) and all(isinstance(entry, dict) for entry in section.values()) for section in sections.values()
    ):
        raise ValueError("not the shape of an MSAL token cache")
    return state


def _move_aside(path: Path, error: Exception) -> None:
    """Rename the unreadable cache to ``<name>.corrupt-<UTC time>`` (still 0600: it may hold tokens)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        os.replace(path, aside)
        tighten(aside, PRIVATE_FILE_MODE)
    except OSError as failure:
        # The next write replaces it anyway; starting matters more than keeping the copy.
        _log.warning(
            "MSAL token cache %s is not a token cache (%s) and could not be moved aside (%s); starting with an empty cache",
            path,
            type(error).__name__,
            type(failure).__name__,
        )
        return
    _log.warning(
        "MSAL token cache %s is not a token cache (%s); moved aside to %s, starting with an empty cache",
        path,
        type(error).__name__,
        aside,
    )
