"""Knobs of one sandbox instance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .clock import SandboxClock

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
