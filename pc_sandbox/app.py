"""Assemble the sandbox: one aiohttp application with its state and routes."""

from __future__ import annotations

from aiohttp import web

from . import auth, graph, identity_operator, keyvault, operator, signin, v1, webhooks
from .middleware import SANDBOX_MIDDLEWARES
from .options import SandboxOptions
from .state import STATE, SandboxState

__all__ = ("create_sandbox_app",)


def create_sandbox_app(*, options: SandboxOptions | None = None) -> web.Application:
    """Build the embedded Partner Center sandbox as an aiohttp application.

    It serves the ``/v1`` Partner Center subset (and ``/webhooks/v1/registration``), the ``/graph/v1.0`` Microsoft Graph
    subset (GDAP relationships, the admin agent's ``me/memberOf``, customer tenants' contacts, guests and service principals),
    the token endpoint (for MSAL) with its sign-in and MFA pages, an Azure Key Vault
    secrets stand-in (``/secrets``, over TLS) and the ``/_sandbox`` operator controls. Mount it, run it with
    :func:`running_sandbox`, or hand it to pytest-aiohttp's ``aiohttp_client``::

        app = create_sandbox_app(options=SandboxOptions(latency_ms=50))

    :param options: knobs (latency, throttling, faults, seed, clock...);
        ``None`` = defaults.
    """
    options = options or SandboxOptions()
    app = web.Application(middlewares=(*SANDBOX_MIDDLEWARES, graph.graph_gate))
    app[STATE] = SandboxState.create(options)
    app.add_routes(v1.routes)
    app.add_routes(webhooks.routes)
    app.add_routes(graph.routes)
    app.add_routes(operator.routes)
    app.add_routes(identity_operator.routes)
    app.add_routes(auth.routes)
    app.add_routes(signin.routes)
    app.add_routes(keyvault.routes)
    return app
