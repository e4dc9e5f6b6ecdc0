"""What a piece of typed text may contain, shared by every form and filter.

Names, emails and notes are stored, mailed and shown to staff: control characters,
invisible formatting (bidi overrides, zero-width spaces), lone surrogates and NUL bytes
(which PostgreSQL cannot store) are refused there, and stripped from mere search terms.
"""

from __future__ import annotations

import re
import unicodedata

from dashboard.enrolment.errors import ValidationFailed
from dashboard.i18n import gettext as _

NAME_MAX = 200  # the name columns' length
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


def clean_name(value: str | None, field_name: str, label: str, errors: dict) -> str:
    """A person's name as typed, spaces folded; a problem goes into `errors[field_name]`.

    The one rule for every name that is stored and mailed (a declared secretary, a
    professional): present, at most NAME_MAX characters, nothing invisible or controlling
    (a right-to-left override would reorder an email's text), and some letters."""
    text = " ".join((value or "").split())
    if not text:
        errors[field_name] = _("Le champ « {label} » est obligatoire.", label=label)
    elif len(text) > NAME_MAX:
        errors[field_name] = _(
            "Le champ « {label} » ne peut dépasser {n} caractères.", label=label, n=NAME_MAX
        )
    elif has_forbidden(text):
        errors[field_name] = _(
            "Le champ « {label} » contient des caractères non admis.", label=label
        )
    elif not any(c.isalpha() for c in text):
        errors[field_name] = _("Le champ « {label} » doit contenir des lettres.", label=label)
    return text


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


# --- the fields of a declaration (and of a staff or professional record) ---------------------

EMAIL_RE = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9 ./()-]{6,20}$")


def clean_email(value: str | None, errors: dict, field_name: str = "email") -> str:
    """An email address, lower-cased; a French message in `errors[field_name]` if refused."""
    text = (value or "").strip()
    if not text:
        errors[field_name] = _("L'adresse email est obligatoire.")
    elif len(text) > 254 or not EMAIL_RE.match(text) or has_forbidden(text):
        errors[field_name] = _(
            "L'adresse email n'est pas valide (exemple : prenom.nom@exemple.lu)."
        )
    return text.lower()


# --- notes (a reviewer's, or the reason given when an access ends) ---------------------

NOTE_MAX = 5000


def clean_note(text: str | None, field_name: str = "note", *, required: bool = True) -> str:
    """A reviewer's free text: several lines allowed, invisible or control characters not."""
    text = (text or "").strip()
    if not text and required:
        raise ValidationFailed({field_name: _("La note est vide.")})
    if len(text) > NOTE_MAX:
        raise ValidationFailed(
            {field_name: _("La note ne peut dépasser {n} caractères.", n=NOTE_MAX)}
        )
    if has_forbidden(text, multiline=True):
        raise ValidationFailed(
            {field_name: _("La note contient des caractères non admis ; rien n'a été enregistré.")}
        )
    return text
