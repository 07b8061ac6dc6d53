"""Where the bot may send: the Bot Framework service URLs it trusts, checked on the way in and
before every send.

botbuilder 4.17.1 sends the bot's Bot Framework token to whatever ``serviceUrl`` an activity, a
stored case or an installation names (its trust list is obsolete: ``AppCredentials.trust_service_url``
says it is "not a required part of the security model"). Authentication binds the URL of an
incoming activity to its token (the ``serviceurl`` claim), but a stored reference outlives that
check. So in live mode replies, proactive messages and roster reads go only to the hosts allowed
here (security review, finding 14); on the sandbox, whose Teams is the local Agents Playground,
anything goes.

An allowed entry is a host name (``smba.trafficmanager.net``), a domain's subdomains
(``*.botframework.com``), both https only, or a whole origin (``http://127.0.0.1:8080``) for a
test's connector.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ("ServiceUrlPolicy", "ServiceUrlRefused")

# A host name as DNS writes it. Anything else (a backslash, ";", "%", "@") is where URL parsers
# disagree: urlsplit reads "evil.example\.botframework.com" as one host, requests sends to
# "evil.example".
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_UNSAFE = re.compile(r"[\\\s;%@]")


class ServiceUrlRefused(PermissionError):
    """A send to a service URL the bot does not trust was stopped."""


class ServiceUrlPolicy:
    """:param allowed: the allowed entries; None allows every http(s) URL (the sandbox)."""

    def __init__(self, allowed: tuple[str, ...] | list[str] | None) -> None:
        self._any = allowed is None
        entries = [entry.strip().lower().rstrip("/") for entry in allowed or () if entry.strip()]
        self._origins = frozenset(entry for entry in entries if "://" in entry)
        self._hosts = frozenset(entry for entry in entries if "://" not in entry and not entry.startswith("*."))
        self._domains = tuple(entry[1:] for entry in entries if entry.startswith("*."))  # ".botframework.com"

    @property
    def allows_any(self) -> bool:
        return self._any

    def allows(self, url: str | None) -> bool:
        if not isinstance(url, str) or _UNSAFE.search(url.split("/", 3)[2] if url.count("/") >= 2 else url):
            return False
        try:
            parts = urlsplit(url.strip())
            port = parts.port  # raises on a malformed port
        except ValueError:
            return False
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        if scheme not in ("https", "http") or not _HOST.match(host) or parts.username or parts.password:
            return False
        if self._any:
            return True
        origin = f"{scheme}://{host}" + (f":{port}" if port is not None else "")
        if origin in self._origins:
            return True
        if scheme != "https" or port not in (None, 443):
            return False
        return host in self._hosts or any(host.endswith(domain) for domain in self._domains)

    def check(self, url: str | None) -> None:
        """:raises ServiceUrlRefused: the URL is not allowed (nothing is sent)."""
        if not self.allows(url):
            raise ServiceUrlRefused(f"refused to send to a service URL that is not allowed: {str(url)[:120]!r}")
