"""Partner Center access: the async REST client, its models and errors, and the blocker rules.

Everything Offboard knows about Partner Center lives in this package; nothing here imports
botbuilder, nor the sandbox: the embedded simulator is its own package, ``pc_sandbox``.
"""

from __future__ import annotations

from .actions import carry_out
from .auth import CertificateCredential, LoopbackRouter, MsalTokenProvider, TokenProvider
from .blockers import (
    Action,
    Blocker,
    BlockerKind,
    CustomerSnapshot,
    RemovalPlan,
    classify,
)
from .client import PartnerCenterClient, RemovalResult
from .connection import PartnerCenterConfig, connect, token_provider
from .customers import resolve_customers
from .errors import (
    AuthError,
    CancellationWindowPassedError,
    ConflictError,
    NoRelationshipError,
    NotFoundError,
    PartnerCenterError,
    ThrottledError,
    UnavailableError,
    is_unavailable,
)
from .gathering import gather_snapshot, plan_removal
from .limits import LimitsRegistry, PartnerLimits, RateSettings
from .models import Customer, Relationship, Subscription, SubscriptionStatus
from .retry import RetryPolicy

__all__ = (
    "Action",
    "AuthError",
    "Blocker",
    "BlockerKind",
    "CancellationWindowPassedError",
    "CertificateCredential",
    "ConflictError",
    "Customer",
    "CustomerSnapshot",
    "LimitsRegistry",
    "LoopbackRouter",
    "MsalTokenProvider",
    "NoRelationshipError",
    "NotFoundError",
    "PartnerCenterClient",
    "PartnerCenterConfig",
    "PartnerCenterError",
    "PartnerLimits",
    "RateSettings",
    "Relationship",
    "RemovalPlan",
    "RemovalResult",
    "RetryPolicy",
    "Subscription",
    "SubscriptionStatus",
    "ThrottledError",
    "TokenProvider",
    "UnavailableError",
    "carry_out",
    "classify",
    "connect",
    "gather_snapshot",
    "is_unavailable",
    "plan_removal",
    "resolve_customers",
    "token_provider",
)
