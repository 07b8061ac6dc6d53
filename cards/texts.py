"""Every user-facing string, by message id, from per-language gettext catalogs.

The catalogs are ``cards/locales/<language>/LC_MESSAGES/offboard.po``: English (the source), French
and Russian. Message ids are symbolic (``plan.title``) and messages use named placeholders
(``{customer}``), so a translator can reorder a sentence and cards never glue sentences together
from fragments. ``t(locale, key, **values)`` looks a message up in the language of ``locale``
(Teams sends it on every activity: ``fr-FR``, ``ru-RU``), falls back to English for a language
without a catalog, and fills it in.

A message with plural forms takes its form from the ``count`` value through the catalog's
``Plural-Forms`` rule (Babel writes it from CLDR: two forms in English and French, three in
Russian: 1 день, 3 дня, 5 дней), read by the standard gettext machinery. Integer values are written
with the locale's digit grouping ("1,000", "1 000").

Example::

    t("en-US", "plan.title", customer="Contoso Ltd")   # 'Removal plan for Contoso Ltd'
    t("ru-RU", "relative.future", count=3)             # 'через 3 дня'
"""

from __future__ import annotations

import io
import string
from functools import cache
from importlib.resources import files
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = (
    "DEFAULT_LOCALE",
    "LANGUAGES",
    "babel_locale",
    "catalog_messages",
    "has_message",
    "language_of",
    "message_ids",
    "plural_ids",
    "t",
)

DEFAULT_LOCALE = "en-US"
LANGUAGES = ("en", "fr", "ru")  # one catalog each; English is the source and the fallback
_SOURCE = "en"
_LOCALES = files(__package__) / "locales"
_DOMAIN = "offboard"
_FORMATTER = string.Formatter()


def t(locale: str, key: str, **values: Any) -> str:
    """The message ``key`` in the language of ``locale`` (English without a catalog), filled with ``values``.

    :param locale: a Teams locale such as ``"en-US"`` or ``"fr-FR"``.
    :param key: the message id, e.g. ``"plan.title"``.
    :param values: the placeholders; ``count`` picks the plural form; integers get digit grouping.
    :raises KeyError: for an unknown message id, or a placeholder without a value.
    """
    if key not in _source():
        raise KeyError(f"no card message {key!r} in the text catalog (cards/locales/en/LC_MESSAGES/offboard.po)")
    translations = _translations(language_of(locale))
    message: str  # Babel is untyped: its gettext family returns str
    if key in plural_ids():
        if "count" not in values:
            raise KeyError(f"card message {key!r} has plural forms and needs a 'count' value")
        message = translations.ngettext(key, key, int(values["count"]))
    else:
        message = translations.gettext(key)
    filled = {name: _value(value, locale) for name, value in values.items()}
    missing = [name for name in _placeholders(message) if name not in filled]
    if missing:
        raise KeyError(f"card message {key!r} needs a value for {', '.join(map(repr, missing))}")
    return message.format_map(filled)


def language_of(locale: str) -> str:
    """The catalog language for a Teams locale: ``"fr-CA"`` → ``"fr"``; one without a catalog → ``"en"``."""
    language = (locale or "").replace("_", "-").split("-", 1)[0].lower()
    return language if language in LANGUAGES else _SOURCE


def babel_locale(locale: str) -> Locale:
    """The Babel locale that formats dates and numbers for ``locale``, in the language of its texts.

    A region Babel knows is kept (``en-GB`` writes "24 Nov 2026", ``en-US`` "Nov 24, 2026"); a
    language without a catalog formats as US English, so a card never mixes English words with,
    say, German dates.
    """
    language = language_of(locale)
    tag = (locale or "").replace("-", "_")
    if tag.split("_", 1)[0].lower() == language:
        try:
            return Locale.parse(tag)
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(language if language != _SOURCE else "en_US")


def has_message(key: str) -> bool:
    """Whether ``key`` is a message id (of the English catalog, which every other one mirrors)."""
    return key in _source()


def message_ids() -> tuple[str, ...]:
    """Every message id of the English catalog, sorted: for tests and tools."""
    return tuple(sorted(_source()))


def plural_ids() -> frozenset[str]:
    """The message ids that have plural forms (they need a ``count``)."""
    return _plural_ids()


def catalog_messages(language: str) -> dict[str, tuple[str, ...]]:
    """Every translated message of one catalog: id → its forms (one form, or one per plural form)."""
    return {
        message.id[0] if isinstance(message.id, tuple) else message.id: (
            tuple(message.string) if isinstance(message.string, tuple) else (message.string,)
        )
        for message in _catalog(language)
        if message.id and not message.fuzzy and (all(message.string) if isinstance(message.string, tuple) else message.string)
    }


@cache
def _catalog(language: str) -> Catalog:
    # Package data, read once per process (cached): the catalogs ship inside the cards package.
    source = (_LOCALES / language / "LC_MESSAGES" / f"{_DOMAIN}.po").read_bytes()
    return read_po(io.BytesIO(source), locale=language, domain=_DOMAIN)


@cache
def _source() -> frozenset[str]:
    return frozenset(catalog_messages(_SOURCE))


@cache
def _plural_ids() -> frozenset[str]:
    return frozenset(message.id[0] for message in _catalog(_SOURCE) if isinstance(message.id, tuple))


@cache
def _translations(language: str) -> Translations:
    """gettext translations compiled in memory from the .po file, English behind every other language."""
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(language))
    compiled.seek(0)
    translations = Translations(compiled, domain=_DOMAIN)
    if language != _SOURCE:
        translations.add_fallback(_translations(_SOURCE))
    return translations


def _placeholders(message: str) -> list[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(message) if name]


def _value(value: Any, locale: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        from .format import format_number  # imported here: format.py uses t()

        return format_number(value, locale)
    return value
