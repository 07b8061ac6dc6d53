"""The Bot Framework adapter Offboard runs on, built in one place (app.py and the turns bench's
echo bot both use it, so the bench compares bots, not adapters).

botbuilder 4.17.1 builds two msrest clients on every turn (the connector that replies, the user
token client) and one more for every proactive message; each builds an msrest configuration
(a ConfigParser), a requests session with its own connection pool, and msrest's
``ClientRetryPolicy``, whose constructor tests 999 status codes for membership in a 502-item
*list*. Measured with py-spy (``python -m bench turns --profile DIR``), that was 40-60 % of a
busy bot's CPU, and every reply opened a new TCP connection. Two remedies, both here:

- the retry policy's list becomes a frozenset (msrest is no longer maintained; the patch is in
  :mod:`bot._patches`): the policy it builds is the same, built in microseconds;
- connector and user-token clients are kept per (app id, service URL, audience) and reused, so
  replies reuse their HTTP connections. Reuse is safe: the clients hold no per-turn state, and
  their credentials fetch and renew the bearer token on each request.

The Bot Framework's signing keys are read through :mod:`bot.signing_keys` (patched in by
:mod:`bot._patches` too): the SDK's own fetch blocks the event loop without a timeout and misses
keys published since. The patches are applied here, when the adapter is built, so a bot never
runs on an SDK they were not checked against.

Every connector client is made here, so this is also where the service-URL fence stands
(:mod:`bot.service_urls`): a reply, a proactive message or a roster read to a service URL that
is not allowed is refused before a connection is opened or a token handed over.
"""

from __future__ import annotations

from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity, ConnectorFactory, UserTokenClient
from botframework.connector.auth.authentication_constants import AuthenticationConstants

from . import _patches
from .service_urls import ServiceUrlPolicy

__all__ = ("create_adapter",)


class _ReusedConnectors(ConnectorFactory):
    """Hands out one connector client per (app id, service URL, audience) for the process."""

    def __init__(
        self, inner: ConnectorFactory, app_id: str, clients: dict[tuple[str, str, str], ConnectorClient], fence: ServiceUrlPolicy
    ) -> None:
        self._inner, self._app_id, self._clients, self._fence = inner, app_id, clients, fence

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        self._fence.check(service_url)
        key = (self._app_id, service_url, audience or "")
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = await self._inner.create(service_url, audience)
        return client


class _ReusingAuthentication(ConfigurationBotFrameworkAuthentication):
    def __init__(self, configuration: Any, fence: ServiceUrlPolicy) -> None:
        super().__init__(configuration)
        self._fence = fence
        self._connectors: dict[tuple[str, str, str], ConnectorClient] = {}
        self._user_token_clients: dict[str, UserTokenClient] = {}

    def _reusing(self, factory: ConnectorFactory | None, claims_identity: ClaimsIdentity | None) -> ConnectorFactory | None:
        if factory is None:
            return None
        return _ReusedConnectors(factory, _app_id(claims_identity), self._connectors, self._fence)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        result.connector_factory = self._reusing(result.connector_factory, result.claims_identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._reusing(super().create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        client = self._user_token_clients.get(key)
        if client is None:
            client = self._user_token_clients[key] = await super().create_user_token_client(claims_identity)
        return client


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    claims = (claims_identity.claims if claims_identity else None) or {}
    return str(claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(AuthenticationConstants.APP_ID_CLAIM) or "")


def create_adapter(configuration: Any, *, service_urls: ServiceUrlPolicy | None = None) -> CloudAdapter:
    """A CloudAdapter authenticating with ``configuration`` (the attribute bag of
    :meth:`Settings.bot_framework_configuration`), sending only where ``service_urls`` allows
    (default: anywhere, as on the sandbox)."""
    _patches.apply()
    return CloudAdapter(_ReusingAuthentication(configuration, service_urls or ServiceUrlPolicy(None)))
