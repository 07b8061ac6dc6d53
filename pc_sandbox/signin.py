"""The interactive half of the Entra stand-in: ``/authorize``, a sign-in page and an MFA page.

The authorization code flow with PKCE, as Microsoft describes it
(https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow):

1. ``GET /{tenant}/oauth2/v2.0/authorize?client_id&response_type=code&redirect_uri&scope&state
   &code_challenge&code_challenge_method=S256&nonce[&prompt&login_hint]`` checks the request and
   serves the sign-in page;
2. ``POST /{tenant}/login`` (fields ``flow``, ``login``, ``passwd``) checks the password, then
   serves the MFA page unless ``SandboxOptions.user_mfa`` is false;
3. ``POST /{tenant}/SAS/ProcessAuth`` (fields ``flow``, ``otc``) checks the one-time code;
4. the browser is sent (302) to ``redirect_uri?code=...&state=...`` (``response_mode=query``, the
   default; ``fragment`` puts them after ``#``; ``form_post`` answers a page that POSTs them to the
   redirect URI); the code is redeemed at the token endpoint (``grant_type=authorization_code``, in
   ``auth.py``) with the ``code_verifier``.

Element ids copy Entra's own page so a test drives it the same way: login ``i0116``, password
``i0118``, "Sign in" ``idSIButton9``, MFA code ``idTxtBx_SAOTCC_OTC``, "Verify"
``idSubmit_SAOTCC_Continue``; errors in ``usernameError``, ``passwordError`` and
``idSpan_SAOTCC_Error_OTC``; an authorize request refused before a redirect is possible shows
``errorCode`` / ``errorDescription``.

Rules and their sources:

- Unknown client or an unregistered ``redirect_uri``: an error page, never a redirect (RFC 6749
  §4.1.2.1). Registered redirect URIs are loopback ones, ``http://localhost:<port>/...`` and
  ``http://127.0.0.1:<port>/...``, any port ("Entra's loopback exception",
  https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions).
- PKCE is required, S256 only: Microsoft recommends PKCE for every client of the code flow
  (page above); *requiring* it is the sandbox's choice (assumption), so that a client that
  forgets it fails here. Refused with a redirect carrying ``error=invalid_request`` and an
  ``AADSTS`` description; the code numbers are Entra's where one exists (``501491`` "Invalid size
  of Code_Challenge parameter", reference-error-codes page), otherwise ``9002325``
  (assumption: Entra's "Proof Key for Code Exchange is required" error, used for both).
- A code is single-use and lives 10 minutes on the sandbox clock ("Authorization codes are
  short lived. Typically, they expire after about 10 minutes", page above).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from .auth import tenant_id_for
from .auth_codes import PendingSignIn
from .demo import DEMO
from .state import STATE, SandboxState

__all__ = ("routes",)

routes = web.RouteTableDef()

_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded (RFC 7636 §4.2)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # No form-action: the last form's answer is a redirect to the client's loopback URI.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


# ---- The authorize request ----


def _registered_redirect(uri: str) -> bool:
    """Loopback URIs only: ``http://localhost:<port>/...`` or ``http://127.0.0.1:<port>/...``."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS and port is not None and not parts.fragment


def _error_redirect(redirect_uri: str, state: str | None, error: str, code: int, description: str, mode: str = "query") -> web.Response:
    query = {"error": error, "error_description": f"AADSTS{code}: {description}"}
    if state is not None:
        query["state"] = state
    return _to_client(redirect_uri, query, mode)


def _to_client(redirect_uri: str, params: dict[str, str], mode: str) -> web.Response:
    """Answer the client as ``response_mode`` asks: a 302 with the parameters in the query (the
    default for ``code``) or the fragment, or ``form_post``: a page that POSTs them to the
    redirect URI (what MSAL recommends, RFC 9700 §4.3.1)."""
    if mode == "form_post":
        fields = "".join(f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">' for key, value in params.items())
        document = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Working...</title></head><body>'
            f'<form method="post" action="{html.escape(redirect_uri)}" id="hiddenform">{fields}'
            '<noscript><input type="submit" id="submitButton" value="Continue"></noscript></form>'
            f"<script>{_AUTO_SUBMIT}</script></body></html>"
        )
        headers = {
            **_PAGE_HEADERS,
            "Content-Security-Policy": f"default-src 'none'; script-src '{_AUTO_SUBMIT_HASH}'; frame-ancestors 'none'",
        }
        return web.Response(text=document, content_type="text/html", headers=headers)
    separator = "#" if mode == "fragment" else ("&" if urlsplit(redirect_uri).query else "?")
    return web.Response(status=302, headers={"Location": redirect_uri + separator + urlencode(params), "Cache-Control": "no-store"})


_AUTO_SUBMIT = "document.getElementById('hiddenform').submit();"
_AUTO_SUBMIT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_AUTO_SUBMIT.encode()).digest()).decode()
_RESPONSE_MODES = frozenset({"query", "fragment", "form_post"})


@routes.get("/{tenant}/oauth2/v2.0/authorize")
async def authorize(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    tenant = request.match_info["tenant"]
    query = request.query
    tenant_id = tenant_id_for(state, tenant)
    if tenant_id is None:
        return _error_page(
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
            status=400,
        )
    client_id = query.get("client_id", "")
    if client_id != DEMO.client_id:
        return _error_page(
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{DEMO.tenant}'. This can happen if the "
            "application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
            status=400,
        )
    redirect_uri = query.get("redirect_uri", "")
    if not _registered_redirect(redirect_uri):
        return _error_page(
            50011,
            f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the "
            f"application '{client_id}'. (The sandbox registers loopback URIs only: http://localhost:<port>/... and "
            "http://127.0.0.1:<port>/...)",
            status=400,
        )
    client_state = query.get("state")
    mode = query.get("response_mode", "query")
    if mode not in _RESPONSE_MODES:
        return _error_redirect(redirect_uri, client_state, "invalid_request", 900144, f"Unsupported response_mode '{mode}'.")
    if query.get("response_type") != "code":
        return _error_redirect(
            redirect_uri,
            client_state,
            "unsupported_response_type",
            700054,
            f"response_type '{query.get('response_type', '')}' is not enabled for the application. The sandbox serves the "
            "authorization code flow only.",
            mode,
        )
    challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
    if not challenge:
        return _error_redirect(
            redirect_uri,
            client_state,
            "invalid_request",
            9002325,
            "Proof Key for Code Exchange is required: the request has no code_challenge (the sandbox requires PKCE with S256).",
            mode,
        )
    if method != "S256":
        return _error_redirect(
            redirect_uri,
            client_state,
            "invalid_request",
            9002325,
            f"Proof Key for Code Exchange is required with code_challenge_method S256; got '{method or 'plain (default)'}'.",
            mode,
        )
    if not _CHALLENGE.match(challenge):
        return _error_redirect(redirect_uri, client_state, "invalid_request", 501491, "Invalid size of Code_Challenge parameter.", mode)
    if not query.get("scope", "").strip():
        return _error_redirect(
            redirect_uri, client_state, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.", mode
        )
    flow = PendingSignIn(
        tenant=tenant,
        tenant_id=tenant_id,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=query["scope"],
        state=client_state,
        code_challenge=challenge,
        nonce=query.get("nonce"),
        login_hint=query.get("login_hint", ""),
        response_mode=mode,
        started=state.clock.now(),
    )
    return _sign_in_page(tenant, state.signin.start(flow), flow.login_hint)


# ---- Password ----


@routes.post("/{tenant}/login")
async def login(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    tenant = request.match_info["tenant"]
    form = await request.post()
    flow_id = str(form.get("flow", ""))
    flow = _current_flow(state, flow_id, tenant)
    if flow is None:
        return _expired_page()
    login_name = str(form.get("login", "")).strip()
    if login_name.lower() != DEMO.username.lower():
        return _sign_in_page(
            tenant,
            flow_id,
            login_name,
            username_error="This username may be incorrect. Make sure you typed it correctly. (AADSTS50034)",
        )
    if str(form.get("passwd", "")) != DEMO.password:
        return _sign_in_page(
            tenant,
            flow_id,
            login_name,
            password_error="Your account or password is incorrect. If you don't remember your password, reset it now. (AADSTS50126)",
        )
    flow.password_ok = True
    if not state.options.user_mfa:
        # A user without MFA registered (or a policy that does not ask): amr = ["pwd"].
        return _complete(state, flow_id, flow, mfa=False)
    return _mfa_page(tenant, flow_id)


# ---- Second factor ----


@routes.post("/{tenant}/SAS/ProcessAuth")
async def process_auth(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    tenant = request.match_info["tenant"]
    form = await request.post()
    flow_id = str(form.get("flow", ""))
    flow = _current_flow(state, flow_id, tenant)
    if flow is None or not flow.password_ok:
        return _expired_page()
    if str(form.get("otc", "")).strip() != DEMO.mfa_code:
        return _mfa_page(tenant, flow_id, error="You didn't enter the expected verification code. Please try again.")
    return _complete(state, flow_id, flow, mfa=True)


def _current_flow(state: SandboxState, flow_id: str, tenant: str) -> PendingSignIn | None:
    flow = state.signin.find(flow_id, state.clock.now())
    return flow if flow is not None and flow.tenant == tenant else None


def _complete(state: SandboxState, flow_id: str, flow: PendingSignIn, *, mfa: bool) -> web.StreamResponse:
    sign_in = state.refresh_tokens.sign_in(client_id=flow.client_id, mfa=mfa)
    code = state.signin.finish(flow_id, flow, sign_in, state.clock.now())
    params = {"code": code.value}
    if flow.state is not None:
        params["state"] = flow.state
    return _to_client(flow.redirect_uri, params, flow.response_mode)


# ---- Pages ----

_STYLE = (
    "body{font-family:'Segoe UI',Arial,sans-serif;background:#f2f2f2;margin:0}"
    "main{background:#fff;max-width:440px;margin:60px auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}"
    "h1{font-size:24px;font-weight:600;margin:0 0 16px}label{display:block;margin:12px 0 4px}"
    "input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:6px;font-size:15px}"
    "input[type=submit]{margin-top:20px;background:#0067b8;color:#fff;border:0;padding:8px 32px;font-size:15px}"
    ".error{color:#e81123;min-height:1em}.hint{color:#555;font-size:13px;margin-top:24px}"
)


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return web.Response(text=document, status=status, content_type="text/html", headers=_PAGE_HEADERS)


def _sign_in_page(tenant: str, flow_id: str, login_name: str, *, username_error: str = "", password_error: str = "") -> web.Response:
    action = html.escape(f"/{tenant}/login")
    return _page(
        "Sign in to your account",
        f'<div id="loginHeader"><h1>Sign in</h1></div>'
        f'<p id="appName">to continue to {html.escape(DEMO.client_id)} (Offboard sandbox)</p>'
        f'<form method="post" action="{action}" id="credentials" autocomplete="off">'
        f'<input type="hidden" name="flow" value="{html.escape(flow_id)}">'
        f'<label for="i0116">Email, phone, or Skype</label>'
        f'<input type="email" name="login" id="i0116" value="{html.escape(login_name)}" autocomplete="username" required>'
        f'<div id="usernameError" class="error" role="alert">{html.escape(username_error)}</div>'
        f'<label for="i0118">Password</label>'
        f'<input type="password" name="passwd" id="i0118" autocomplete="current-password" required>'
        f'<div id="passwordError" class="error" role="alert">{html.escape(password_error)}</div>'
        f'<input type="submit" id="idSIButton9" value="Sign in">'
        f"</form>"
        f'<p class="hint" id="sandboxSignInHint">Sandbox sign-in: {html.escape(DEMO.username)}, password '
        f"{html.escape(DEMO.password)}.</p>",
        status=200,
    )


def _mfa_page(tenant: str, flow_id: str, *, error: str = "") -> web.Response:
    action = html.escape(f"/{tenant}/SAS/ProcessAuth")
    return _page(
        "Verify your identity",
        f'<h1 id="idDiv_SAOTCC_Title">Enter code</h1>'
        f'<p id="idDiv_SAOTCC_Description">Enter the code displayed in the authenticator app on your mobile device.</p>'
        f'<form method="post" action="{action}" id="idDiv_SAOTCC_Form" autocomplete="off">'
        f'<input type="hidden" name="flow" value="{html.escape(flow_id)}">'
        f'<label for="idTxtBx_SAOTCC_OTC">Code</label>'
        f'<input type="text" name="otc" id="idTxtBx_SAOTCC_OTC" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required>'
        f'<div id="idSpan_SAOTCC_Error_OTC" class="error" role="alert">{html.escape(error)}</div>'
        f'<input type="submit" id="idSubmit_SAOTCC_Continue" value="Verify">'
        f"</form>"
        f'<p class="hint" id="sandboxMfaHint">Sandbox: the code is {html.escape(DEMO.mfa_code)}.</p>',
    )


def _error_page(code: int, description: str, *, status: int) -> web.Response:
    return _page(
        "Sign in to your account",
        f"<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p id="errorCode">AADSTS{code}</p>'
        f'<p id="errorDescription">AADSTS{code}: {html.escape(description)}</p>',
        status=status,
    )


def _expired_page() -> web.Response:
    return _error_page(
        50058,
        "This sign-in has expired or was already completed. Start again from the application (run the consent command again).",
        status=400,
    )
