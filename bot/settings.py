"""Settings, from the environment or a ``.env`` file, validated once at start.

The Bot Framework names (``MicrosoftAppId``, ``MicrosoftAppPassword``, ``MicrosoftAppTenantId``,
``MicrosoftAppType``) are the ones Azure Bot registrations and Teams tooling write; everything of
ours is prefixed ``OFFBOARD_``. Secrets are ``SecretStr``: never printed, never logged, and a
setting that fails validation is reported without the values it was given (they may be secrets).

With no Partner Center credential configured, Offboard runs against its embedded sandbox.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage import DocumentStore, StoreKind, open_store

__all__ = ("Settings", "open_configured_store")


class Settings(BaseSettings):
    """Every setting Offboard reads (README: "Configuration")."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # A model validator's error would otherwise quote every setting read, secrets included.
        hide_input_in_errors=True,
    )

    # ---- Bot Framework ----
    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"))
    app_password: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD")
    )
    app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID")
    )
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

    # ---- Who may act ----
    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="OFFBOARD_APPROVERS")
    four_eyes: bool = Field(False, validation_alias="OFFBOARD_FOUR_EYES")
    teams_tenant_id: str = Field("", validation_alias="OFFBOARD_TEAMS_TENANT_ID")

    # ---- Storage: cases and conversation state (one setting picks the backend) ----
    storage: Literal["sqlite", "blob", "memory"] = Field("sqlite", validation_alias="OFFBOARD_STORAGE")
    sqlite_path: Path = Field(Path(".offboard/offboard.db"), validation_alias="OFFBOARD_SQLITE_PATH")
    blob_connection_string: SecretStr = Field(SecretStr(""), validation_alias="OFFBOARD_BLOB_CONNECTION_STRING")
    blob_container: str = Field("offboard", validation_alias="OFFBOARD_BLOB_CONTAINER")

    # ---- The embedded sandbox ----
    sandbox_host: str = Field("127.0.0.1", validation_alias="OFFBOARD_SANDBOX_HOST")
    sandbox_port: int = Field(8787, ge=0, le=65535, validation_alias="OFFBOARD_SANDBOX_PORT")
    # A sandbox already running elsewhere (``python -m partner_center.sandbox``): used instead of
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
    # Partner Center webhooks: hosts allowed in x-ms-certificate-url, and the CA bundle (PEM) the
    # signing certificate must chain to (empty: the system's trusted roots).
    events_certificate_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["pcnotifications-dispatch.microsoft.com"], validation_alias="OFFBOARD_EVENTS_CERTIFICATE_HOSTS"
    )
    events_ca_file: Path | None = Field(None, validation_alias="OFFBOARD_EVENTS_CA_FILE")

    # ---- Durable work ----
    # An instance that dies holds its cases' leases this long before another takes them over.
    lease_seconds: float = Field(60.0, gt=0, validation_alias="OFFBOARD_LEASE_SECONDS")
    # How often each instance looks for executing or removing cases nobody holds.
    resume_interval_seconds: float = Field(30.0, gt=0, validation_alias="OFFBOARD_RESUME_INTERVAL_SECONDS")

    @field_validator("bot_openid_metadata_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("OFFBOARD_BOT_OPENID_METADATA_URL must be an http(s) URL")
        return value

    @field_validator("approvers", mode="before")
    @classmethod
    def _comma_separated_lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("notify_channels", "events_certificate_hosts", mode="before")
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
                    "set OFFBOARD_PARTNER_CLIENT_SECRET, or OFFBOARD_PARTNER_CERTIFICATE_PATH "
                    "and OFFBOARD_PARTNER_CERTIFICATE_THUMBPRINT"
                )
        return self

    @model_validator(mode="after")
    def _blob_storage_has_a_connection_string(self) -> Settings:
        if self.storage == "blob" and not self.blob_connection_string.get_secret_value():
            raise ValueError("OFFBOARD_STORAGE=blob needs OFFBOARD_BLOB_CONNECTION_STRING")
        return self

    @property
    def uses_sandbox(self) -> bool:
        return not self.partner_client_id

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


class _BotFrameworkConfiguration(SimpleNamespace):
    def __repr__(self) -> str:
        shown = {name: "**********" if name == "APP_PASSWORD" and value else value for name, value in vars(self).items()}
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def open_configured_store(settings: Settings, *, kind: StoreKind | None = None) -> DocumentStore:
    """The document store the settings name (``kind`` overrides it); nothing is contacted yet."""
    kind = kind or settings.effective_storage
    if kind == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return open_store(
        kind,
        sqlite_path=settings.sqlite_path,
        blob_connection_string=settings.blob_connection_string.get_secret_value() or None,
        blob_container=settings.blob_container,
    )
