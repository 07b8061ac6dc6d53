"""Going live: the commands an operator runs around a deployment (``python -m golive <command>``).

- ``consent``: the admin agent's one-time sign-in (authorization code with PKCE in the browser,
  MFA checked), storing MSAL's token cache where the bot reads it (Key Vault, or the local file).

It sits beside ``app.py`` at the top layer: it may import bot, partner_center and storage; nothing
imports it.
"""

from __future__ import annotations
