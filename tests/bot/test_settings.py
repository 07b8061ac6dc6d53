"""Settings: the Bot Framework names, sandbox by default, incomplete credentials refused, secrets
hidden, and live mode failing closed (README: "Running it for real safely")."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings

APPROVER = "00000000-0000-0000-0000-0000000000b2"
SECOND_APPROVER = "00000000-0000-0000-0000-0000000000a1"
PARTNER_TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
# Everything live mode needs; each test of a refusal leaves one out.
LIVE = {
    "OFFBOARD_PARTNER_CLIENT_ID": "partner-app",
    "OFFBOARD_PARTNER_TENANT": PARTNER_TENANT,
    "OFFBOARD_PARTNER_CLIENT_SECRET": "s3cret-value",
    "MicrosoftAppId": "11111111-2222-3333-4444-555555555555",
    "MicrosoftAppPassword": "bot-password",
    "MicrosoftAppType": "SingleTenant",
    "MicrosoftAppTenantId": PARTNER_TENANT,
    "OFFBOARD_TEAMS_TENANT_ID": PARTNER_TENANT,
    "OFFBOARD_APPROVERS": f"{APPROVER},{SECOND_APPROVER}",
    "OFFBOARD_STORAGE": "sqlite",
}
# What the demo's defaults below would be overridden by.
DEMO_DEFAULTS = ("OFFBOARD_SANDBOX", "OFFBOARD_HOST", "OFFBOARD_PORT", "OFFBOARD_SANDBOX_PORT", "OFFBOARD_REQUESTERS", "OFFBOARD_FOUR_EYES")


def _live(monkeypatch: pytest.MonkeyPatch, **changed: str | None) -> None:
    for name, value in {**LIVE, **changed}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_no_partner_center_credential_means_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    # None of what this test reads, whatever the shell exported.
    _live(monkeypatch, **dict.fromkeys((*LIVE, *DEMO_DEFAULTS)))
    settings = Settings(_env_file=None)
    assert settings.uses_sandbox and (settings.host, settings.port, settings.sandbox_port) == ("127.0.0.1", 3978, 8787)
    # The demo stays easy: everyone may act, no four-eyes, replies go wherever the Playground is.
    assert settings.effective_requesters is None and not settings.effective_four_eyes
    assert settings.allowed_service_urls is None and settings.live_mode_gaps() == []


def test_bot_framework_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppPassword", "very-secret-password")
    monkeypatch.setenv("MicrosoftAppTenantId", "contoso-partner.onmicrosoft.com")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("OFFBOARD_PORT", "4000")
    monkeypatch.setenv("OFFBOARD_SANDBOX", "true")
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
    _live(monkeypatch)
    settings = Settings(_env_file=None)
    assert not settings.uses_sandbox and "s3cret-value" not in repr(settings)


def test_a_wrong_app_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppType", "Sometimes")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_a_dot_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("MicrosoftAppId=from-dot-env\nOFFBOARD_SANDBOX=1\nOFFBOARD_SANDBOX_PORT=9999\n", encoding="utf-8")
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


# ---- Live mode fails closed ----


@pytest.mark.parametrize(
    ("left_out", "named"),
    [
        ({"MicrosoftAppId": None}, "MicrosoftAppId"),
        ({"MicrosoftAppPassword": None}, "MicrosoftAppPassword"),
        ({"MicrosoftAppTenantId": None}, "MicrosoftAppTenantId"),
        ({"OFFBOARD_TEAMS_TENANT_ID": None}, "OFFBOARD_TEAMS_TENANT_ID"),
        ({"OFFBOARD_TEAMS_TENANT_ID": "partner.onmicrosoft.com"}, "OFFBOARD_TEAMS_TENANT_ID"),
        ({"OFFBOARD_APPROVERS": None}, "OFFBOARD_APPROVERS"),
        ({"OFFBOARD_APPROVERS": APPROVER}, "a second approver"),
        ({"OFFBOARD_STORAGE": "memory"}, "OFFBOARD_STORAGE"),
    ],
)
def test_live_mode_refuses_to_start_without_each_setting_it_needs(
    monkeypatch: pytest.MonkeyPatch, left_out: dict[str, str | None], named: str
) -> None:
    _live(monkeypatch, **left_out)
    with pytest.raises(ValidationError, match=named) as refused:
        Settings(_env_file=None)
    assert "live mode" in str(refused.value) and "bot-password" not in str(refused.value)


def test_live_mode_names_every_missing_setting_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, MicrosoftAppId=None, MicrosoftAppPassword=None, OFFBOARD_TEAMS_TENANT_ID=None, OFFBOARD_APPROVERS=None)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "OFFBOARD_TEAMS_TENANT_ID", "OFFBOARD_APPROVERS"):
        assert name in str(refused.value)


def test_a_managed_identity_is_a_bot_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, MicrosoftAppPassword=None, MicrosoftAppType="UserAssignedMSI")
    assert Settings(_env_file=None).live_mode_gaps() == []


def test_live_defaults_are_the_safe_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch)
    settings = Settings(_env_file=None)
    assert settings.effective_four_eyes  # on unless turned off explicitly
    assert settings.effective_requesters == frozenset({APPROVER, SECOND_APPROVER})  # approvers only, until requesters are named
    assert PARTNER_TENANT in settings.effective_protected_customers  # the partner's own tenant, always
    assert settings.allowed_service_urls is not None and "smba.trafficmanager.net" in settings.allowed_service_urls
    posture = settings.posture()
    assert "LIVE" in posture and "bot authentication on" in posture and "four-eyes on" in posture and "approvers 2" in posture


def test_one_approver_is_enough_without_four_eyes(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_APPROVERS=APPROVER, OFFBOARD_FOUR_EYES="false")
    assert not Settings(_env_file=None).effective_four_eyes


def test_the_insecure_override_starts_but_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _live(monkeypatch, OFFBOARD_APPROVERS=None, OFFBOARD_INSECURE_DEV="true")
    settings = Settings(_env_file=None)
    assert "INSECURE" in settings.posture() and "OFFBOARD_APPROVERS" in settings.posture()


@pytest.mark.parametrize("approver", ["alex@partner.example", "Alex Wilber", "not-a-guid"])
def test_approvers_are_entra_object_ids_only(monkeypatch: pytest.MonkeyPatch, approver: str) -> None:
    monkeypatch.setenv("OFFBOARD_APPROVERS", f"{APPROVER},{approver}")
    with pytest.raises(ValidationError, match="object ids"):
        Settings(_env_file=None)


def test_protected_customers_are_tenant_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARD_PROTECTED_CUSTOMERS", "contoso.onmicrosoft.com")  # a domain would protect nothing
    with pytest.raises(ValidationError, match="OFFBOARD_PROTECTED_CUSTOMERS"):
        Settings(_env_file=None)


def test_a_registered_bot_does_not_fall_back_to_the_sandbox_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    with pytest.raises(ValidationError, match="OFFBOARD_SANDBOX"):
        Settings(_env_file=None)
    monkeypatch.setenv("OFFBOARD_SANDBOX", "true")
    assert "SANDBOX" in Settings(_env_file=None).posture()
    _live(monkeypatch)
    with pytest.raises(ValidationError, match="choose one"):
        Settings(_env_file=None)
