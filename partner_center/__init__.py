"""Partner Center access: the async REST client, its models and errors, and the blocker rules.

Everything Offboard knows about Partner Center lives in this package; nothing here imports
botbuilder, nor the sandbox: the embedded simulator is its own package, ``pc_sandbox``.
"""

from __future__ import annotations

from .actions import carry_out
from .auth import (
    CertificateCredential,
    ClientCredentialsAzureCredential,
    FileTokenCacheStore,
    LoopbackRouter,
    MsalTokenProvider,
    TokenCacheStore,
    TokenProvider,
)
from .blockers import (
    Action,
    Blocker,
    BlockerKind,
    CustomerSnapshot,
    RemovalPlan,
    classify,
)
from .client import DapRemoval, PartnerCenterClient, RemovalResult
from .connection import PartnerCenterConfig, connect, connect_graph, token_provider
from .customers import resolve_customers
from .errors import (
    AuthError,
    CancellationWindowPassedError,
    ConflictError,
    GraphPermissionError,
    NoRelationshipError,
    NotFoundError,
    PartnerCenterError,
    ThrottledError,
    UnavailableError,
    is_unavailable,
)
from .gathering import gather_snapshot, plan_removal
from .graph import ContactsCleanup, GdapTermination, GraphClient
from .graph_models import (
    DelegatedAdminRelationship,
    GdapStatus,
    GuestUser,
    OrganizationContacts,
    ServicePrincipal,
)
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
    "ClientCredentialsAzureCredential",
    "ConflictError",
    "ContactsCleanup",
    "Customer",
    "CustomerSnapshot",
    "DapRemoval",
    "DelegatedAdminRelationship",
    "FileTokenCacheStore",
    "GdapStatus",
    "GdapTermination",
    "GraphClient",
    "GraphPermissionError",
    "GuestUser",
    "LimitsRegistry",
    "LoopbackRouter",
    "MsalTokenProvider",
    "NoRelationshipError",
    "NotFoundError",
    "OrganizationContacts",
    "PartnerCenterClient",
    "PartnerCenterConfig",
    "PartnerCenterError",
    "PartnerLimits",
    "RateSettings",
    "Relationship",
    "RemovalPlan",
    "RemovalResult",
    "RetryPolicy",
    "ServicePrincipal",
    "Subscription",
    "SubscriptionStatus",
    "ThrottledError",
    "TokenCacheStore",
    "TokenProvider",
    "UnavailableError",
    "carry_out",
    "classify",
    "connect",
    "connect_graph",
    "gather_snapshot",
    "is_unavailable",
    "plan_removal",
    "resolve_customers",
    "token_provider",
)
