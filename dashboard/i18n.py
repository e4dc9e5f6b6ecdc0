"""The one translation helper for every user-facing string.

Source strings are French (the agency's language of reference). Catalogues for German
and English are looked up with gettext under ``dashboard/locale``; a missing catalogue
falls back to the French source text.
"""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("fr", "de", "en")
DEFAULT_LANGUAGE = "fr"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def _catalogue(language: str) -> _gettext.NullTranslations:
    return _gettext.translation("messages", LOCALE_DIR, languages=[language], fallback=True)


def set_language(language: str | None) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str, **params: object) -> str:
    """Translate ``message`` into the current language, then fill ``{name}`` params."""
    text = _catalogue(_current.get()).gettext(message)
    return text.format(**params) if params else text


_ = gettext
