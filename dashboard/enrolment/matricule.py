"""Luxembourg national identification number (« matricule »), 13 digits.

Layout: ``AAAAMMJJ`` (birth date, month and/or day ``00`` when unknown) + ``SSS`` (serial)
+ ``L`` (Luhn check digit) + ``V`` (Verhoeff check digit).

Both check digits are computed over the first 11 digits only, as laid down by the
Grand-Ducal regulation of 28 November 2013 (13-digit matricule in use since 2014): the
Verhoeff digit does *not* cover the Luhn digit. Together they catch every single-digit
error and every adjacent transposition (Luhn alone misses ``09`` ↔ ``90``).

User-facing messages are French source strings passed through :func:`dashboard.i18n.gettext`,
with a no-break space (U+00A0) before « ; » and « : » so these never start a line. They
never echo the typed number: it is personal data and messages may end up in logs.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Literal

from stdnum import luhn, verhoeff

from dashboard.i18n import gettext as _

__all__ = [
    "REASONS",
    "InvalidMatricule",
    "Reason",
    "birth_date",
    "birth_parts",
    "calc_check_digits",
    "format_display",
    "make",
    "mask",
    "validate",
]

Reason = Literal["length", "digits", "date", "luhn", "verhoeff", "legacy"]
REASONS: tuple[Reason, ...] = ("length", "digits", "date", "luhn", "verhoeff", "legacy")

LENGTH = 13
LEGACY_LENGTH = 11  # pre-2014 format: AAAAMMJJ + 2-digit order + mod-11 check digit
# The format holds any date that exists and is not in the future (no plausibility here:
# a secretary's age is the declaration form's concern). Year 0000 does not exist.
MIN_YEAR = datetime.MINYEAR

# Only ASCII digits count: str.isdigit() and regex \d also accept « ٣ » or « ３ », which
# would slip through to the database and to the CNS as something else entirely.
_DIGITS = frozenset("0123456789")
# No-break spaces come with numbers pasted from French-typeset documents (CNS letters, PDFs).
_SEPARATORS = frozenset(" .-\u00a0\u202f")
_MASK = "•"


class InvalidMatricule(ValueError):
    """The text is not a valid 13-digit matricule; ``message`` is for the user."""

    def __init__(self, reason: Reason, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


def _digits_only(text: str | None) -> str:
    """Strip whitespace and separators; raise ``digits``/``length`` on anything else."""
    stripped = (text or "").strip()
    if not stripped:
        raise InvalidMatricule("length", _("Veuillez saisir les 13 chiffres du matricule."))
    if any(c not in _DIGITS and c not in _SEPARATORS for c in stripped):
        raise InvalidMatricule(
            "digits",
            _(
                "Le matricule ne doit contenir que des chiffres "
                "(les espaces, points et tirets sont acceptés)."
            ),
        )
    # After strip() only « . » or « - » can still sit at either end.
    if stripped[0] in _SEPARATORS or stripped[-1] in _SEPARATORS:
        raise InvalidMatricule(
            "digits",
            _("Les points et tirets ne sont acceptés qu'entre les chiffres du matricule."),
        )
    return "".join(c for c in stripped if c in _DIGITS)


def _check_length(digits: str) -> None:
    count = len(digits)
    if count == LEGACY_LENGTH:
        raise InvalidMatricule(
            "legacy",
            _(
                "Ce numéro à 11 chiffres correspond à l'ancien format du matricule. "
                "Veuillez saisir le matricule à 13 chiffres figurant sur votre carte CNS."
            ),
        )
    if count != LENGTH:
        raise InvalidMatricule(
            "length",
            _(
                "Le matricule doit comporter 13 chiffres\u00a0; vous en avez saisi {n}.",
                n=count,
            ),
        )


def _date_error() -> InvalidMatricule:
    return InvalidMatricule(
        "date",
        _(
            "La date de naissance contenue dans le matricule "
            "(8 premiers chiffres, AAAAMMJJ) n'est pas valide."
        ),
    )


def _parts(digits: str) -> tuple[int, int | None, int | None]:
    """Year, month, day from the first 8 digits; ``00`` means unknown (None)."""
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    if year < MIN_YEAR or month > 12:
        raise _date_error()
    if month == 0:
        # An unknown month with a known day means nothing: reject rather than guess.
        if day != 0:
            raise _date_error()
        return year, None, None
    if day > calendar.monthrange(year, month)[1]:
        raise _date_error()
    return year, month, day or None


def _check_not_future(parts: tuple[int, int | None, int | None], today: datetime.date) -> None:
    year, month, day = parts
    # Compare only what is known: « 2025 00 00 » is fine all through 2025.
    known = (year, month or 0, day or 0)
    limit = (today.year, today.month if month else 0, today.day if day else 0)
    if known > limit:
        raise InvalidMatricule(
            "date",
            _(
                "La date de naissance contenue dans le matricule "
                "(8 premiers chiffres, AAAAMMJJ) est postérieure à la date du jour."
            ),
        )


def _checksum_error(reason: Reason) -> InvalidMatricule:
    return InvalidMatricule(
        reason,
        _(
            "Le matricule saisi n'est pas valide\u00a0: "
            "vérifiez les chiffres (chiffre de contrôle incorrect)."
        ),
    )


def validate(text: str, *, today: datetime.date | None = None) -> str:
    """Return the 13 digits of ``text`` or raise :class:`InvalidMatricule`.

    Spaces, dots and hyphens between digits are removed. ``None`` counts as empty input.
    ``today`` (default: the current date) is the limit for the birth date.
    """
    digits = _digits_only(text)
    _check_length(digits)
    _check_not_future(_parts(digits), today or datetime.date.today())
    first11 = digits[:11]
    if digits[11] != luhn.calc_check_digit(first11):
        raise _checksum_error("luhn")
    if digits[12] != verhoeff.calc_check_digit(first11):
        raise _checksum_error("verhoeff")
    return digits


def calc_check_digits(first11: str) -> str:
    """The Luhn and Verhoeff check digits (in that order) for the first 11 digits."""
    if len(first11) != LEGACY_LENGTH or not set(first11) <= _DIGITS:
        raise ValueError("first11 must be exactly 11 ASCII digits")
    return luhn.calc_check_digit(first11) + verhoeff.calc_check_digit(first11)


def make(birth: str, serial: str) -> str:
    """Build a valid matricule from ``birth`` (``AAAAMMJJ``) and a 3-digit ``serial``."""
    if len(birth) != 8 or len(serial) != 3 or not set(birth + serial) <= _DIGITS:
        raise ValueError("birth must be 8 ASCII digits (AAAAMMJJ) and serial 3 ASCII digits")
    first11 = birth + serial
    # Validate the result so that an impossible or future date fails here, not downstream.
    return validate(first11 + calc_check_digits(first11))


def birth_parts(matricule: str) -> tuple[int, int | None, int | None]:
    """(year, month, day) of a valid matricule; month/day are None when unknown (``00``)."""
    return _parts(validate(matricule))


def birth_date(matricule: str) -> datetime.date | None:
    """Birth date of a valid matricule, or None when month or day is unknown."""
    year, month, day = birth_parts(matricule)
    if month is None or day is None:
        return None
    return datetime.date(year, month, day)


def _thirteen_digits(matricule: str) -> str:
    # Display helpers only need the shape (stored rows were validated on the way in).
    digits = _digits_only(matricule)
    _check_length(digits)
    return digits


def format_display(matricule: str) -> str:
    """``AAAA MMJJ SSS CC`` grouping, e.g. ``1985 0412 123 45``."""
    d = _thirteen_digits(matricule)
    return f"{d[0:4]} {d[4:8]} {d[8:11]} {d[11:13]}"


def mask(matricule: str) -> str:
    """Year and last digit only, e.g. ``1985 •••• ••• •5`` (for logs and lists)."""
    d = _thirteen_digits(matricule)
    return f"{d[0:4]} {_MASK * 4} {_MASK * 3} {_MASK}{d[12]}"
