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
        seed_path: JSON seed file; ``None`` = the packaged ``seed.json``.
        random_seed: makes random fault injection reproducible.
        clock: the clock to use; ``None`` = a fresh :class:`SandboxClock` at real now.
        client_certificates: client id -> PEM public certificate accepted for
            certificate credentials (``client_assertion`` JWTs).
    """

    latency_ms: float = 0
    rate_limit: int = 0
    rate_window_seconds: float = 60
    fault_rate: float = 0.0
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
