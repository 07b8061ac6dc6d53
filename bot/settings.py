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

import asyncio
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, DotEnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from partner_center import CertificateCredential, ClientCredentialsAzureCredential, PartnerCenterConfig
from partner_center.access import SANDBOX_PARTNER, PartnerIdentity
from partner_center.webhooks import DOCUMENTED_CERTIFICATE_PREFIX
from storage import DocumentStore, KeyVaultSecrets, StoreKind, open_store

__all__ = (
    "ENV_FILE_VARIABLE",
    "MICROSOFT_SERVICE_URL_HOSTS",
    "Settings",
    "open_configured_store",
    "open_key_vault",
    "partner_center_config",
)

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

    # ---- Azure Key Vault (secrets there instead of the environment and the cache file) ----
    # https://<name>.vault.azure.net/ : the MSAL token cache (with the app+user refresh token that
    # `python -m golive consent` stores) lives in the secret OFFBOARD_TOKEN_SECRET_NAME, every
    # rotation written back; the app's client secret or certificate are read from there when the
    # environment gives none. Reached with the managed identity (DefaultAzureCredential; the
    # user-assigned one named by AZURE_CLIENT_ID), or the sandbox's identity on the sandbox.
    key_vault_url: str = Field("", validation_alias="OFFBOARD_KEY_VAULT_URL")
    token_secret_name: str = Field("partner-center-token-cache", validation_alias="OFFBOARD_TOKEN_SECRET_NAME")
    partner_secret_name: str = Field("partner-center-client-secret", validation_alias="OFFBOARD_PARTNER_SECRET_NAME")
    partner_certificate_secret_name: str = Field("partner-center-certificate", validation_alias="OFFBOARD_PARTNER_CERTIFICATE_SECRET_NAME")
    # azure-identity's own variable, read here too so that a .env file can carry it.
    azure_client_id: str = Field("", validation_alias="AZURE_CLIENT_ID")
    # Token health: use the app+user token at least this often; warn once it has not been
    # redeemed for this long (Entra refresh tokens lapse after 90 days of inactivity:
    # https://learn.microsoft.com/entra/identity-platform/refresh-tokens).
    token_check_days: int = Field(7, ge=1, le=89, validation_alias="OFFBOARD_TOKEN_CHECK_DAYS")
    token_warn_days: int = Field(75, ge=1, le=89, validation_alias="OFFBOARD_TOKEN_WARN_DAYS")
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
    # Or, with no key: https://<account>.blob.core.windows.net, reached with the managed identity
    # (DefaultAzureCredential; the user-assigned one named by AZURE_CLIENT_ID). Live, a connection
    # string carrying a key is refused (live_mode_gaps): a key is every permission on every container.
    blob_account_url: str = Field("", validation_alias="OFFBOARD_BLOB_ACCOUNT_URL")
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
    # The sandbox's Key Vault stand-in (TLS): the socket (host:port) a *.vault.azure.net name in
    # OFFBOARD_KEY_VAULT_URL is sent to (empty: OFFBOARD_SANDBOX_URL's, when that is https), and
    # the CA bundle its certificate chains to. Sandbox only: refused when live.
    sandbox_vault_address: str = Field("", validation_alias="OFFBOARD_SANDBOX_VAULT_ADDRESS")
    sandbox_ca_file: Path | None = Field(None, validation_alias="OFFBOARD_SANDBOX_CA_FILE")

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
    # A cancellation, refund or seat-reduction window of an open case's item that closes within
    # this many hours is announced to the approvers once, with the amount at stake (issue 21).
    window_warn_hours: float = Field(48.0, gt=0, validation_alias="OFFBOARD_WINDOW_WARN_HOURS")
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

    @field_validator("blob_account_url")
    @classmethod
    def _a_blob_account_url(cls, value: str) -> str:
        """https only, even on loopback: Azure Storage's SDK sends a bearer token over TLS alone (and
        Azurite accepts one over HTTPS only), so an http URL could never work. No query: a SAS
        token there would be a key by another name."""
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("OFFBOARD_BLOB_ACCOUNT_URL must be the storage account's https URL, https://<account>.blob.core.windows.net")
        return value.rstrip("/")

    @field_validator("key_vault_url")
    @classmethod
    def _a_vault_url(cls, value: str) -> str:
        """https only (Key Vault serves nothing else, and its SDK sends bearer tokens over TLS alone),
        a host and nothing after the path: a typo must not send the app's secrets elsewhere."""
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("OFFBOARD_KEY_VAULT_URL must be the vault's https URL, https://<name>.vault.azure.net/")
        return value if value.endswith("/") else value + "/"

    @field_validator("sandbox_ca_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("token_secret_name", "partner_secret_name", "partner_certificate_secret_name")
    @classmethod
    def _a_secret_name(cls, value: str) -> str:
        # Key Vault's rule for object names: 1-127 letters, digits and dashes
        # (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers).
        if not re.fullmatch(r"[0-9A-Za-z-]{1,127}", value):
            raise ValueError("Key Vault secret names are 1-127 letters, digits and dashes")
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
            # With a vault, the credential is read from it at start-up (the secret or the certificate).
            if not self.partner_client_secret.get_secret_value() and not has_certificate and not self.key_vault_url:
                raise ValueError(
                    "set OFFBOARD_PARTNER_CLIENT_SECRET, or OFFBOARD_PARTNER_CERTIFICATE_PATH and OFFBOARD_PARTNER_CERTIFICATE_THUMBPRINT, "
                    "or OFFBOARD_KEY_VAULT_URL (the vault holding them)"
                )
            # With a vault the sign-in is the one `golive consent` stored after checking its MFA; a
            # refresh token from the environment is a second sign-in nobody checked, used silently
            # whenever the vault's cache holds no account.
            if self.key_vault_url and self.partner_refresh_token.get_secret_value():
                raise ValueError(
                    "OFFBOARD_PARTNER_REFRESH_TOKEN is set together with OFFBOARD_KEY_VAULT_URL: unset it; the bot uses the "
                    "sign-in `python -m golive consent` stored in the vault (its MFA checked)"
                )
        return self

    @model_validator(mode="after")
    def _sandbox_vault_settings_stay_on_the_sandbox(self) -> Settings:
        # Live, a vault is reached by its name and verified against the system's roots: nothing
        # may redirect it to another socket nor trust another CA.
        if not self.uses_sandbox and (self.sandbox_vault_address or self.sandbox_ca_file):
            raise ValueError(
                "OFFBOARD_SANDBOX_VAULT_ADDRESS and OFFBOARD_SANDBOX_CA_FILE apply to the sandbox only: unset them in live mode"
            )
        if self.token_warn_days <= self.token_check_days:
            raise ValueError("OFFBOARD_TOKEN_WARN_DAYS must be more than OFFBOARD_TOKEN_CHECK_DAYS")
        return self

    @model_validator(mode="after")
    def _blob_storage_has_a_connection_string(self) -> Settings:
        connection_string = bool(self.blob_connection_string.get_secret_value())
        if self.storage == "blob" and not connection_string and not self.blob_account_url:
            raise ValueError(
                "OFFBOARD_STORAGE=blob needs OFFBOARD_BLOB_ACCOUNT_URL (through the managed identity) "
                "or OFFBOARD_BLOB_CONNECTION_STRING (Azurite, local development)"
            )
        if connection_string and self.blob_account_url:
            raise ValueError("OFFBOARD_BLOB_ACCOUNT_URL and OFFBOARD_BLOB_CONNECTION_STRING are both set: choose one")
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
            (
                "OFFBOARD_BLOB_ACCOUNT_URL (Blob storage through the managed identity) instead of an "
                "OFFBOARD_BLOB_CONNECTION_STRING carrying a key",
                not _carries_a_key(self.blob_connection_string.get_secret_value()),
            ),
            (
                # Blob storage is for several replicas: each with its own token cache file, the
                # rotating refresh token would diverge between them (and lapse on the idle ones).
                "OFFBOARD_KEY_VAULT_URL with OFFBOARD_STORAGE=blob (replicas share the token cache there, not in a cache file each)",
                self.storage != "blob" or bool(self.key_vault_url),
            ),
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


def _carries_a_key(connection_string: str) -> bool:
    """An Azure Storage connection string with a key in it: the account key, a SAS (signed with
    it), or Azurite's shorthand (which means its published key)."""
    fields = {part.split("=", 1)[0].strip().lower() for part in connection_string.split(";") if "=" in part}
    return bool(fields & {"accountkey", "sharedaccesssignature", "usedevelopmentstorage"})


class _BotFrameworkConfiguration(SimpleNamespace):
    def __repr__(self) -> str:
        shown = {name: "**********" if name == "APP_PASSWORD" and value else value for name, value in vars(self).items()}
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def open_configured_store(settings: Settings, *, kind: StoreKind | None = None, container: str | None = None) -> DocumentStore:
    """The document store the settings name (``kind`` overrides it; ``container`` the Blob
    container, e.g. the audit trail's own); nothing is contacted yet.

    Blob storage with ``OFFBOARD_BLOB_ACCOUNT_URL`` is reached with ``DefaultAzureCredential``: the
    user-assigned managed identity named by ``AZURE_CLIENT_ID`` in Azure, the developer's Azure CLI
    / VS Code sign-in locally; the store closes it.
    """
    kind = kind or settings.effective_storage
    if kind == "sqlite":
        # 0700: the bot's user alone lists it (the store makes an existing one 0700, its files 0600).
        settings.sqlite_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    credential = None
    if kind == "blob" and settings.blob_account_url:
        # Imported here: azure-identity is only needed once an account URL is configured.
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id or None)
    return open_store(
        kind,
        sqlite_path=settings.sqlite_path,
        blob_connection_string=None if credential else settings.blob_connection_string.get_secret_value() or None,
        blob_account_url=settings.blob_account_url or None,
        blob_credential=credential,
        blob_container=container or settings.blob_container,
    )


def open_key_vault(settings: Settings, *, sandbox_base_url: str | None = None) -> KeyVaultSecrets | None:
    """The vault ``OFFBOARD_KEY_VAULT_URL`` names (None without one); nothing is contacted yet.

    Live, it is reached with ``DefaultAzureCredential``: the user-assigned managed identity named by
    ``AZURE_CLIENT_ID`` in Azure, the developer's Azure CLI / VS Code sign-in locally. On the
    sandbox, with the sandbox app's own identity (client credentials at the sandbox's token
    endpoint, ``sandbox_base_url`` or ``OFFBOARD_SANDBOX_URL``), and the vault's name sent to the
    sandbox's TLS socket (``OFFBOARD_SANDBOX_VAULT_ADDRESS``) with its CA (``OFFBOARD_SANDBOX_CA_FILE``).

    :raises ValueError: a sandbox vault with no sandbox to reach.
    """
    if not settings.key_vault_url:
        return None
    if not settings.uses_sandbox:
        # Imported here: azure-identity is only needed once a vault is configured.
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id or None)
        return KeyVaultSecrets(settings.key_vault_url, credential)
    base_url = sandbox_base_url or settings.sandbox_url
    if not base_url:
        raise ValueError("OFFBOARD_KEY_VAULT_URL on the sandbox needs OFFBOARD_SANDBOX_URL (a sandbox serving the Key Vault stand-in)")
    demo = PartnerCenterConfig.sandbox(base_url)
    sandbox_credential = ClientCredentialsAzureCredential(
        authority_host=demo.authority_host,
        tenant=demo.tenant,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        http_client=demo.router(),
        known_authority=False,
    )
    address = settings.sandbox_vault_address or (urlsplit(base_url).netloc if base_url.startswith("https://") else "")
    routes = None
    if address:
        target = urlsplit(f"//{address}")
        if not target.hostname or not target.port:
            raise ValueError("OFFBOARD_SANDBOX_VAULT_ADDRESS is host:port (the sandbox's TLS socket)")
        routes = {urlsplit(settings.key_vault_url).hostname or "": (target.hostname, target.port)}
    return KeyVaultSecrets(settings.key_vault_url, sandbox_credential, ca_file=settings.sandbox_ca_file, routes=routes)


async def partner_center_config(
    settings: Settings, *, vault: KeyVaultSecrets | None, sandbox_base_url: str | None = None
) -> PartnerCenterConfig:
    """Where Partner Center is and the credentials to use, reading the vault where the settings say.

    With a vault, MSAL's token cache is its secret ``OFFBOARD_TOKEN_SECRET_NAME`` (what the consent
    command stored; on the sandbox the demo refresh token is then not used at all), and the app's
    client secret or certificate come from it when the environment gives neither.

    :raises storage.KeyVaultError: the vault refused or did not answer (the message says what to do).
    :raises ValueError: no client credential anywhere.
    """
    token_store = vault.secret(settings.token_secret_name) if vault is not None else None
    if settings.uses_sandbox:
        base_url = sandbox_base_url or settings.sandbox_url
        if token_store is not None:
            return PartnerCenterConfig.sandbox(base_url, refresh_token=None, token_cache_store=token_store)
        return PartnerCenterConfig.sandbox(base_url)
    secret, certificate = await _partner_credential(settings, vault)
    return PartnerCenterConfig.live(
        tenant=settings.partner_tenant,
        client_id=settings.partner_client_id,
        client_secret=secret,
        certificate=certificate,
        refresh_token=settings.partner_refresh_token.get_secret_value() or None,
        token_cache_path=None if token_store is not None else settings.token_cache_path,
        token_cache_store=token_store,
    )


async def _partner_credential(settings: Settings, vault: KeyVaultSecrets | None) -> tuple[str | None, CertificateCredential | None]:
    """The app's client secret or certificate: the environment's, else the vault's."""
    if settings.partner_client_secret.get_secret_value():
        return settings.partner_client_secret.get_secret_value(), None
    if settings.partner_certificate_path:
        pem = await asyncio.to_thread(Path(settings.partner_certificate_path).read_text, encoding="utf-8")
        return None, CertificateCredential(private_key_pem=pem, thumbprint=settings.partner_certificate_thumbprint)
    if vault is not None:
        stored = await vault.get(settings.partner_secret_name)
        if stored is not None and stored.value:
            return stored.value, None
        stored = await vault.get(settings.partner_certificate_secret_name)
        if stored is not None and stored.value:
            return None, CertificateCredential.from_pem(stored.value)
        raise ValueError(
            f"Key Vault {settings.key_vault_url} holds neither the secret {settings.partner_secret_name!r} (the app's client "
            f"secret) nor {settings.partner_certificate_secret_name!r} (its certificate, PEM key and certificate), and "
            "OFFBOARD_PARTNER_CLIENT_SECRET / OFFBOARD_PARTNER_CERTIFICATE_PATH are not set"
        )
    raise ValueError("set OFFBOARD_PARTNER_CLIENT_SECRET or OFFBOARD_PARTNER_CERTIFICATE_PATH")
