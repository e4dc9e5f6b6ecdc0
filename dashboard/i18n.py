"""The one translation helper for every user-facing string.

Source strings are French (the agency's language of reference). The German and English
catalogues are the gettext files ``dashboard/locale/<lang>/LC_MESSAGES/messages.po``, read
directly with Babel (no compiled ``.mo`` file, no build step) and cached per language:
fuzzy entries are ignored, and a message that is missing or not yet translated falls back
to the French source text. ``make messages`` extracts the strings and updates the catalogues.

Usage: ``_("Bonjour {name}.", name=n)`` translates, then fills the ``{name}`` placeholders
with ``str.format``. ``N_("...")`` only marks a string for extraction (a table entry that is
translated where it is shown: ``_(LABELS[code])``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
LANGUAGES = ("fr", "de", "en")
DEFAULT_LANGUAGE = "fr"
# Babel's locale for each language: dates and numbers as their readers write them
# (31 mars 2026, 31. März 2026, 31 March 2026).
DATE_LOCALES = {"fr": "fr_LU", "de": "de_LU", "en": "en_GB"}

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of the language's .po file (translated, non-fuzzy entries only)."""
    path = catalogue_path(language)
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return {}
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN, ignore_obsolete=True)
    table: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy or message.context:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        msgstr = message.string[0] if isinstance(message.string, tuple) else message.string
        if msgstr:
            table[msgid] = msgstr
    return table


_memos: list[dict] = []


def per_language(fn: Callable[..., str]) -> Callable[..., str]:
    """Cache a pure function of its (hashable) arguments and the current language: labels
    built from a few codes, asked for once per row of every page."""
    memo: dict = {}
    _memos.append(memo)

    @functools.wraps(fn)
    def cached(*args) -> str:
        key = (_current.get(), args)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = fn(*args)
            return value

    return cached


def reload_catalogues() -> None:
    """Forget the cached catalogues (after the .po files changed)."""
    _catalogue.cache_clear()
    for memo in _memos:
        memo.clear()


def set_language(language: str | None) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str, **params: object) -> str:
    """Translate ``message`` into the current language, then fill ``{name}`` params."""
    text = _catalogue(_current.get()).get(message, message)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        if text is message:
            raise
        # A translation with broken placeholders must not break the page: French instead.
        return message.format(**params)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate it where shown)."""
    return message


_ = gettext


_LUXEMBOURG = ZoneInfo("Europe/Luxembourg")


def long_date(value: dt.date | dt.datetime, language: str | None = None) -> str:
    """A date the way the reader writes it, in Luxembourg time: « 1er janvier 2027 »,
    "1. Januar 2027", "1 January 2027"."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(_LUXEMBOURG).date()
    language = language if language in LANGUAGES else current_language()
    text = format_date(value, format="long", locale=DATE_LOCALES[language])
    # French writes the first of the month as an ordinal (Babel does not).
    return "1er" + text[1:] if language == "fr" and value.day == 1 else text


def long_date_time(value: dt.datetime, language: str | None = None) -> str:
    """The date as long_date writes it, then the Luxembourg time: "4 mars 2026, 10:00"."""
    local = value.astimezone(_LUXEMBOURG)
    return f"{long_date(local, language)}, {local:%H:%M}"
