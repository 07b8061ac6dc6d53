"""``python -m golive consent``: the admin agent's one-time sign-in, stored where the bot reads it.

Authorization code with PKCE in the browser (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow),
not the device code flow, whose codes can be phished (anchors.md §6). MSAL makes the PKCE pair
(``initiate_auth_code_flow`` sends ``code_challenge_method=S256``: msal/oauth2cli/oauth2.py,
``_generate_pkce_code_verifier``), and this command refuses to go on if it ever did not. The
browser comes back to ``http://localhost:<port>/`` (Entra's loopback redirect,
https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions), served once by a
listener on the loopback interface only.

The sign-in is stored only if it used multi-factor authentication: Partner Center requires MFA
for App+User calls from 2026-04-01
(https://learn.microsoft.com/partner-center/developer/partner-center-authentication), and a token
without it would fail on the first removal. The ``amr`` claim is read from the Partner Center
access token (a v1.0 resource token), not from the ID token: Entra's v2.0 ID tokens carry no
``amr`` (https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference has no such
row; the access token reference does: .../access-token-claims-reference). The access token is
decoded without verifying its signature: it came straight from the token endpoint over TLS, in
answer to this command's own code redemption, and Microsoft asks clients not to validate tokens
meant for another API; Partner Center then confirms it with one cheap App+User call (the
relationship request link), where 401 with code 900421 means no MFA. And only if the user is a
member of the partner's own tenant: signed in there (``tid``), and with it as home tenant (the
account's ``utid``; the token's ``idp``) — a multi-tenant app lets anyone sign in, and a B2B
guest's sign-in is not an admin agent's of the partner.

What is stored is MSAL's token cache (the refresh token is inside), in the Key Vault secret
``OFFBOARD_TOKEN_SECRET_NAME`` when ``OFFBOARD_KEY_VAULT_URL`` is set, else in the private file
``OFFBOARD_TOKEN_CACHE_PATH``, tagged ``consented-by`` (the user's object id: tags are metadata
that readers of the vault's metadata see, an address is personal data they need not), ``consented-at``,
``mfa`` and ``redeemed-at``. No token is ever printed or logged.

Exit codes: 0 stored; 1 the sign-in or the store failed; 2 the settings do not allow a consent;
3 the sign-in was refused (no MFA, another tenant).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import json
import socket
import sys
import webbrowser
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import msal
from aiohttp import web
from pydantic import ValidationError

from bot.settings import Settings, open_key_vault, partner_center_config
from partner_center import FileTokenCacheStore, PartnerCenterConfig, PartnerLimits, RateSettings, TokenCacheStore, connect
from partner_center.auth import REDEEMED_AT_TAG
from partner_center.errors import MfaRequiredError, PartnerCenterError
from partner_center.retry import RetryPolicy
from storage import KeyVaultError

__all__ = ("EXIT_FAILED", "EXIT_REFUSED", "EXIT_SETTINGS", "EXIT_STORED", "HELP", "add_arguments", "consent", "run")

HELP = "Sign in once as the Partner Center admin agent (with MFA) and store the token where the bot reads it."
EXIT_STORED, EXIT_FAILED, EXIT_SETTINGS, EXIT_REFUSED = 0, 1, 2, 3
DEFAULT_PORT = 8400
# The delegated permission the Secure Application Model consents to; MSAL adds openid, profile
# and offline_access (the refresh token).
_PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation"
_MFA_SOURCE = "https://learn.microsoft.com/partner-center/developer/partner-center-authentication"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-browser", action="store_true", help="print the sign-in address only (open it yourself)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the local port the browser comes back to: http://localhost:<port>/ (default {DEFAULT_PORT}; register it on the app)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the sign-in (default 600)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        # Never the values (hide_input_in_errors): they may be secrets.
        print("The settings are not valid:", file=sys.stderr)
        for problem in error.errors():
            print(f"  {'.'.join(str(part) for part in problem['loc']) or 'settings'}: {problem['msg']}", file=sys.stderr)
        return EXIT_SETTINGS
    return asyncio.run(consent(settings, port=args.port, open_browser=not args.no_browser, wait_seconds=args.timeout))


class _Refusal(Exception):
    """The command stops here: ``message`` for the operator, ``code`` the exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


async def consent(
    settings: Settings,
    *,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    wait_seconds: float = 600.0,
    say: Callable[[str], None] = print,
) -> int:
    """The consent, start to end; its exit code. ``say`` gets each line meant for the operator."""
    try:
        return await _consent(settings, port=port, open_browser=open_browser, wait_seconds=wait_seconds, say=say)
    except _Refusal as refusal:
        say(refusal.message)
        return refusal.code
    except KeyVaultError as error:
        say(f"Failed: {error}")
        return EXIT_FAILED


async def _consent(settings: Settings, *, port: int, open_browser: bool, wait_seconds: float, say: Callable[[str], None]) -> int:
    if settings.uses_sandbox and not settings.sandbox_url:
        raise _Refusal(
            EXIT_SETTINGS,
            "Consent on the sandbox needs a running one: start `python -m pc_sandbox` and set OFFBOARD_SANDBOX_URL to its address.",
        )
    expected_tenant = settings.partner_identity.tenant_id
    if not expected_tenant:
        raise _Refusal(
            EXIT_SETTINGS,
            "Set OFFBOARD_PARTNER_TENANT (or OFFBOARD_TEAMS_TENANT_ID) to the partner tenant's id (a GUID): "
            "the sign-in is checked against it.",
        )
    vault = open_key_vault(settings)
    try:
        try:
            config = await partner_center_config(settings, vault=vault)
        except ValueError as error:
            raise _Refusal(EXIT_SETTINGS, f"Cannot start the sign-in: {error}") from error
        store: TokenCacheStore = config.token_cache_store or FileTokenCacheStore(config.token_cache_path or settings.token_cache_path)
        cache = msal.SerializableTokenCache()
        app = await asyncio.to_thread(_application, config, cache)
        async with _Listener(port) as listener:
            redirect_uri = f"http://localhost:{listener.port}/"
            # form_post: the code comes back in a POST body, not in a URL that browser history,
            # proxies and Referer headers keep (RFC 9700 §4.3.1; MSAL warns without it).
            flow = await asyncio.to_thread(
                app.initiate_auth_code_flow,
                [_PARTNER_CENTER_SCOPE],
                redirect_uri=redirect_uri,
                prompt="login",
                response_mode="form_post",
            )
            _require_pkce(flow)
            router = config.router()
            address = router.public_url(flow["auth_uri"]) if router is not None else flow["auth_uri"]
            say("Sign in as the Partner Center admin agent, with multi-factor authentication, at:")
            say(f"Sign-in URL: {address}")
            if open_browser:
                await asyncio.to_thread(webbrowser.open, address)
            say(f"Waiting for the browser to come back to {redirect_uri} ...")
            try:
                answer = await asyncio.wait_for(listener.answer, wait_seconds)
            except TimeoutError:
                raise _Refusal(EXIT_FAILED, f"Failed: no sign-in came back within {wait_seconds:.0f} s. Nothing was stored.") from None
        try:
            result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, flow, answer)
        except (ValueError, RuntimeError) as error:
            # MSAL's own checks: a state that is not this flow's (ValueError), an ID token whose
            # nonce is not this flow's (RuntimeError, msal/oauth2cli/oidc.py).
            raise _Refusal(
                EXIT_FAILED, f"Failed: the sign-in answer was not this sign-in's ({_first_line(str(error))}). Nothing was stored."
            ) from error
        if "error" in result or "id_token_claims" not in result or "access_token" not in result:
            detail = result.get("error_description") or result.get("error") or "no ID token or access token"
            raise _Refusal(EXIT_FAILED, f"Failed: the sign-in did not complete: {_first_line(str(detail))}. Nothing was stored.")
        claims: Mapping[str, Any] = result["id_token_claims"]
        access = _access_token_claims(str(result["access_token"]))
        user = str(claims.get("preferred_username") or access.get("upn") or access.get("oid") or "the admin agent")
        accounts = await asyncio.to_thread(app.get_accounts)
        home_account_id = str(accounts[0].get("home_account_id", "")) if accounts else ""
        _check(access, user=user, expected_tenant=expected_tenant, home_account_id=home_account_id)
        await _confirm_with_partner_center(config, str(result["access_token"]), user=user, say=say)
        consented_at = _claim_time(claims)
        who = str(access.get("oid") or claims.get("oid") or "")
        tags = {"consented-by": who, "consented-at": consented_at, "mfa": "true", REDEEMED_AT_TAG: consented_at}
        version = await store.save(cache.serialize(), tags)
    finally:
        if vault is not None:
            await vault.close()
    say(f"Stored the sign-in of {user} (with MFA) in {store.description} (version {version[:12]}).")
    say("Next: run `python -m golive doctor` to check the whole set-up, then (re)start the bot: it reads the token from there.")
    return EXIT_STORED


def _application(config: PartnerCenterConfig, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
    """The same MSAL application (authority, client, credential) the bot uses, so that the bot finds
    the stored account and its refresh token."""
    options: dict[str, Any] = {
        "client_credential": config.certificate.for_msal() if config.certificate else config.client_secret,
        "authority": config.authority,
        "token_cache": cache,
    }
    router = config.router()
    if router is not None:
        options.update(http_client=router, validate_authority=False, instance_discovery=False)
    return msal.ConfidentialClientApplication(config.client_id, **options)


def _require_pkce(flow: Mapping[str, Any]) -> None:
    """MSAL adds PKCE (S256) on its own; refuse to run a code flow without it, should that change."""
    query = parse_qs(urlsplit(str(flow.get("auth_uri", ""))).query)
    if query.get("code_challenge_method") != ["S256"] or not query.get("code_challenge") or not flow.get("code_verifier"):
        raise _Refusal(EXIT_FAILED, "Failed: MSAL did not add PKCE (S256) to the sign-in request; refusing to continue.")


def _access_token_claims(token: str) -> Mapping[str, Any]:
    """The payload of the Partner Center access token (a JWT), not verified: it came straight from
    the token endpoint over TLS in answer to this command's own code redemption (see the module's
    docstring). Never printed: only the claims the checks need are named in messages."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error) as error:
        raise _Refusal(
            EXIT_FAILED,
            "Failed: the Partner Center access token is not a JWT, so whether the sign-in had MFA cannot be read. Nothing was stored.",
        ) from error
    if not isinstance(claims, dict):
        raise _Refusal(EXIT_FAILED, "Failed: the Partner Center access token's payload is not a JSON object. Nothing was stored.")
    return claims


def _home_tenant(claims: Mapping[str, Any], home_account_id: str) -> str:
    """The user's home tenant: MSAL's account id is ``<uid>.<utid>`` (from the token endpoint's
    ``client_info``); else the access token's ``idp`` (present for a user from another tenant,
    naming its issuer ``https://sts.windows.net/<tenant>/``), else ``tid``."""
    _, _, utid = home_account_id.partition(".")
    if utid:
        return utid
    idp = str(claims.get("idp") or "")
    if idp and idp != str(claims.get("iss") or ""):
        return idp.rstrip("/").rsplit("/", 1)[-1]
    return str(claims.get("tid") or "")


def _check(claims: Mapping[str, Any], *, user: str, expected_tenant: str, home_account_id: str = "") -> None:
    """``claims``: the Partner Center access token's payload."""
    methods = claims.get("amr") or []
    if "mfa" not in methods:
        raise _Refusal(
            EXIT_REFUSED,
            f"Refused: the sign-in of {user} did not use multi-factor authentication (its token's authentication methods: "
            f"{', '.join(map(str, methods)) or 'none'}). Partner Center requires MFA for App+User calls since 2026-04-01 "
            f"({_MFA_SOURCE}), so this token would fail on the first removal. Sign in again with MFA: make sure the account "
            "has an MFA method registered and that security defaults or a Conditional Access policy require MFA for this "
            "sign-in, then run `python -m golive consent` again. Nothing was stored.",
        )
    tenant = str(claims.get("tid") or "")
    if tenant.lower() != expected_tenant.lower():
        raise _Refusal(
            EXIT_REFUSED,
            f"Refused: {user} signed in to tenant {tenant or 'unknown'}, not the partner tenant {expected_tenant}. Sign in with "
            "an admin agent account of the partner tenant, then run `python -m golive consent` again. Nothing was stored.",
        )
    home = _home_tenant(claims, home_account_id)
    if home.lower() != expected_tenant.lower():
        raise _Refusal(
            EXIT_REFUSED,
            f"Refused: {user} is a guest in the partner tenant {expected_tenant} (home tenant {home or 'unknown'}). The admin agent "
            "must be a member account of the partner tenant: sign in with one, then run `python -m golive consent` again. "
            "Nothing was stored.",
        )


class _OneToken:
    """The token just obtained, for one Partner Center call (nothing cached, nothing refreshed)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def access_token(self, *, needs_user: bool) -> str:
        return self._token

    async def forget(self, token: str) -> None:
        return None


async def _confirm_with_partner_center(config: PartnerCenterConfig, token: str, *, user: str, say: Callable[[str], None]) -> None:
    """One cheap App+User call (the relationship request link, as ``golive doctor`` makes): Partner
    Center's own MFA check, 401 with code 900421 when the token has none (see partner_center/errors.py).
    Any other failure is said but does not stop the consent: the claims were checked already, and
    ``golive doctor`` checks the rest."""
    retry = RetryPolicy(attempts=2, timeout_seconds=30.0, wait_initial=0.2, wait_max=1.0, wait_jitter=0.1)
    try:
        async with aiohttp.ClientSession() as session:
            client = connect(config, session=session, limits=PartnerLimits(RateSettings()), retry=retry, tokens=_OneToken(token))
            await asyncio.wait_for(client.get_relationship_request_url(), 30.0)
    except MfaRequiredError as error:
        raise _Refusal(
            EXIT_REFUSED,
            f"Refused: Partner Center says the sign-in of {user} did not use multi-factor authentication (401, code 900421; "
            f"{_MFA_SOURCE}). Sign in again with MFA, then run `python -m golive consent` again. Nothing was stored.",
        ) from error
    except (PartnerCenterError, TimeoutError) as error:
        say(
            f"Note: Partner Center did not confirm the sign-in ({_first_line(str(error)) or type(error).__name__}); run `python -m golive doctor` after this."
        )


def _claim_time(claims: Mapping[str, Any]) -> str:
    """When the identity provider signed the user in (``auth_time``, else ``iat``), ISO UTC: on the
    identity provider's clock, which on the sandbox is the sandbox's."""
    seconds = claims.get("auth_time") or claims.get("iat")
    moment = datetime.fromtimestamp(int(seconds), UTC) if isinstance(seconds, (int, float)) else datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:500] if lines else text


class _Listener:
    """Takes one answer of the identity provider on the loopback interface: ``POST /`` with
    ``code`` and ``state`` (or ``error``) in the form, or the same in a ``GET /`` query."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answer: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        app = web.Application()
        app.router.add_post("/", self._redirected)  # response_mode=form_post
        app.router.add_get("/", self._redirected)  # an identity provider that answers in the query
        self._runner = web.AppRunner(app, access_log=None)

    async def __aenter__(self) -> _Listener:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        # "localhost" may be ::1 first in the browser: listen there too when the machine has it.
        with contextlib.suppress(OSError):
            if socket.has_ipv6:
                await web.TCPSite(self._runner, "::1", self.port).start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._runner.cleanup()

    async def _redirected(self, request: web.Request) -> web.Response:
        fields = await request.post() if request.method == "POST" else request.query
        query = {name: str(value) for name, value in fields.items()}
        if "code" not in query and "error" not in query:
            raise web.HTTPNotFound()
        if not self.answer.done():
            self.answer.set_result(query)
        if "error" in query:
            text = "The sign-in did not complete. Go back to the terminal for what to do next."
        else:
            text = "Signed in. You can close this tab and go back to the terminal."
        page = f"<!doctype html><title>Offboard consent</title><p id='offboard-consent'>{text}</p>"
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})
