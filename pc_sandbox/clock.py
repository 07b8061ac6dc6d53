"""The sandbox's controllable clock and the date formats Partner Center uses.

Everything time-dependent in the sandbox (cancellation windows, NCE term ends,
reservation expiry, access-token lifetime) reads this clock, never the system
time, so a test or a demo can jump forward 8 days and watch a window close.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta

__all__ = ("SandboxClock", "add_duration", "format_iso", "parse_iso")


class SandboxClock:
    """A UTC clock that runs at real speed from a chosen start and can be moved.

    By default it starts at the real current time and then ticks with real
    (monotonic) time, so a long-running demo behaves like the real service;
    ``frozen=True`` stops it ticking, which makes tests fully deterministic.

    Example::

        clock = SandboxClock(datetime(2026, 1, 1, tzinfo=timezone.utc), frozen=True)
        clock.advance(timedelta(days=8))

    Time only moves forward through :meth:`advance`; :meth:`set` may jump
    anywhere, but effects already applied (an expired subscription) stay applied.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        if start is None:
            start = datetime.now(UTC)
        self._anchor = _require_aware(start)
        self._anchor_monotonic = time.monotonic()
        self._frozen = frozen

    def now(self) -> datetime:
        """Current sandbox time (timezone-aware UTC)."""
        if self._frozen:
            return self._anchor
        return self._anchor + timedelta(seconds=time.monotonic() - self._anchor_monotonic)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; returns the new time."""
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only advances forward; use set() to jump back")
        return self.set(self.now() + delta)

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment`` (timezone-aware); returns it."""
        self._anchor = _require_aware(moment)
        self._anchor_monotonic = time.monotonic()
        return self._anchor

    def __repr__(self) -> str:
        return f"SandboxClock(now={format_iso(self.now())!r}, frozen={self._frozen})"


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("sandbox times must be timezone-aware")
    return moment.astimezone(UTC)


def format_iso(moment: datetime) -> str:
    """Format as Partner Center does in resources: ``2026-11-24T10:00:00Z``."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 date-time; a missing offset means UTC (as in PC examples)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$", re.IGNORECASE)


def add_duration(moment: datetime, duration: str) -> datetime:
    """Add an ISO 8601 date duration such as ``P1M``, ``P1Y`` or ``P3Y``.

    Calendar arithmetic (not 30-day months) because term ends in Partner
    Center fall on the same day of the month as the start.
    """
    match = _DURATION.match(duration.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"unsupported term duration: {duration!r}")
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    total_months = moment.month - 1 + months + 12 * years
    year, month = moment.year + total_months // 12, total_months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day) + timedelta(weeks=weeks, days=days)
