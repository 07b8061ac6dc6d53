"""Everything one sandbox instance holds, stored on the app under one typed key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .auth_codes import SignInFlows
from .bursts import ThrottleBursts
from .clock import SandboxClock
from .demo import DEMO
from .faults import FaultInjector
from .graph_seed import load_graph
from .graph_world import GraphWorld
from .idempotency import IdempotencyStore
from .options import SandboxOptions
from .outage import Outage
from .ratelimit import SlidingWindowLimiter
from .refresh_tokens import RefreshTokenStore
from .requestlog import RequestLog
from .seed import load_customers, read_seed
from .spikes import LatencySpikes
from .tokens import IssuedToken, TokenStore
from .vault import SecretVault
from .world import World

__all__ = ("CALLER", "INJECTED", "REPLAYED", "STATE", "SandboxState")


@dataclass(slots=True)
class SandboxState:
    options: SandboxOptions
    clock: SandboxClock
    world: World
    tokens: TokenStore
    log: RequestLog
    faults: FaultInjector
    spikes: LatencySpikes
    bursts: ThrottleBursts
    outage: Outage
    limiter: SlidingWindowLimiter
    idempotency: IdempotencyStore
    seed: dict[str, Any]
    graph: GraphWorld
    refresh_tokens: RefreshTokenStore
    signin: SignInFlows
    vault: SecretVault
    # The partner's Partner Center webhook registration (pc_sandbox/webhooks.py): None = none yet.
    webhook_registration: dict[str, Any] | None = None
    # Whether the demo admin agent is in the partner tenant's AdminAgents group (Graph me/memberOf).
    admin_agent: bool = True

    @classmethod
    def create(cls, options: SandboxOptions) -> SandboxState:
        clock = options.clock or SandboxClock()
        world = World(
            clock=clock,
            lifecycle=options.lifecycle,
            azure_cancel_delay=options.azure_cancel_delay,
            transfer_completion_delay=options.transfer_completion_delay,
        )
        state = cls(
            options=options,
            clock=clock,
            world=world,
            tokens=TokenStore(clock=clock),
            log=RequestLog(),
            faults=FaultInjector(rate=options.fault_rate, after_rate=options.fault_after_rate, random_seed=options.random_seed),
            spikes=LatencySpikes(rate=options.spike_rate, milliseconds=options.spike_ms, random_seed=options.random_seed),
            bursts=ThrottleBursts(every=options.throttle_burst_every, seconds=options.throttle_burst_seconds),
            outage=Outage(),
            limiter=SlidingWindowLimiter(limit=options.rate_limit, window_seconds=options.rate_window_seconds),
            idempotency=IdempotencyStore(),
            seed=read_seed(options.seed_path),
            graph=GraphWorld(
                clock=clock,
                customers=world,
                partner_tenant_id=DEMO.partner_tenant_id,
                termination_step=options.gdap_termination_step,
                permissions=options.graph_permissions,
            ),
            refresh_tokens=RefreshTokenStore(
                clock=clock,
                seeded_value=DEMO.refresh_token,
                seeded_client_id=DEMO.client_id,
                seeded_lapses=options.seeded_refresh_token_lapses,
            ),
            signin=SignInFlows(),
            vault=SecretVault(clock=clock),
        )
        state.reload_world()
        return state

    def reload_world(self) -> None:
        """Load the seed against the clock's current time (relative dates move with it)."""
        now = self.clock.now()
        self.world.replace(load_customers(self.seed, now=now))
        self.graph.replace(*load_graph(self.seed, now=now, customers=self.world.customers))

    def reset(self) -> None:
        """Back to the seed: world (Partner Center and Graph), the app's Graph permissions, request
        log, stored replays, queued faults and spikes, the operator's burst and outage; the seeded
        refresh token valid again (no revocation, no MFA demand); the vault's role assigned again;
        the demo user an admin agent again. The webhook registration survives, as the vault's
        secrets do: it is the partner's configuration, not the world's.

        Tokens, the refresh tokens issued since and the vault's secrets survive, so a running bot
        keeps working across a reset.
        """
        self.reload_world()
        self.graph.permissions = set(self.options.graph_permissions)
        self.log.clear()
        self.idempotency.clear()
        self.faults.clear()
        self.spikes.clear()
        self.bursts.clear()
        self.outage.switch(False)
        self.refresh_tokens.seed()
        self.vault.role_assigned = True
        self.admin_agent = True


STATE = web.AppKey("partner_center_sandbox_state", SandboxState)
# The authenticated caller of the current /v1 request (set by the auth middleware).
CALLER = web.RequestKey("partner_center_sandbox_caller", IssuedToken)
# What the sandbox did to the current /v1 request on purpose ("spike", "5xx-before", ...), and
# whether it was answered from the idempotency store: both go into the request log.
INJECTED = web.RequestKey("partner_center_sandbox_injected", list)
REPLAYED = web.RequestKey("partner_center_sandbox_replayed", bool)
