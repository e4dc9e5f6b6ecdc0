"""What a piece of typed text may contain, shared by every form and filter.

Names, emails and notes are stored, mailed and shown to staff: control characters,
invisible formatting (bidi overrides, zero-width spaces), lone surrogates and NUL bytes
(which PostgreSQL cannot store) are refused there, and stripped from mere search terms.
"""

from __future__ import annotations

import re
import unicodedata

REPLACEMENT = "\ufffd"  # what a mangled byte or a lone surrogate arrives as
_KEPT_IN_NOTES = frozenset("\n\t")
# A NUL byte or a lone surrogate; one regular-expression scan per string (callback bodies
# hold hundreds of strings: a per-character test in Python cost ~1 ms a request).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def forbidden(char: str, *, multiline: bool = False) -> bool:
    """Whether `char` may not be stored in a text field."""
    if multiline and char in _KEPT_IN_NOTES:
        return False
    if char == REPLACEMENT:
        return True
    # Cc control, Cf format (bidi overrides, zero-width), Cs surrogate, Co private, Cn unassigned
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn")


def has_forbidden(text: str | None, *, multiline: bool = False) -> bool:
    return any(forbidden(c, multiline=multiline) for c in text or "")


def searchable(text: str | None, limit: int = 200) -> str:
    """A search term with what cannot match anything taken out, trimmed to `limit`."""
    return "".join(c for c in (text or "") if not forbidden(c)).strip()[:limit]


def scrub(value):
    """A decoded JSON value with lone surrogates and NUL bytes made U+FFFD, in place for
    lists and dicts, as a browser's form decoding does: such text cannot be encoded or
    stored, and the field checks then refuse it in plain French."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = scrub(item)
    elif isinstance(value, dict):
        for key in list(value):
            clean = scrub(key)
            if clean is not key:  # re.sub returns the very string when nothing was replaced
                value[clean] = value.pop(key)
            value[clean] = scrub(value[clean])
    return value
