"""Access tokens for Partner Center, through MSAL.

Two kinds of credential, as Partner Center's Secure Application Model has them:

- **app-only**: the web app's client secret or certificate (client credentials grant);
- **app+user**: a refresh token obtained once, interactively and with MFA, by an admin agent,
  exchanged for access tokens; MSAL's token cache (persisted to a file) keeps the rotated
  refresh token, so the stored one is only needed the first time.

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
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import msal
import requests

from storage.private_files import PRIVATE_FILE_MODE, tighten, tighten_folder, write_private

from .errors import AuthError, UnavailableError

__all__ = (
    "GRAPH_RESOURCE",
    "GRAPH_SCOPE",
    "PARTNER_CENTER_RESOURCE",
    "CertificateCredential",
    "LoopbackRouter",
    "MsalTokenProvider",
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


class MsalTokenProvider:
    """Tokens from Microsoft Entra ID (or the sandbox's token endpoint) via MSAL.

    :param authority_host: ``https://login.microsoftonline.com`` in live mode.
    :param tenant: the partner's tenant (id or domain).
    :param client_id: the Partner Center web app's client id.
    :param client_secret: its secret; or give ``certificate``.
    :param refresh_token: the app+user refresh token from the consent flow (optional).
    :param cache_path: where MSAL's token cache is persisted (optional; a 0600 file, written
        atomically, in a 0700 folder). A file that is not a token cache is moved aside
        (``<name>.corrupt-<UTC time>``) and the bot starts with an empty cache.
    :param http_client: MSAL's HTTP client (a :class:`LoopbackRouter` for the sandbox).
    :param known_authority: False for the sandbox's made-up host (skips instance discovery).
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
        http_client: requests.Session | None = None,
        known_authority: bool = True,
    ) -> None:
        if not client_secret and not certificate:
            raise ValueError("a client secret or a certificate is required")
        self._refresh_token = refresh_token
        self._authority_host = authority_host.rstrip("/")
        self._tenant = tenant
        self._cache_path = cache_path
        self._cache = msal.SerializableTokenCache()
        if cache_path is not None:
            _load_cache(self._cache, cache_path)
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
        # MSAL is synchronous; one lock keeps concurrent calls from racing to the endpoint.
        self._lock = asyncio.Lock()

    @property
    def has_user_credential(self) -> bool:
        """A refresh token is configured, or one is in the persisted cache."""
        stored = next(iter(self._cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)), None)
        return bool(self._refresh_token) or bool(stored)

    async def access_token(self, *, needs_user: bool) -> str:
        async with self._lock:
            result = await asyncio.to_thread(self._acquire, needs_user)
        if result.get("error") == "unreachable":
            # The token endpoint did not answer: worth retrying, like any outage.
            raise UnavailableError(
                f"Could not reach the token endpoint: {result.get('error_description')}",
                code="unreachable",
            )
        if "access_token" not in result:
            raise AuthError(
                f"Could not get a Partner Center token: {result.get('error_description') or result.get('error')}",
                status=401,
                code=str(result.get("error", "")),
                correlation_id=str(result.get("correlation_id", "")),
            )
        return str(result["access_token"])

    async def graph_token(self, *, tenant: str | None = None) -> str:
        """An app+user token for Microsoft Graph (``https://graph.microsoft.com/.default``).

        :param tenant: a customer's tenant id, for calls into that tenant (GDAP); None (or the
            partner tenant) for the partner's own, such as ``tenantRelationships``.
        :raises AuthError: no app+user credential, or Entra ID refused it.
        :raises UnavailableError: the token endpoint did not answer.
        """
        async with self._lock:
            result = await asyncio.to_thread(self._acquire_graph, tenant)
        if result.get("error") == "unreachable":
            raise UnavailableError(
                f"Could not reach the token endpoint: {result.get('error_description')}",
                code="unreachable",
            )
        if "access_token" not in result:
            raise AuthError(
                f"Could not get a Microsoft Graph token for tenant {tenant or self._tenant}: "
                f"{result.get('error_description') or result.get('error')}",
                status=401,
                code=str(result.get("error", "")),
                correlation_id=str(result.get("correlation_id", "")),
            )
        return str(result["access_token"])

    async def forget(self, token: str) -> None:
        """Drop a cached access token Partner Center refused, so the next call gets a new one."""
        async with self._lock:
            await asyncio.to_thread(self._forget, token)

    def _forget(self, token: str) -> None:
        refused = list(self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={"secret": token}))
        for entry in refused:
            self._cache.remove_at(entry)
        self._persist_cache()

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

    def _acquire_graph(self, tenant: str | None) -> dict[str, Any]:
        try:
            if tenant is None or tenant.lower() == self._tenant.lower():
                app = self._application()
            else:
                app = self._customer_application(tenant)
            result = self._acquire_app_user(app, GRAPH_SCOPE)
        except requests.RequestException as error:
            return {"error": "unreachable", "error_description": str(error)}
        except ValueError as error:
            # MSAL could not read the authority's OpenID configuration (unknown tenant...).
            return {"error": "invalid_authority", "error_description": str(error)}
        self._persist_cache()
        return result or {"error": "no_token", "error_description": "MSAL returned nothing"}

    def _acquire(self, needs_user: bool) -> dict[str, Any]:
        try:
            if needs_user:
                result = self._acquire_app_user(self._application(), _APP_USER_SCOPE)
            else:
                result = self._application().acquire_token_for_client(scopes=[_APP_ONLY_SCOPE])
        except requests.RequestException as error:
            return {"error": "unreachable", "error_description": str(error)}
        except ValueError as error:
            # MSAL could not read the authority's OpenID configuration (unknown tenant...).
            return {"error": "invalid_authority", "error_description": str(error)}
        self._persist_cache()
        return result or {"error": "no_token", "error_description": "MSAL returned nothing"}

    def _acquire_app_user(self, app: msal.ConfidentialClientApplication, scope: str) -> dict[str, Any] | None:
        # The cached account is the admin agent's (home tenant: the partner's); MSAL finds its
        # refresh token for any authority of the same host, so a customer tenant's first token
        # comes from the same, rotated, refresh token.
        accounts = app.get_accounts()
        if accounts:
            result: dict[str, Any] | None = app.acquire_token_silent([scope], account=accounts[0])
            if result and "access_token" in result:
                return result
        if not self._refresh_token:
            return {
                "error": "app_user_not_configured",
                "error_description": "this operation needs an App+User credential (refresh token)",
            }
        refreshed: dict[str, Any] | None = app.acquire_token_by_refresh_token(self._refresh_token, [scope])
        return refreshed

    def _persist_cache(self) -> None:
        if not self._cache_path or not self._cache.has_state_changed:
            return
        write_private(self._cache_path, self._cache.serialize())
        self._cache.has_state_changed = False


def _load_cache(cache: msal.SerializableTokenCache, path: Path) -> None:
    """Fill ``cache`` from the file at ``path``, if there is one, and make that file private.

    A file that is not a token cache (cut short by a crash of an older version, a bad copy) must
    not stop the bot: it is moved aside for a person to look at, and the cache starts empty, so
    the configured refresh token is used again, as on a first start. Its content is never logged:
    it holds tokens.
    """
    try:
        state = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except UnicodeDecodeError as error:
        _move_aside(path, error)
        return
    # A copy restored from a backup or put in place by a deploy step keeps the mode it came with.
    tighten(path, PRIVATE_FILE_MODE)
    tighten_folder(path.parent)
    try:
        cache.deserialize(_checked_cache_state(state))
    except ValueError as error:
        _move_aside(path, error)


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
