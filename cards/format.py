"""Dates, times, numbers and relative days as the cards write them, per locale, through Babel.

"Nov 24, 2026" / "24 nov. 2026" / "24 нояб. 2026 г."; "12:04 PM UTC" / "12:04 UTC"; "1,000" / "1 000";
"in 3 days" / "dans 3 jours" / "через 3 дня". Cards call these helpers and never format by hand.
Times are shown in UTC and say so: a channel's members do not share one time zone. A naive
datetime is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel import dates, numbers

from .texts import babel_locale, t

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
    """The day of ``dt`` in UTC, in the locale's medium form: ``"Nov 24, 2026"``, ``"24 nov. 2026"``."""
    return str(dates.format_date(as_utc(dt).date(), format="medium", locale=babel_locale(locale)))


def format_time(dt: datetime, locale: str = "en-US") -> str:
    """The time of ``dt`` in UTC: ``"12:04 PM UTC"``, ``"12:04 UTC"``."""
    return t(locale, "time.utc", time=_short_time(dt, locale))


def format_datetime(dt: datetime, locale: str = "en-US") -> str:
    """``"Nov 24, 2026, 12:04 PM UTC"``, ``"24 nov. 2026 à 12:04 UTC"``."""
    return t(locale, "datetime.utc", date=format_date(dt, locale), time=_short_time(dt, locale))


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
    """``1000`` → ``"1,000"`` (en), ``"1\u202f000"`` (fr), ``"1\xa0000"`` (ru)."""
    return str(numbers.format_decimal(value, locale=babel_locale(locale)))


def _short_time(dt: datetime, locale: str) -> str:
    return str(dates.format_time(as_utc(dt).time(), format="short", locale=babel_locale(locale)))


def as_utc(dt: datetime) -> datetime:
    """``dt`` in UTC; a naive datetime is taken to be UTC already."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
