"""Where the bot may send: the service-URL fence (bot/service_urls.py), live mode's list."""

from __future__ import annotations

import pytest

from bot.service_urls import ServiceUrlPolicy, ServiceUrlRefused
from bot.settings import MICROSOFT_SERVICE_URL_HOSTS

LIVE = ServiceUrlPolicy(MICROSOFT_SERVICE_URL_HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/teams/",
        "https://smba.infra.gcc.teams.microsoft.com/teams",
        "https://smba.infra.gov.teams.microsoft.us/teams",
        "https://smba.infra.dod.teams.microsoft.us/teams",
        "https://webchat.botframework.com/",
        "https://SMBA.trafficmanager.net:443/amer/",
    ],
)
def test_microsofts_bot_framework_hosts_are_allowed(url: str) -> None:
    assert LIVE.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://smba.trafficmanager.net/emea/",  # not https
        "https://smba.trafficmanager.net:8443/emea/",  # another port
        "https://evil.example/",
        "https://smba.trafficmanager.net.evil.example/",
        "https://evilbotframework.com/",  # a suffix, not a subdomain
        "https://evil.example\\.botframework.com/",  # urlsplit's host is not the one requests connects to
        "https://evil.example;.botframework.com/",
        "https://user:pass@smba.trafficmanager.net/",
        "https://evil.example%2f.botframework.com/",
        "https://smba.trafficmanager.net:notaport/",
        "javascript:alert(1)",
        "",
        None,
    ],
)
def test_anything_else_is_refused(url: str | None) -> None:
    assert not LIVE.allows(url)
    with pytest.raises(ServiceUrlRefused):
        LIVE.check(url)


def test_a_whole_origin_allows_exactly_that_origin() -> None:
    policy = ServiceUrlPolicy(["http://127.0.0.1:8080"])
    assert policy.allows("http://127.0.0.1:8080/v3/conversations")
    assert not policy.allows("http://127.0.0.1:8081/") and not policy.allows("https://127.0.0.1:8080/")


def test_on_the_sandbox_any_well_formed_http_url_is_allowed() -> None:
    sandbox = ServiceUrlPolicy(None)
    assert sandbox.allows("http://127.0.0.1:56150/_connector") and sandbox.allows_any
    assert not sandbox.allows("file:///etc/passwd") and not sandbox.allows("https://evil.example\\.x/")
