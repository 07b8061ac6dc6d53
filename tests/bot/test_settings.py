"""Settings: the Bot Framework names, sandbox by default, incomplete credentials refused, secrets hidden."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_no_partner_center_credential_means_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)
    assert settings.uses_sandbox and (settings.host, settings.port, settings.sandbox_port) == ("127.0.0.1", 3978, 8787)


def test_bot_framework_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppPassword", "very-secret-password")
    monkeypatch.setenv("MicrosoftAppTenantId", "contoso-partner.onmicrosoft.com")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("OFFBOARD_PORT", "4000")
    settings = Settings(_env_file=None)
    configuration = settings.bot_framework_configuration()
    assert configuration.APP_ID == "11111111-2222-3333-4444-555555555555"
    assert configuration.APP_PASSWORD == "very-secret-password" and configuration.APP_TYPE == "SingleTenant"
    assert settings.port == 4000
    assert "very-secret-password" not in repr(settings) and "very-secret-password" not in str(settings.model_dump())


def test_a_partner_center_client_id_needs_a_tenant_and_a_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARD_PARTNER_CLIENT_ID", "app")
    with pytest.raises(ValidationError, match="OFFBOARD_PARTNER_TENANT"):
        Settings(_env_file=None)
    monkeypatch.setenv("OFFBOARD_PARTNER_TENANT", "partner.onmicrosoft.com")
    with pytest.raises(ValidationError, match="OFFBOARD_PARTNER_CLIENT_SECRET"):
        Settings(_env_file=None)
    monkeypatch.setenv("OFFBOARD_PARTNER_CLIENT_SECRET", "s3cret-value")
    settings = Settings(_env_file=None)
    assert not settings.uses_sandbox and "s3cret-value" not in repr(settings)


def test_a_wrong_app_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppType", "Sometimes")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_a_dot_env_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("MicrosoftAppId=from-dot-env\nOFFBOARD_SANDBOX_PORT=9999\n", encoding="utf-8")
    settings = Settings(_env_file=env)
    assert settings.app_id == "from-dot-env" and settings.sandbox_port == 9999


def test_storage_defaults_to_a_sqlite_file_and_blob_needs_a_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)
    assert settings.storage == "sqlite" and settings.sqlite_path.name == "offboard.db"
    # ...except on the sandbox, whose world starts afresh on every run, unless asked for.
    assert settings.effective_storage == "memory"
    assert Settings(_env_file=None, storage="sqlite").effective_storage == "sqlite"
    monkeypatch.setenv("OFFBOARD_STORAGE", "blob")
    with pytest.raises(ValidationError, match="OFFBOARD_BLOB_CONNECTION_STRING"):
        Settings(_env_file=None)
    monkeypatch.setenv("OFFBOARD_BLOB_CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert "UseDevelopmentStorage" not in repr(Settings(_env_file=None))
