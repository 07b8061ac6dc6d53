"""Dates, times, numbers and relative days as the cards write them.

English only for now ("24 Nov 2026", "12:04 UTC", "1,000", "in 3 days"); a later change switches
these helpers to Babel for French and Russian, so cards call them and never format by hand.
Times are shown in UTC and say so: a channel's members do not share one time zone. A naive
datetime is taken as UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .texts import t

__all__ = (
    "as_utc",
    "format_date",
    "format_date_relative",
    "format_datetime",
    "format_number",
    "format_time",
    "relative_days",
)


def format_date(dt: datetime, locale: str = "en-US") -> str:
    """The day of ``dt`` in UTC: ``"24 Nov 2026"``."""
    day = as_utc(dt)
    return t(locale, "date.short", day=str(day.day), month=t(locale, f"date.month.{day.month}"), year=str(day.year))


def format_time(dt: datetime, locale: str = "en-US") -> str:
    """The time of ``dt`` in UTC: ``"12:04 UTC"``."""
    moment = as_utc(dt)
    return t(locale, "time.short", hour=f"{moment.hour:02d}", minute=f"{moment.minute:02d}")


def format_datetime(dt: datetime, locale: str = "en-US") -> str:
    """``"24 Nov 2026, 12:04 UTC"``."""
    return t(locale, "datetime.short", date=format_date(dt, locale), time=format_time(dt, locale))


def relative_days(dt: datetime, now: datetime, locale: str = "en-US") -> str:
    """How far ``dt`` is from ``now`` in calendar days (UTC): ``"in 3 days"``, ``"20 days ago"``, ``"today"``."""
    days = (as_utc(dt).date() - as_utc(now).date()).days
    if days == 0:
        return t(locale, "relative.today")
    if days == 1:
        return t(locale, "relative.tomorrow")
    if days == -1:
        return t(locale, "relative.yesterday")
    if days > 0:
        return t(locale, "relative.future", count=days)
    return t(locale, "relative.past", count=-days)


def format_date_relative(dt: datetime, now: datetime | None, locale: str = "en-US") -> str:
    """``"24 Nov 2026 (in 3 days)"``, or just the date when there is no ``now``."""
    if now is None:
        return format_date(dt, locale)
    return t(locale, "date.with_relative", date=format_date(dt, locale), relative=relative_days(dt, now, locale))


def format_number(value: int, locale: str = "en-US") -> str:
    """``1000`` → ``"1,000"``."""
    return f"{value:,}"


def as_utc(dt: datetime) -> datetime:
    """``dt`` in UTC; a naive datetime is taken to be UTC already."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
