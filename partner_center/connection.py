"""Wiring a client: live Partner Center, or the embedded sandbox through the same MSAL path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp

from .auth import CertificateCredential, LoopbackRouter, MsalTokenProvider, TokenCacheStore, TokenProvider
from .client import LIVE_BASE_URL, PartnerCenterClient
from .graph import LIVE_GRAPH_URL, GraphClient, GraphTokenProvider
from .limits import PartnerLimits
from .retry import RetryPolicy

__all__ = ("LIVE_AUTHORITY_HOST", "SANDBOX_AUTHORITY_HOST", "PartnerCenterConfig", "connect", "connect_graph", "token_provider")

LIVE_AUTHORITY_HOST = "https://login.microsoftonline.com"
# MSAL wants an https authority; this host exists only inside LoopbackRouter (never resolved).
SANDBOX_AUTHORITY_HOST = "https://login.sandbox.offboard.invalid"


@dataclass(frozen=True, slots=True)
class PartnerCenterConfig:
    """Where Partner Center is and who we are to it.

    Attributes:
        base_url: the API root (live, or the sandbox's http://127.0.0.1:port).
        authority_host: Entra ID's host (live), or :data:`SANDBOX_AUTHORITY_HOST`.
        token_endpoint_base: for the sandbox, the http URL that serves the authority host.
        tenant: the partner tenant (id or domain).
        client_id, client_secret, certificate: the web app's credential.
        refresh_token: the app+user refresh token (Secure Application Model).
        token_cache_path: where MSAL's token cache is kept between runs (a private file).
        token_cache_store: where it is kept instead (a Key Vault secret), shared by instances.
        graph_base_url: Microsoft Graph's v1.0 root (live), or the sandbox's ``{base}/graph/v1.0``.
    """

    base_url: str
    tenant: str
    client_id: str
    client_secret: str | None = None
    certificate: CertificateCredential | None = None
    refresh_token: str | None = None
    authority_host: str = LIVE_AUTHORITY_HOST
    token_endpoint_base: str | None = None
    token_cache_path: Path | None = None
    graph_base_url: str = LIVE_GRAPH_URL
    token_cache_store: TokenCacheStore | None = None

    @property
    def authority(self) -> str:
        """MSAL's authority: ``<authority host>/<tenant>``."""
        return f"{self.authority_host.rstrip('/')}/{self.tenant}"

    def router(self) -> LoopbackRouter | None:
        """MSAL's HTTP client for the sandbox (its made-up authority host → the sandbox); None live."""
        if self.token_endpoint_base is None:
            return None
        return LoopbackRouter({self.authority_host: self.token_endpoint_base})

    @classmethod
    def sandbox(
        cls,
        base_url: str,
        *,
        tenant: str = "sandbox",
        client_id: str = "sandbox-app",
        client_secret: str | None = "sandbox-secret",
        refresh_token: str | None = "sandbox-refresh-token",
        certificate: CertificateCredential | None = None,
        token_cache_path: Path | None = None,
        token_cache_store: TokenCacheStore | None = None,
    ) -> PartnerCenterConfig:
        """The embedded sandbox with its demo identities (README: "Demo identities")."""
        return cls(
            base_url=base_url,
            tenant=tenant,
            client_id=client_id,
            client_secret=client_secret,
            certificate=certificate,
            refresh_token=refresh_token,
            authority_host=SANDBOX_AUTHORITY_HOST,
            token_endpoint_base=base_url,
            token_cache_path=token_cache_path,
            graph_base_url=f"{base_url.rstrip('/')}/graph/v1.0",
            token_cache_store=token_cache_store,
        )

    @classmethod
    def live(cls, **fields: object) -> PartnerCenterConfig:
        return cls(base_url=LIVE_BASE_URL, **fields)  # type: ignore[arg-type]


def token_provider(config: PartnerCenterConfig, *, clock: Callable[[], datetime] | None = None) -> MsalTokenProvider:
    """The MSAL token provider ``config`` describes; ``clock`` dates the ``redeemed-at`` tag."""
    routed = config.token_endpoint_base is not None
    return MsalTokenProvider(
        authority_host=config.authority_host,
        tenant=config.tenant,
        client_id=config.client_id,
        client_secret=config.client_secret,
        certificate=config.certificate,
        refresh_token=config.refresh_token,
        cache_path=config.token_cache_path,
        cache_store=config.token_cache_store,
        http_client=config.router(),
        known_authority=not routed,
        clock=clock,
    )


def connect(
    config: PartnerCenterConfig,
    *,
    session: aiohttp.ClientSession,
    limits: PartnerLimits,
    retry: RetryPolicy | None = None,
    tokens: TokenProvider | None = None,
) -> PartnerCenterClient:
    """The Partner Center client; ``tokens`` to share one provider with :func:`connect_graph`."""
    return PartnerCenterClient(
        session=session,
        base_url=config.base_url,
        tokens=tokens or token_provider(config),
        limits=limits,
        retry=retry,
    )


def connect_graph(
    config: PartnerCenterConfig,
    *,
    session: aiohttp.ClientSession,
    limits: PartnerLimits,
    tokens: GraphTokenProvider | None = None,
    retry: RetryPolicy | None = None,
) -> GraphClient:
    """The Graph client of the partner tenant ``config`` names.

    :param tokens: the token provider the Partner Center client uses (``token_provider(config)``,
        built once): one MSAL cache, so the refresh token MSAL rotates is one. A new provider
        when None (fine without a cache file; with one, two providers would each rotate it).
    """
    return GraphClient(
        session=session,
        base_url=config.graph_base_url,
        tokens=tokens or token_provider(config),
        limits=limits,
        retry=retry,
    )
