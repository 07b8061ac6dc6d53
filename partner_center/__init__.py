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
from .money import (
    Amount,
    ClosingWindow,
    ExitKind,
    ExitOption,
    Money,
    Price,
    RefundWindow,
    SeatTranche,
    Totals,
    closing_windows,
    options,
    plan_totals,
)
from .retry import RetryPolicy
from .transfers import Transfer, TransferLine, TransferStatus

__all__ = (
    "Action",
    "Amount",
    "AuthError",
    "Blocker",
    "BlockerKind",
    "CancellationWindowPassedError",
    "CertificateCredential",
    "ClientCredentialsAzureCredential",
    "ClosingWindow",
    "ConflictError",
    "ContactsCleanup",
    "Customer",
    "CustomerSnapshot",
    "DapRemoval",
    "DelegatedAdminRelationship",
    "ExitKind",
    "ExitOption",
    "FileTokenCacheStore",
    "GdapStatus",
    "GdapTermination",
    "GraphClient",
    "GraphPermissionError",
    "GuestUser",
    "LimitsRegistry",
    "LoopbackRouter",
    "Money",
    "MsalTokenProvider",
    "NoRelationshipError",
    "NotFoundError",
    "OrganizationContacts",
    "PartnerCenterClient",
    "PartnerCenterConfig",
    "PartnerCenterError",
    "PartnerLimits",
    "Price",
    "RateSettings",
    "RefundWindow",
    "Relationship",
    "RemovalPlan",
    "RemovalResult",
    "RetryPolicy",
    "SeatTranche",
    "ServicePrincipal",
    "Subscription",
    "SubscriptionStatus",
    "ThrottledError",
    "TokenCacheStore",
    "TokenProvider",
    "Totals",
    "Transfer",
    "TransferLine",
    "TransferStatus",
    "UnavailableError",
    "carry_out",
    "classify",
    "closing_windows",
    "connect",
    "connect_graph",
    "gather_snapshot",
    "is_unavailable",
    "options",
    "plan_removal",
    "plan_totals",
    "resolve_customers",
    "token_provider",
)
