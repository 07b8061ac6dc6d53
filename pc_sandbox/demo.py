"""The fixed identities the sandbox's token endpoint accepts.

They are constants, not secrets: the sandbox is a local simulator, and the bot's
default settings (and every newcomer's first run) use exactly these values.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("DEMO", "DemoIdentities")


@dataclass(frozen=True, slots=True)
class DemoIdentities:
    """Credentials and ids of the sandbox's single partner.

    Attributes:
        tenant: the tenant segment of the token URL (``/{tenant}/oauth2/v2.0/token``);
            the partner tenant GUID is accepted as well.
        client_id: the registered app (client secret, refresh token or certificate).
        client_secret: the app's secret for ``client_credentials``.
        refresh_token: a long-lived App+User refresh token (as the Secure
            Application Model stores after the partner's MFA consent).
        partner_tenant_id: the partner's tenant GUID (``tid`` claim, invitation URL).
        user_object_id: the partner admin the refresh token belongs to (``oid``).
        username: that admin's sign-in name (``preferred_username``).
        display_name: that admin's display name (``name``).
        password: that admin's password on the sandbox's sign-in page (``/authorize``).
        mfa_code: the one code the sandbox's MFA page accepts (the page shows it as a hint).
    """

    tenant: str = "sandbox"
    client_id: str = "sandbox-app"
    client_secret: str = "sandbox-secret"
    refresh_token: str = "sandbox-refresh-token"
    partner_tenant_id: str = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
    user_object_id: str = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
    username: str = "admin@sandbox-partner.onmicrosoft.com"
    display_name: str = "Sandbox Partner Admin"
    password: str = "sandbox-password"
    mfa_code: str = "123456"


DEMO = DemoIdentities()
