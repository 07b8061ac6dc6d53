"""Settings, from the environment or a ``.env`` file (``OFFBOARD_ENV_FILE`` names another, or none),
validated once at start.

The Bot Framework names (``MicrosoftAppId``, ``MicrosoftAppPassword``, ``MicrosoftAppTenantId``,
``MicrosoftAppType``) are the ones Azure Bot registrations and Teams tooling write; everything of
ours is prefixed ``OFFBOARD_``. Secrets are ``SecretStr``: never printed, never logged, and a
setting that fails validation is reported without the values it was given (they may be secrets).

With no Partner Center credential configured, Offboard runs against its embedded sandbox. With
one, it is *live*, and live mode fails closed: it refuses to start without every setting that
keeps a stranger from acting through it (:meth:`Settings.live_mode_gaps`; README: "Running it for
real safely"). A registered bot (a real ``MicrosoftAppId``) without Partner Center credentials
does not fall back to the demo world silently either: it needs ``OFFBOARD_SANDBOX=true``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, DotEnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from partner_center.access import SANDBOX_PARTNER, PartnerIdentity
from partner_center.webhooks import DOCUMENTED_CERTIFICATE_PREFIX
from storage import DocumentStore, StoreKind, open_store

__all__ = ("ENV_FILE_VARIABLE", "MICROSOFT_SERVICE_URL_HOSTS", "Settings", "open_configured_store")

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Where the Bot Framework's Teams connector lives: the public cloud and the US government clouds
# (GCC, GCC High, DoD), as the Microsoft 365 Agents SDK lists them (TeamsServiceEndpoints,
# microsoft.github.io/Agents-for-js), and the Bot Framework's own hosts for other channels.
# "*." allows the domain's subdomains; https only.
MICROSOFT_SERVICE_URL_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
    "*.botframework.com",
    "*.botframework.us",
)


# Names the file of settings read besides the environment (empty: none). Read from the
# environment only, since a file cannot name itself. The test run sets it empty
# (tests/conftest.py), so a developer's live .env reaches no test and no process a test starts.
ENV_FILE_VARIABLE = "OFFBOARD_ENV_FILE"
_DEFAULT_ENV_FILE = ".env"


class Settings(BaseSettings):
    """Every setting Offboard reads (README: "Configuration")."""

    model_config = SettingsConfigDict(
        env_file=_DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # A model validator's error would otherwise quote every setting read, secrets included.
        hide_input_in_errors=True,
    )

    # ---- Bot Framework ----
    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"))
    app_password: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"))
    app_tenant_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"))
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    # Where the keys that sign the Bot Framework's tokens are published (OpenID metadata); empty:
    # Microsoft's. For tests (a local signing key) and sovereign setups.
    bot_openid_metadata_url: str = Field("", validation_alias="OFFBOARD_BOT_OPENID_METADATA_URL")

    # ---- Where the bot listens ----
    host: str = Field("127.0.0.1", validation_alias="OFFBOARD_HOST")
    port: int = Field(3978, ge=0, le=65535, validation_alias="OFFBOARD_PORT")

    # ---- Partner Center (live when a client id is set, else the embedded sandbox) ----
    partner_tenant: str = Field("", validation_alias="OFFBOARD_PARTNER_TENANT")
    partner_client_id: str = Field("", validation_alias="OFFBOARD_PARTNER_CLIENT_ID")
    partner_client_secret: SecretStr = Field(SecretStr(""), validation_alias="OFFBOARD_PARTNER_CLIENT_SECRET")
    partner_certificate_path: Path | None = Field(None, validation_alias="OFFBOARD_PARTNER_CERTIFICATE_PATH")
    partner_certificate_thumbprint: str = Field("", validation_alias="OFFBOARD_PARTNER_CERTIFICATE_THUMBPRINT")
    partner_refresh_token: SecretStr = Field(SecretStr(""), validation_alias="OFFBOARD_PARTNER_REFRESH_TOKEN")
    token_cache_path: Path = Field(Path(".offboard/msal-cache.json"), validation_alias="OFFBOARD_TOKEN_CACHE_PATH")
    requests_per_minute: int = Field(500, ge=1, validation_alias="OFFBOARD_REQUESTS_PER_MINUTE")
    max_concurrency: int = Field(16, ge=1, validation_alias="OFFBOARD_MAX_CONCURRENCY")

    # ---- Posture ----
    # A registered bot (MicrosoftAppId set) on the embedded sandbox: only when asked for.
    sandbox: bool = Field(False, validation_alias="OFFBOARD_SANDBOX")
    # Live mode without the settings it needs (local development against a test tenant only):
    # logged at ERROR on every start, never a default. Anonymous activities stay refused.
    insecure_dev: bool = Field(False, validation_alias="OFFBOARD_INSECURE_DEV")

    # ---- Who may act (README: "Who may do what") ----
    # Entra object ids only: a UPN or an e-mail address can be reassigned, an object id cannot.
    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="OFFBOARD_APPROVERS")
    # Who may ask for removals, plans, history, notifications and cancel; approvers always may.
    # Empty: every member of the partner's tenant on the sandbox, approvers only when live.
    requesters: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="OFFBOARD_REQUESTERS")
    # Empty: on when live, off on the sandbox (effective_four_eyes).
    four_eyes: bool | None = Field(None, validation_alias="OFFBOARD_FOUR_EYES")
    teams_tenant_id: str = Field("", validation_alias="OFFBOARD_TEAMS_TENANT_ID")
    # Customer tenant ids Offboard refuses to plan or remove (the partner's own always).
    protected_customers: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="OFFBOARD_PROTECTED_CUSTOMERS")
    # The partner's own domains (its people's addresses), to recognise its guests and contact
    # addresses in a customer's tenant. Empty: the sandbox's partner on the sandbox; live, those
    # parts of the plan's "Access the partner still has" say they cannot be checked.
    partner_domains: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="OFFBOARD_PARTNER_DOMAINS")
    # Where replies and proactive messages may go (live mode): host names, "*.domain" for its
    # subdomains (https only), or a full origin such as http://127.0.0.1:8080 (tests).
    service_url_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(MICROSOFT_SERVICE_URL_HOSTS), validation_alias="OFFBOARD_SERVICE_URL_HOSTS"
    )

    # ---- Storage: cases and conversation state (one setting picks the backend) ----
    storage: Literal["sqlite", "blob", "memory"] = Field("sqlite", validation_alias="OFFBOARD_STORAGE")
    sqlite_path: Path = Field(Path(".offboard/offboard.db"), validation_alias="OFFBOARD_SQLITE_PATH")
    blob_connection_string: SecretStr = Field(SecretStr(""), validation_alias="OFFBOARD_BLOB_CONNECTION_STRING")
    blob_container: str = Field("offboard", validation_alias="OFFBOARD_BLOB_CONTAINER")
    # The audit trail in a container of its own (empty: in OFFBOARD_BLOB_CONTAINER), which can be
    # made immutable (WORM): the cases' container cannot, its documents are deleted and rewritten.
    blob_audit_container: str = Field("", validation_alias="OFFBOARD_BLOB_AUDIT_CONTAINER")

    # ---- The embedded sandbox ----
    sandbox_host: str = Field("127.0.0.1", validation_alias="OFFBOARD_SANDBOX_HOST")
    sandbox_port: int = Field(8787, ge=0, le=65535, validation_alias="OFFBOARD_SANDBOX_PORT")
    # A sandbox already running elsewhere (``python -m pc_sandbox``): used instead of
    # starting one inside the bot, so that it outlives bot restarts (crash tests, several instances).
    sandbox_url: str = Field("", validation_alias="OFFBOARD_SANDBOX_URL")

    # ---- Notifications ----
    # Team channels (ids like 19:…@thread.tacv2) that get a new thread per notification; channels
    # can also subscribe themselves with "@Offboard notify here".
    notify_channels: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="OFFBOARD_NOTIFY_CHANNELS")
    # Shared secret of POST /api/notifications (HMAC-SHA256 signature); empty: the endpoint is off.
    notify_secret: SecretStr = Field(SecretStr(""), validation_alias="OFFBOARD_NOTIFY_SECRET")
    # Waiting cases are re-checked this often (and at start); term-end reminders this many days ahead.
    recheck_interval_seconds: float = Field(3600.0, gt=0, validation_alias="OFFBOARD_RECHECK_INTERVAL_SECONDS")
    reminder_days: int = Field(7, ge=0, validation_alias="OFFBOARD_REMINDER_DAYS")
    # A case waiting for approvals or for the final confirmation this long is reminded about once
    # (channels and requester); still waiting this much longer, escalated once to the approvers.
    decision_reminder_hours: float = Field(24.0, gt=0, validation_alias="OFFBOARD_DECISION_REMINDER_HOURS")
    escalation_hours: float = Field(48.0, gt=0, validation_alias="OFFBOARD_ESCALATION_HOURS")
    # Partner Center webhooks: where x-ms-certificate-url may point ("host" or "host/path/prefix"),
    # and the CA bundle (PEM) the signing certificate must chain to: its root(s) and Microsoft's
    # issuing intermediate(s) (empty: the system's trusted roots, which hold no intermediate).
    # Default: the documented URL's host and folder, https://3psostorageacct.blob.core.windows.net/cert/
    # (learn.microsoft.com/partner-center/developer/partner-center-webhooks; ../shared/reference/fidelity-audit.md #10).
    events_certificate_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [DOCUMENTED_CERTIFICATE_PREFIX], validation_alias="OFFBOARD_EVENTS_CERTIFICATE_HOSTS"
    )
    events_ca_file: Path | None = Field(None, validation_alias="OFFBOARD_EVENTS_CA_FILE")

    # ---- Durable work ----
    # An instance that dies holds its cases' leases this long before another takes them over.
    lease_seconds: float = Field(60.0, gt=0, validation_alias="OFFBOARD_LEASE_SECONDS")
    # How often each instance looks for executing or removing cases nobody holds.
    resume_interval_seconds: float = Field(30.0, gt=0, validation_alias="OFFBOARD_RESUME_INTERVAL_SECONDS")
    # A case whose background work fails the same way this many times in a row is failed as
    # needing a person (announced); between attempts the sweep waits, doubling from the resume
    # interval up to this many seconds.
    max_case_attempts: int = Field(5, ge=1, validation_alias="OFFBOARD_MAX_CASE_ATTEMPTS")
    case_backoff_max_seconds: float = Field(900.0, gt=0, validation_alias="OFFBOARD_CASE_BACKOFF_MAX_SECONDS")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The env file is chosen each time settings are read, not when this module is imported:
        ``OFFBOARD_ENV_FILE`` if set, else ``.env``. An explicit ``_env_file=`` (``None`` in the
        tests) other than ``.env`` wins over both."""
        if isinstance(dotenv_settings, DotEnvSettingsSource) and dotenv_settings.env_file == _DEFAULT_ENV_FILE:
            chosen = os.environ.get(ENV_FILE_VARIABLE, _DEFAULT_ENV_FILE)
            dotenv_settings = DotEnvSettingsSource(settings_cls, env_file=chosen or None)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @field_validator("bot_openid_metadata_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("OFFBOARD_BOT_OPENID_METADATA_URL must be an http(s) URL")
        return value

    @field_validator("approvers", "requesters", "protected_customers", "partner_domains", mode="before")
    @classmethod
    def _comma_separated_lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return [str(part).strip().lower() for part in value] if isinstance(value, (list, tuple, set, frozenset)) else value

    @field_validator("approvers", "requesters")
    @classmethod
    def _entra_object_ids_only(cls, value: list[str]) -> list[str]:
        return _guids_only(
            value, "OFFBOARD_APPROVERS and OFFBOARD_REQUESTERS take Entra object ids (GUIDs) only, never UPNs, e-mail addresses or names"
        )

    @field_validator("protected_customers")
    @classmethod
    def _tenant_ids_only(cls, value: list[str]) -> list[str]:
        return _guids_only(value, "OFFBOARD_PROTECTED_CUSTOMERS takes customer tenant ids (GUIDs), not domains or names")

    @field_validator("notify_channels", "events_certificate_hosts", "service_url_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _partner_center_credential_is_complete(self) -> Settings:
        if self.partner_client_id:
            if not self.partner_tenant:
                raise ValueError("OFFBOARD_PARTNER_TENANT is required with OFFBOARD_PARTNER_CLIENT_ID")
            has_certificate = bool(self.partner_certificate_path and self.partner_certificate_thumbprint)
            if not self.partner_client_secret.get_secret_value() and not has_certificate:
                raise ValueError(
                    "set OFFBOARD_PARTNER_CLIENT_SECRET, or OFFBOARD_PARTNER_CERTIFICATE_PATH and OFFBOARD_PARTNER_CERTIFICATE_THUMBPRINT"
                )
        return self

    @model_validator(mode="after")
    def _blob_storage_has_a_connection_string(self) -> Settings:
        if self.storage == "blob" and not self.blob_connection_string.get_secret_value():
            raise ValueError("OFFBOARD_STORAGE=blob needs OFFBOARD_BLOB_CONNECTION_STRING")
        return self

    @model_validator(mode="after")
    def _sandbox_is_never_mistaken_for_production(self) -> Settings:
        if self.sandbox and self.partner_client_id:
            raise ValueError("OFFBOARD_SANDBOX=true and OFFBOARD_PARTNER_CLIENT_ID are both set: choose one")
        if self.uses_sandbox and self.app_id and not self.sandbox:
            raise ValueError(
                "MicrosoftAppId is set but no Partner Center credentials are (OFFBOARD_PARTNER_CLIENT_ID): a registered "
                "bot does not fall back to the demo sandbox silently. Configure Partner Center, or set "
                "OFFBOARD_SANDBOX=true to run this bot against the sandbox on purpose"
            )
        return self

    @model_validator(mode="after")
    def _live_mode_fails_closed(self) -> Settings:
        gaps = self.live_mode_gaps()
        if gaps and not self.insecure_dev:
            raise ValueError(
                "live mode (OFFBOARD_PARTNER_CLIENT_ID is set) refuses to start without: "
                + "; ".join(gaps)
                + ' (README: "Running it for real safely")'
            )
        return self

    def live_mode_gaps(self) -> list[str]:
        """Every setting live mode lacks, in words an operator can act on; [] on the sandbox."""
        if self.uses_sandbox:
            return []
        has_credential = self.app_type == "UserAssignedMSI" or bool(self.app_password.get_secret_value())
        checks = (
            ("MicrosoftAppId (the bot's Azure Bot registration)", bool(self.app_id)),
            ("MicrosoftAppPassword (or MicrosoftAppType=UserAssignedMSI for a managed identity)", has_credential),
            (
                "MicrosoftAppTenantId (required with MicrosoftAppType=SingleTenant or UserAssignedMSI)",
                self.app_type == "MultiTenant" or bool(self.app_tenant_id),
            ),
            ("OFFBOARD_TEAMS_TENANT_ID (the partner's Entra tenant id)", bool(_GUID.match(self.teams_tenant_id.lower()))),
            ("OFFBOARD_APPROVERS (at least one Entra object id)", bool(self.approvers)),
            (
                "a second approver in OFFBOARD_APPROVERS (four-eyes is on: the requester cannot approve "
                "cancellations nor the removal alone), or OFFBOARD_FOUR_EYES=false",
                not self.approvers or not self.effective_four_eyes or len(set(self.approvers)) >= 2,
            ),
            ("OFFBOARD_STORAGE=sqlite or blob (memory loses cases and their audit trail)", self.storage != "memory"),
        )
        return [name for name, ok in checks if not ok]

    @property
    def uses_sandbox(self) -> bool:
        return not self.partner_client_id

    @property
    def authenticates(self) -> bool:
        """Bot Framework authentication is on (botbuilder switches it off without an app id)."""
        return bool(self.app_id)

    @property
    def effective_four_eyes(self) -> bool:
        return self.four_eyes if self.four_eyes is not None else not self.uses_sandbox

    @property
    def effective_requesters(self) -> frozenset[str] | None:
        """Who may request (None: every member). Live with none configured: approvers only."""
        if self.requesters:
            return frozenset(self.requesters) | frozenset(self.approvers)
        return None if self.uses_sandbox else frozenset(self.approvers)

    @property
    def effective_protected_customers(self) -> frozenset[str]:
        """The configured list, and the partner's own tenant (both spellings we know it by)."""
        own = {tenant.lower() for tenant in (self.partner_tenant, self.teams_tenant_id) if _GUID.match(tenant.lower())}
        return frozenset(self.protected_customers) | own

    @property
    def partner_identity(self) -> PartnerIdentity:
        """Who the partner is in a customer's tenant (the plan's "Access the partner still has"):
        its tenant id (OFFBOARD_PARTNER_TENANT when a GUID, else OFFBOARD_TEAMS_TENANT_ID) and
        OFFBOARD_PARTNER_DOMAINS; on the sandbox, the sandbox's partner (its domains unless set)."""
        if self.uses_sandbox:  # the sandbox's partner tenant, whatever Teams tenant it is used from
            return PartnerIdentity(tenant_id=SANDBOX_PARTNER.tenant_id, domains=tuple(self.partner_domains) or SANDBOX_PARTNER.domains)
        tenant_id = next((tenant.lower() for tenant in (self.partner_tenant, self.teams_tenant_id) if _GUID.match(tenant.lower())), "")
        return PartnerIdentity(tenant_id=tenant_id, domains=tuple(self.partner_domains))

    @property
    def allowed_service_urls(self) -> tuple[str, ...] | None:
        """Where the bot may send (None: anywhere, on the sandbox, whose Playground is local)."""
        return None if self.uses_sandbox else tuple(self.service_url_hosts)

    def posture(self) -> str:
        """One line saying how safe this run is (the first thing the bot logs)."""
        if self.uses_sandbox:
            world = f"SANDBOX (demo data; {'at ' + self.sandbox_url if self.sandbox_url else 'embedded'})"
        else:
            world = f"LIVE Partner Center (partner tenant {self.partner_tenant})"
        requesters = self.effective_requesters
        parts = [
            world,
            f"bot authentication {'on (' + self.app_type + ')' if self.authenticates else 'OFF (anonymous local use)'}",
            f"Teams tenant {self.teams_tenant_id or 'any'}",
            f"approvers {len(self.approvers) or 'everyone'}",
            f"requesters {'everyone' if requesters is None else len(requesters)}",
            f"four-eyes {'on' if self.effective_four_eyes else 'off'}",
            f"storage {self.effective_storage}",
            f"protected customers {len(self.effective_protected_customers)}",
            f"replies to {'any serviceUrl' if self.allowed_service_urls is None else ', '.join(self.allowed_service_urls)}",
        ]
        if self.insecure_dev and self.live_mode_gaps():
            parts.append("INSECURE DEVELOPMENT OVERRIDE (OFFBOARD_INSECURE_DEV): missing " + "; ".join(self.live_mode_gaps()))
        return "Posture: " + " | ".join(parts)

    @property
    def effective_storage(self) -> Literal["sqlite", "blob", "memory"]:
        """The sandbox's world starts afresh on every run, so by default its cases do too."""
        if self.uses_sandbox and not self.sandbox_url and "storage" not in self.model_fields_set:
            return "memory"
        return self.storage

    def bot_framework_configuration(self) -> SimpleNamespace:
        """The attribute bag botbuilder's ConfigurationBotFrameworkAuthentication reads (its repr
        hides the password)."""
        configuration = _BotFrameworkConfiguration(
            APP_ID=self.app_id,
            APP_PASSWORD=self.app_password.get_secret_value(),
            APP_TYPE=self.app_type,
            APP_TENANTID=self.app_tenant_id,
        )
        if self.bot_openid_metadata_url:
            # Any one of these switches botbuilder to its "parameterized" authentication, which
            # then needs all of them: the public cloud's values, but our metadata URL.
            configuration.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = self.bot_openid_metadata_url
            configuration.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            configuration.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            configuration.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
            configuration.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            configuration.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            configuration.CALLER_ID = CallerIdConstants.public_azure_channel
        return configuration


def _guids_only(value: list[str], rule: str) -> list[str]:
    """``value`` if every entry is a GUID; else the rule, and the first entries that break it."""
    wrong = [entry for entry in value if not _GUID.match(entry)]
    if wrong:
        raise ValueError(f"{rule}; not a GUID: {', '.join(entry[:64] for entry in wrong[:5])}")
    return value


class _BotFrameworkConfiguration(SimpleNamespace):
    def __repr__(self) -> str:
        shown = {name: "**********" if name == "APP_PASSWORD" and value else value for name, value in vars(self).items()}
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def open_configured_store(settings: Settings, *, kind: StoreKind | None = None) -> DocumentStore:
    """The document store the settings name (``kind`` overrides it); nothing is contacted yet."""
    kind = kind or settings.effective_storage
    if kind == "sqlite":
        # 0700: the bot's user alone lists it (the store makes an existing one 0700, its files 0600).
        settings.sqlite_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return open_store(
        kind,
        sqlite_path=settings.sqlite_path,
        blob_connection_string=settings.blob_connection_string.get_secret_value() or None,
        blob_container=settings.blob_container,
    )
