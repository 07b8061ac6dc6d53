"""Knobs of one sandbox instance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from .clock import SandboxClock
from .graph_access import DEFAULT_GRAPH_PERMISSIONS
from .subscription_rules import SubscriptionLifecycle

__all__ = ("SandboxOptions",)


@dataclass(frozen=True, kw_only=True)
class SandboxOptions:
    """How a sandbox instance behaves; every field has a harmless default.

    Attributes:
        latency_ms: sleep added to every ``/v1`` request (simulates a far service).
        rate_limit: requests allowed per window per (partner tenant, resource
            family: customers, subscriptions, orders, entitlements); 0 = unlimited.
        rate_window_seconds: length of the sliding rate window (real time).
        fault_rate: fraction of ``/v1`` requests answered with an injected 5xx
            before any processing.
        fault_after_rate: fraction of ``/v1`` requests answered with an injected
            5xx *after* processing: the write happened, only the answer is lost.
        throttle_burst_every: every this many seconds (real time, from the
            start) a burst of 429s begins; 0 = no bursts.
        throttle_burst_seconds: how long each burst lasts: every ``/v1``
            request in it gets 429 with ``Retry-After`` (the seconds left).
        spike_rate: fraction of ``/v1`` requests delayed by ``spike_ms`` on
            top of ``latency_ms`` (a slow moment of the service).
        spike_ms: the length of a latency spike.
        seed_path: JSON seed file; ``None`` = the packaged ``seed.json``.
        random_seed: makes random faults and spikes reproducible (the request
            order of a concurrent client is not, so neither is which request
            gets which).
        clock: the clock to use; ``None`` = a fresh :class:`SandboxClock` at real now.
        client_certificates: client id -> PEM public certificate accepted for
            certificate credentials (``client_assertion`` JWTs).
        lifecycle: subscription lifecycle timings (renewal processing delay during which
            updates answer 409; expired -> disabled -> deleted; legacy suspended -> deleted):
            :class:`~.subscription_rules.SubscriptionLifecycle`, defaults as documented.
        removal_assumed_blockers: also refuse the removal for the preconditions Microsoft does
            *not* document for the API (assumptions, from the portal page and the sandbox's own
            choices: see ``blockers.py``); ``False`` = only what the documented pre-check looks
            at (active subscriptions, reserved instances).
        removal_patch_answer: what ``PATCH /v1/customers/{id}`` answers: ``"200"`` (the
            documented removal), ``"400-3000"`` or ``"403-20002"`` (refused, nothing changes).
        removed_customer_read: what ``GET /v1/customers/{id}`` answers for a customer whose
            relationship is none (undocumented, ../shared/reference/fidelity-audit.md §5): ``"200"`` (body showing
            ``none``), ``"403"`` (403/20002) or ``"404"``.
        delegated_access_revoked: ``GET /v1/customers/{id}`` answers 403/20002 even while the
            reseller relationship exists, as for a customer that revoked DAP/GDAP (20002 "can be
            caused by … the customer revoking the delegated admin privileges",
            microsoft/Partner-Smart-Office#12).
        mfa_enforced: refuse app+user tokens without an MFA claim with 401/900421 (Partner
            Center's MFA enforcement for app+user calls, announced for 2026).
        user_mfa: whether the user's sign-in had MFA: ``amr`` then contains ``"mfa"``. For the
            seeded refresh token it is read at each redemption; on the sandbox's sign-in page
            (``/authorize``) ``False`` means no MFA page is shown (``amr`` = ``["pwd"]``).
        seeded_refresh_token_lapses: the seeded ``DEMO.refresh_token`` (and the tokens it rotates
            into) lapse after 90 days without use, like tokens from a real sign-in; ``False`` (the
            default) keeps it working however far a test moves the clock (``refresh_tokens.py``).
        azure_cancel_delay: on the sandbox clock, how long a cancelled Azure subscription of
            an Azure plan keeps reading ``active`` before it reads ``inactive`` ("Expect about
            10 mins for the status to be reflected (that is, active to inactive)",
            learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription).
        graph_permissions: the partner app's delegated Microsoft Graph permissions (a real token's
            ``scp``); a Graph call needing one it lacks answers 403 ``Authorization_RequestDenied``.
            Changed at run time with ``/_sandbox/graph/permissions`` (a reset restores these).
        graph_page_size: items per page of the Graph lists before ``@odata.nextLink`` (``$top``
            overrides it); Graph's own page sizes for these lists are undocumented.
        gdap_termination_step: on the sandbox clock, how long a terminated GDAP relationship
            reads ``terminationRequested``, then ``terminating``, before ``terminated``
            (ASSUMPTION: Microsoft gives no timing).
        transfer_completion_delay: on the sandbox clock, how long an accepted transfer stays
            "Active" before it reads "Completed" (ASSUMPTION: "a few minutes"; transfers.py).
    """

    latency_ms: float = 0
    rate_limit: int = 0
    rate_window_seconds: float = 60
    fault_rate: float = 0.0
    fault_after_rate: float = 0.0
    throttle_burst_every: float = 0
    throttle_burst_seconds: float = 0
    spike_rate: float = 0.0
    spike_ms: float = 2000
    seed_path: str | None = None
    random_seed: int = 0
    clock: SandboxClock | None = None
    client_certificates: Mapping[str, str] = field(default_factory=dict)
    lifecycle: SubscriptionLifecycle = field(default_factory=SubscriptionLifecycle)
    removal_assumed_blockers: bool = True
    removal_patch_answer: str = "200"
    removed_customer_read: str = "200"
    delegated_access_revoked: bool = False
    mfa_enforced: bool = False
    user_mfa: bool = True
    seeded_refresh_token_lapses: bool = False
    azure_cancel_delay: timedelta = timedelta(minutes=10)
    graph_permissions: frozenset[str] = DEFAULT_GRAPH_PERMISSIONS
    graph_page_size: int = 100
    gdap_termination_step: timedelta = timedelta(minutes=5)
    transfer_completion_delay: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.rate_limit < 0:
            raise ValueError("rate_limit must be >= 0")
        if self.rate_window_seconds <= 0:
            raise ValueError("rate_window_seconds must be > 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if not 0.0 <= self.fault_after_rate <= 1.0:
            raise ValueError("fault_after_rate must be between 0 and 1")
        if self.throttle_burst_every < 0 or self.throttle_burst_seconds < 0:
            raise ValueError("throttle_burst_every and throttle_burst_seconds must be >= 0")
        if self.throttle_burst_every > 0 and not 0 < self.throttle_burst_seconds < self.throttle_burst_every:
            raise ValueError("throttle_burst_seconds must be > 0 and shorter than throttle_burst_every")
        if not 0.0 <= self.spike_rate <= 1.0:
            raise ValueError("spike_rate must be between 0 and 1")
        if self.spike_ms < 0:
            raise ValueError("spike_ms must be >= 0")
        if self.azure_cancel_delay < timedelta(0):
            raise ValueError("azure_cancel_delay must be >= 0")
        if self.graph_page_size < 1:
            raise ValueError("graph_page_size must be >= 1")
        if self.gdap_termination_step < timedelta(0):
            raise ValueError("gdap_termination_step must be >= 0")
        if self.transfer_completion_delay < timedelta(0):
            raise ValueError("transfer_completion_delay must be >= 0")
        if self.removal_patch_answer not in ("200", "400-3000", "403-20002"):
            raise ValueError("removal_patch_answer must be 200, 400-3000 or 403-20002")
        if self.removed_customer_read not in ("200", "403", "404"):
            raise ValueError("removed_customer_read must be 200, 403 or 404")
