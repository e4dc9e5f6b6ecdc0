"""Comparison of the declared identity with the identity returned by LuxTrust (DESIGN §3).

Each compared field gets a *kind*; a :class:`Policy` (configuration) decides which kinds
block the automatic creation of the account. Plain Python: no Dash import here.

Decisions where the design left room:

* ``Müller`` / ``MUELLER`` is ``formatting``: LuxTrust certificates often transliterate
  German umlauts (ä→ae, ö→oe, ü→ue), so a second "German" fold is tried besides the plain
  one (ü→u) and two names are formatting-equal when any of their folds agree.
* ``subset`` works in both directions (declared fewer or more given names than LuxTrust)
  as long as the first given name is the same and the shorter list appears in order.
* Only Latin letters are folded. Compatibility forms (fullwidth, mathematical, modifier
  letters), Latin letters that do not reduce to a-z (``ɑ``, ``ɡ``, ...), other scripts,
  zero-width, format and control characters all stay in the comparison key and make a
  non-equal pair ``different`` (never ``formatting`` or ``typo``): they are the usual
  homoglyph/spoofing vectors and a reviewer must look at them.
* Typo thresholds use the shorter of the two normalised names.
* Canonically equivalent strings (NFC vs NFD ``é``) are ``identical``.
* A name made only of spaces, hyphens and apostrophes carries no name: ``missing``.
* Dates: a partial date on either side is compared on the parts both sides know; an
  ISO string (``"1985-04-12"``, ``"1985"``) is accepted where a date is expected.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein

from dashboard.i18n import N_, per_language
from dashboard.i18n import gettext as _

IDENTICAL = "identical"
FORMATTING = "formatting"
SUBSET = "subset"
SWAPPED = "swapped"
TYPO = "typo"
DIFFERENT = "different"
MISSING = "missing"
KINDS = (IDENTICAL, FORMATTING, SUBSET, SWAPPED, TYPO, DIFFERENT, MISSING)

LAST_NAME = "last_name"
FIRST_NAMES = "first_names"
BIRTH_DATE = "birth_date"
MATRICULE = "matricule"
FIELDS = (LAST_NAME, FIRST_NAMES, BIRTH_DATE, MATRICULE)
NAME_FIELDS = (LAST_NAME, FIRST_NAMES)

DEFAULT_BLOCKING_KINDS = frozenset({SWAPPED, TYPO, DIFFERENT, MISSING})


@dataclass(frozen=True)
class Identity:
    last_name: str
    first_names: str
    birth_date: datetime.date | None = None
    matricule: str | None = None  # 13 digits or None


@dataclass(frozen=True)
class FieldComparison:
    field: str
    declared: Any  # the value as given: str, datetime.date or None
    observed: Any
    kind: str


@dataclass(frozen=True)
class Policy:
    """Which kinds block automatic account creation, and the typo tuning."""

    blocking_kinds: frozenset[str] = DEFAULT_BLOCKING_KINDS
    typo_max_distance: int = 2  # names longer than typo_short_length
    typo_short_max_distance: int = 1
    typo_short_length: int = 5
    typo_min_length: int = 3  # below this, any difference is "different"
    # A missing birth date (or matricule) does not block when the other is identical.
    missing_confirmable: bool = True

    def __post_init__(self) -> None:
        kinds = frozenset(self.blocking_kinds)
        _check_kinds(kinds)
        object.__setattr__(self, "blocking_kinds", kinds)

    @classmethod
    def from_config(cls, blocking: str | Iterable[str], **knobs: Any) -> Policy:
        """Build a policy from ``"typo,different,missing"`` (e.g. an environment variable)."""
        items = blocking.split(",") if isinstance(blocking, str) else list(blocking)
        kinds = frozenset(item.strip().lower() for item in items if item and item.strip())
        if not kinds:
            # An empty variable would silently let every identity through.
            raise ValueError(
                "identity policy: the list of blocking kinds is empty; "
                "leave it unset for the defaults, or name kinds among " + ", ".join(KINDS)
            )
        _check_kinds(kinds)
        return cls(blocking_kinds=kinds, **knobs)

    def blocking_fields(self, fields: Iterable[FieldComparison]) -> tuple[FieldComparison, ...]:
        """The fields that keep the account from being created at once.

        A missing name always blocks, whatever the configuration: twins share a last name
        and a birth date, so a missing first name hides which twin logged in. Otherwise a
        missing field blocks (when `missing` is a blocking kind) unless the other of birth
        date and matricule is identical: a missing birth date is confirmed by a supplied,
        identical matricule, which holds it.
        """
        fields = tuple(fields)
        confirmed = any(f.field in (BIRTH_DATE, MATRICULE) and f.kind == IDENTICAL for f in fields)
        return tuple(
            f
            for f in fields
            if (f.kind == MISSING and f.field in NAME_FIELDS)
            or (
                f.kind in self.blocking_kinds
                and not (f.kind == MISSING and self.missing_confirmable and confirmed)
            )
        )


def _check_kinds(kinds: Iterable[str]) -> None:
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(
            f"identity policy: unknown kind(s) {', '.join(map(repr, unknown))}; "
            f"expected some of {', '.join(KINDS)}"
        )


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Comparison:
    fields: tuple[FieldComparison, ...]
    matches: bool  # the policy's verdict: True = the account may be created at once
    blocking: tuple[FieldComparison, ...] = ()

    @property
    def differences(self) -> tuple[FieldComparison, ...]:
        return tuple(f for f in self.fields if f.kind != IDENTICAL)

    def field(self, name: str) -> FieldComparison | None:
        return next((f for f in self.fields if f.field == name), None)

    def summary(self) -> str:
        """``"nom : faute de frappe ; date de naissance : différente"`` ("" if all identical)."""
        return summary_of(tuple((f.field, f.kind) for f in self.differences))

    def to_dict(self) -> dict[str, Any]:
        blocking = {f.field for f in self.blocking}
        return {
            "matches": self.matches,
            "fields": [
                {
                    "field": f.field,
                    "declared": _to_json(f.declared),
                    "observed": _to_json(f.observed),
                    "kind": f.kind,
                    "blocking": f.field in blocking,
                }
                for f in self.fields
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        fields: list[FieldComparison] = []
        flags: list[bool | None] = []
        for item in data["fields"]:
            name, kind = item["field"], item["kind"]
            if name not in FIELDS:
                raise ValueError(f"identity comparison: unknown field {name!r}")
            if kind not in KINDS:
                raise ValueError(f"identity comparison: unknown kind {kind!r}")
            declared, observed = item.get("declared"), item.get("observed")
            if name == BIRTH_DATE:
                declared, observed = _from_json_date(declared), _from_json_date(observed)
            fields.append(FieldComparison(name, declared, observed, kind))
            flags.append(item.get("blocking"))
        if all(flag is not None for flag in flags):
            blocking = tuple(f for f, flag in zip(fields, flags, strict=True) if flag)
        else:  # stored without per-field flags: re-evaluate under the default policy
            blocking = DEFAULT_POLICY.blocking_fields(fields)
        matches = bool(data["matches"]) if "matches" in data else not blocking
        return cls(fields=tuple(fields), matches=matches, blocking=blocking)


def _to_json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _from_json_date(value: Any) -> Any:
    # Full ISO dates come back as dates; partial "1985-04-00" stays a string.
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


# --- normalisation ----------------------------------------------------------------------

# Space separators (Unicode Zs). Tabs, newlines and other controls are deliberately not
# spaces: str.strip() would drop \x1c-\x1f and make a tampered name look identical.
_SPACES = frozenset(" \u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))))
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u02bb`\u00b4\u2032")
_EXTRA_DASHES = frozenset("\u2212")  # minus sign, typed as a hyphen by some keyboards
_LATIN_SPECIAL = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
    "ŧ": "t",
}
_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue"}
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _is_dash(ch: str) -> bool:
    return ch in _EXTRA_DASHES or unicodedata.category(ch) == "Pd"


def _is_latin_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith(
        "LATIN "
    )


def _is_diacritic(ch: str) -> bool:
    # Only the combining diacritics blocks: the grapheme joiner (U+034F) and variation
    # selectors are marks too, but invisible, so they must stay and count as differences.
    cp = ord(ch)
    return cp != 0x034F and (
        0x0300 <= cp <= 0x036F
        or 0x1AB0 <= cp <= 0x1AFF
        or 0x1DC0 <= cp <= 0x1DFF
        or 0x20D0 <= cp <= 0x20FF
        or 0xFE20 <= cp <= 0xFE2F
    )


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _squash(text: str) -> str:
    """Outer spaces stripped and inner runs collapsed; nothing else (for ``identical``)."""
    spaced = "".join(" " if ch in _SPACES else ch for ch in unicodedata.normalize("NFC", text))
    return " ".join(part for part in spaced.split(" ") if part)


def _fold(text: str, german: bool = False) -> tuple[str, ...]:
    """Name tokens after folding case, Latin diacritics and ligatures, dashes, apostrophes."""
    out: list[str] = []
    after_latin = False
    for ch in unicodedata.normalize("NFC", text).casefold():
        if ch in _APOSTROPHES:
            after_latin = False
        elif ch in _SPACES or _is_dash(ch):
            out.append(" ")
            after_latin = False
        elif _is_latin_letter(ch):
            if german and ch in _GERMAN:
                out.append(_GERMAN[ch])
            else:
                for part in unicodedata.normalize("NFKD", ch):
                    if part in _LATIN_SPECIAL:
                        out.append(_LATIN_SPECIAL[part])
                    elif _is_latin_letter(part):
                        out.append(part)
            after_latin = True
        elif after_latin and _is_diacritic(ch):
            pass  # a stray combining accent on a Latin letter
        else:
            # Other scripts, digits, zero-width and control characters stay as they are:
            # never transliterated, so "Dupоnt" (Cyrillic о) can't equal "Dupont".
            out.append(ch)
            after_latin = False
    return tuple(token for token in "".join(out).split(" ") if token)


def _variants(text: str) -> tuple[tuple[str, ...], ...]:
    plain, german = _fold(text), _fold(text, german=True)
    return (plain,) if german == plain else (plain, german)


def _same_name(a: Any, b: Any) -> bool:
    va, vb = _variants(_text(a)), _variants(_text(b))
    return bool(va[0]) and bool(vb[0]) and any(_key(x) == _key(y) for x in va for y in vb)


def _key(tokens: tuple[str, ...]) -> str:
    return "".join(tokens)


def _is_given_subset(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """``short`` is a non-empty in-order sub-list of ``long`` with the same first name."""
    if not short or len(short) >= len(long) or short[0] != long[0]:
        return False
    remaining = iter(long)
    return all(token in remaining for token in short)


def _compare_name(declared: Any, observed: Any, policy: Policy, *, given: bool) -> str:
    d, o = _text(declared), _text(observed)
    dv, ov = _variants(d), _variants(o)
    if not dv[0] or not ov[0]:
        return MISSING
    if _squash(d) == _squash(o):
        return IDENTICAL
    pairs = [(a, b) for a in dv for b in ov]
    if any(_key(a) == _key(b) for a, b in pairs):
        return FORMATTING
    # Homoglyph rule: anything but a-z left after folding means a reviewer must look.
    if not (set(_key(dv[0])) <= _ASCII_LOWER and set(_key(ov[0])) <= _ASCII_LOWER):
        return DIFFERENT
    if given and any(_is_given_subset(a, b) or _is_given_subset(b, a) for a, b in pairs):
        return SUBSET
    shortest = min(len(_key(dv[0])), len(_key(ov[0])))
    if shortest < policy.typo_min_length:
        return DIFFERENT
    limit = (
        policy.typo_short_max_distance
        if shortest <= policy.typo_short_length
        else policy.typo_max_distance
    )
    distance = min(DamerauLevenshtein.distance(_key(a), _key(b)) for a, b in pairs)
    return TYPO if distance <= limit else DIFFERENT


# --- birth date and matricule -----------------------------------------------------------

_DateParts = tuple[int, int | None, int | None]  # year, month or None, day or None
_MATRICULE_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]")


def _blank(value: Any) -> bool:
    return value is None or not _text(value).strip()


def _parts(year: int, month: int, day: int) -> _DateParts | None:
    """Validated parts, 0 meaning unknown for month and day."""
    if year < 1 or not 0 <= month <= 12 or not 0 <= day <= 31:
        return None
    if month and day:
        try:
            datetime.date(year, month, day)
        except ValueError:
            return None
    return year, month or None, day or None


def _matricule_birth_parts(matricule: Any) -> _DateParts | None:
    # Own small parser on purpose: matricule.py is written in parallel.
    digits = _MATRICULE_SEPARATORS.sub("", _text(matricule))
    if len(digits) < 8 or not digits[:8].isascii() or not digits[:8].isdigit():
        return None
    return _parts(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def _date_parts(value: Any) -> _DateParts | None:
    if isinstance(value, datetime.date):
        return value.year, value.month, value.day
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})-(\d{2}))?", _text(value).strip(), re.ASCII)
    if not match:
        return None
    year, month, day = match.groups(default="0")
    return _parts(int(year), int(month), int(day))


def _partial_text(parts: _DateParts) -> str:
    year, month, day = parts
    return f"{year:04d}-{month or 0:02d}-{day or 0:02d}"


def _compare_birth_date(declared: Identity, observed: Identity) -> FieldComparison:
    shown: Any = None
    parts = None
    if not _blank(declared.birth_date):
        shown, parts = declared.birth_date, _date_parts(declared.birth_date)
    if parts is None:
        parts = _matricule_birth_parts(declared.matricule)
        if parts is not None:
            year, month, day = parts
            full = month is not None and day is not None
            shown = datetime.date(year, month, day) if full else _partial_text(parts)
    if _blank(observed.birth_date) or parts is None:
        kind = MISSING
    else:
        seen = _date_parts(observed.birth_date)
        same = seen is not None and all(
            a == b for a, b in zip(parts, seen, strict=True) if a is not None and b is not None
        )
        kind = IDENTICAL if same else DIFFERENT
    return FieldComparison(BIRTH_DATE, shown, observed.birth_date, kind)


def _compare_matricule(declared: Any, observed: Any) -> str:
    if _blank(declared):
        return MISSING
    d = _MATRICULE_SEPARATORS.sub("", _text(declared))
    o = _MATRICULE_SEPARATORS.sub("", _text(observed))
    return IDENTICAL if d == o and d.isascii() and d.isdigit() else DIFFERENT


# --- the comparison ---------------------------------------------------------------------


def compare(declared: Identity, observed: Identity, policy: Policy | None = None) -> Comparison:
    """Compare field by field and apply the policy (default: DESIGN §3)."""
    policy = policy or DEFAULT_POLICY
    last = _compare_name(declared.last_name, observed.last_name, policy, given=False)
    first = _compare_name(declared.first_names, observed.first_names, policy, given=True)
    if not (last in (IDENTICAL, FORMATTING) and first in (IDENTICAL, FORMATTING, SUBSET)) and (
        _same_name(declared.last_name, observed.first_names)
        and _same_name(declared.first_names, observed.last_name)
    ):
        last = first = SWAPPED
    fields = [
        FieldComparison(LAST_NAME, declared.last_name, observed.last_name, last),
        FieldComparison(FIRST_NAMES, declared.first_names, observed.first_names, first),
        _compare_birth_date(declared, observed),
    ]
    if not _blank(observed.matricule):
        kind = _compare_matricule(declared.matricule, observed.matricule)
        fields.append(FieldComparison(MATRICULE, declared.matricule, observed.matricule, kind))
    blocking = policy.blocking_fields(fields)
    return Comparison(fields=tuple(fields), matches=not blocking, blocking=blocking)


# --- labels and highlighting for the back-office ----------------------------------------


FIELD_LABELS = {
    LAST_NAME: N_("nom"),
    FIRST_NAMES: N_("prénom(s)"),
    BIRTH_DATE: N_("date de naissance"),
    MATRICULE: N_("matricule"),
}
KIND_LABELS = {
    IDENTICAL: N_("identique"),
    FORMATTING: N_("mise en forme différente"),
    SUBSET: N_("prénoms partiels"),
    SWAPPED: N_("nom et prénom inversés"),
    TYPO: N_("faute de frappe"),
}
# Agreeing with the field (feminine: "date de naissance différente / absente").
AGREEING_KIND_LABELS = {
    (DIFFERENT, False): N_("différent"),
    (DIFFERENT, True): N_("différente"),
    (MISSING, False): N_("absent"),
    (MISSING, True): N_("absente"),
}
SWAPPED_LABELS = {  # said of one field
    LAST_NAME: N_("inversé avec le prénom"),
    FIRST_NAMES: N_("inversé avec le nom"),
}


def field_label(field: str) -> str:
    return _(FIELD_LABELS[field]) if field in FIELD_LABELS else field


@per_language
def summary_of(differences: tuple[tuple[str, str], ...]) -> str:
    """The summary of (field, kind) differences, as in `Comparison.summary`: the queue
    shows one per row, from a few hundred possible combinations."""
    return _(" ; ").join(
        _("{field} : {kind}", field=field_label(f), kind=kind_label(k, f)) for f, k in differences
    )


def kind_label(kind: str, field: str | None = None) -> str:
    """The label of a kind (translated); with ``field`` it agrees with it."""
    if kind == SWAPPED and field in SWAPPED_LABELS:
        return _(SWAPPED_LABELS[field])
    if kind in (DIFFERENT, MISSING):
        return _(AGREEING_KIND_LABELS[(kind, field == BIRTH_DATE)])
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


Segments = list[tuple[str, bool]]


def diff_segments(declared: str | None, observed: str | None) -> tuple[Segments, Segments]:
    """Split both strings into ``(text, differs)`` runs, character by character."""
    a, b = _text(declared), _text(observed)
    left: Segments = []
    right: Segments = []
    # Compared without case (as the kind is), one character for one so indices still fit.
    matcher = difflib.SequenceMatcher(None, _caseless(a), _caseless(b), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        differs = tag != "equal"
        _append(left, a[i1:i2], differs)
        _append(right, b[j1:j2], differs)
    return left, right


def _caseless(text: str) -> str:
    return "".join((c.lower() or c)[0] for c in text)


def _append(segments: Segments, text: str, differs: bool) -> None:
    if not text:
        return
    if segments and segments[-1][1] == differs:
        segments[-1] = (segments[-1][0] + text, differs)
    else:
        segments.append((text, differs))
