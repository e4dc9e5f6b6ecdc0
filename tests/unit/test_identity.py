"""Tests for dashboard.enrolment.identity (declaration vs LuxTrust identity, DESIGN §3)."""

from __future__ import annotations

import ast
import datetime
import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.enrolment import identity
from dashboard.enrolment.identity import (
    BIRTH_DATE,
    DIFFERENT,
    FIRST_NAMES,
    FORMATTING,
    IDENTICAL,
    KINDS,
    LAST_NAME,
    MATRICULE,
    MISSING,
    SUBSET,
    SWAPPED,
    TYPO,
    Comparison,
    FieldComparison,
    Identity,
    Policy,
    compare,
    diff_segments,
    field_label,
    kind_label,
)

BIRTH = datetime.date(1985, 4, 12)
MATRICULE_1985 = "1985041212345"


def person(last: str = "Dupont", first: str = "Marie", **kw) -> Identity:
    kw.setdefault("birth_date", BIRTH)
    return Identity(last_name=last, first_names=first, **kw)


def kinds(result: Comparison) -> dict[str, str]:
    return {f.field: f.kind for f in result.fields}


def last_name_kind(declared: str, observed: str) -> str:
    return kinds(compare(person(last=declared), person(last=observed)))[LAST_NAME]


def first_names_kind(declared: str, observed: str) -> str:
    return kinds(compare(person(first=declared), person(first=observed)))[FIRST_NAMES]


# --- constants and shapes ----------------------------------------------------------------


def test_kinds_constants() -> None:
    assert KINDS == ("identical", "formatting", "subset", "swapped", "typo", "different", "missing")
    assert (IDENTICAL, FORMATTING, SUBSET, SWAPPED, TYPO, DIFFERENT, MISSING) == KINDS


def test_default_policy_blocking_kinds() -> None:
    assert Policy().blocking_kinds == frozenset({"swapped", "typo", "different", "missing"})


def test_fields_order_without_provider_matricule() -> None:
    result = compare(person(matricule=MATRICULE_1985), person())
    assert [f.field for f in result.fields] == [LAST_NAME, FIRST_NAMES, BIRTH_DATE]
    assert result.matches
    assert result.blocking == ()
    assert result.differences == ()


@pytest.mark.parametrize("observed_matricule", [None, "", "   "])
def test_matricule_field_only_when_provider_supplied_one(observed_matricule) -> None:
    result = compare(person(matricule=MATRICULE_1985), person(matricule=observed_matricule))
    assert MATRICULE not in kinds(result)


def test_fields_order_with_provider_matricule() -> None:
    result = compare(person(matricule=MATRICULE_1985), person(matricule=MATRICULE_1985))
    assert [f.field for f in result.fields] == [LAST_NAME, FIRST_NAMES, BIRTH_DATE, MATRICULE]
    assert set(kinds(result).values()) == {IDENTICAL}


def test_field_comparison_keeps_original_values() -> None:
    result = compare(person(last="Müller"), person(last="MULLER"))
    last = result.fields[0]
    assert last == FieldComparison(LAST_NAME, "Müller", "MULLER", FORMATTING)
    assert result.field(LAST_NAME) is last
    assert result.field(MATRICULE) is None


def test_results_are_frozen() -> None:
    result = compare(person(), person())
    with pytest.raises(AttributeError):
        result.matches = False  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.fields[0].kind = TYPO  # type: ignore[misc]


def test_module_does_not_import_dash() -> None:
    tree = ast.parse(Path(identity.__file__).read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert not any(name == "dash" or name.startswith(("dash.", "dash_")) for name in imported)


# --- name kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Dupont", "Dupont"),
        ("  Dupont ", "Dupont"),
        ("Jean  Pierre", "Jean Pierre"),
        ("Jean\u00a0Pierre", "Jean Pierre"),  # no-break space is a space
        ("Mu\u0308ller", "Müller"),  # NFD vs NFC: the same text
        ("Иванов", "Иванов"),  # other scripts compare fine when equal
    ],
)
def test_identical(declared: str, observed: str) -> None:
    assert last_name_kind(declared, observed) == IDENTICAL


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Müller", "MULLER"),
        ("Müller", "MUELLER"),  # German transliteration of umlauts
        ("Mueller", "MÜLLER"),
        ("Jäger", "JAEGER"),
        ("Schröder", "SCHROEDER"),
        ("Jean-Pierre", "JEAN PIERRE"),
        ("Jean–Pierre", "Jean-Pierre"),  # en dash
        ("Jean\u2011Pierre", "jean pierre"),  # non-breaking hyphen
        ("Jean\u2212Pierre", "Jean-Pierre"),  # minus sign
        ("D'Angelo", "DANGELO"),
        ("D’Angelo", "D'Angelo"),
        ("Dʼangelo", "D`Angelo"),
        ("D´Angelo", "DANGELO"),
        ("Strauß", "STRAUSS"),
        ("Cœur", "COEUR"),
        ("Lætitia", "LAETITIA"),
        ("Søren", "SOREN"),
        ("Łukasz", "LUKASZ"),
        ("Đorđević", "DORDEVIC"),
        ("Hélène", "HELENE"),
        ("Noël", "NOEL"),
        ("Françoise", "FRANCOISE"),
        ("dupont", "Dupont"),
        ("Van der Berg", "VANDERBERG"),
        ("Ивaнов".replace("a", "а"), "ИВАНОВ"),  # case folds within Cyrillic
    ],
)
def test_formatting(declared: str, observed: str) -> None:
    assert last_name_kind(declared, observed) == FORMATTING
    assert compare(person(last=declared), person(last=observed)).matches


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Marie", "Marie Louise"),
        ("Marie Louise", "MARIE LOUISE JEANNE"),
        ("Marie Jeanne", "Marie Louise Jeanne"),  # in order, not necessarily adjacent
        ("Jean", "Jean-Pierre"),  # hyphens split given names
        ("Hélène", "HELENE MARIE"),  # formatting inside a subset
        ("Jürgen", "JUERGEN KARL"),
    ],
)
def test_subset_both_directions(declared: str, observed: str) -> None:
    assert first_names_kind(declared, observed) == SUBSET
    assert first_names_kind(observed, declared) == SUBSET  # declared more names: same rule
    assert compare(person(first=declared), person(first=observed)).matches


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Louise", "Marie Louise"),  # first given name must be the same
        ("Louise Marie", "Marie Louise"),  # order matters
        ("Marie Anne", "Marie Louise"),
    ],
)
def test_not_subset(declared: str, observed: str) -> None:
    assert first_names_kind(declared, observed) == DIFFERENT


def test_subset_only_for_first_names() -> None:
    assert last_name_kind("Dupont", "Dupont Martin") == DIFFERENT


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        (("Dupont", "Marie"), ("Marie", "Dupont")),
        (("Müller", "Jean-Pierre"), ("JEAN PIERRE", "MUELLER")),  # swapped and reformatted
    ],
)
def test_swapped(declared: tuple[str, str], observed: tuple[str, str]) -> None:
    result = compare(person(*declared), person(*observed))
    assert kinds(result)[LAST_NAME] == SWAPPED
    assert kinds(result)[FIRST_NAMES] == SWAPPED
    assert not result.matches
    assert {f.field for f in result.blocking} == {LAST_NAME, FIRST_NAMES}


def test_same_last_and_first_name_is_not_swapped() -> None:
    result = compare(person("Martin", "Martin"), person("MARTIN", "Martin"))
    assert kinds(result)[LAST_NAME] == FORMATTING
    assert kinds(result)[FIRST_NAMES] == IDENTICAL


def test_partial_swap_is_not_swapped() -> None:
    result = compare(person("Dupont", "Marie"), person("Marie", "Durand"))
    assert kinds(result)[LAST_NAME] == DIFFERENT
    assert kinds(result)[FIRST_NAMES] == DIFFERENT


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Schmit", "Schmitt"),
        ("Weber", "Wever"),
        ("Marie", "Maire"),  # transposition counts once (Damerau)
        ("Muller", "Molter"),  # two edits in a 6-letter name
        ("Hoffmann", "Hofman"),
        ("Jean Piere", "Jean Pierre"),
    ],
)
def test_typo(declared: str, observed: str) -> None:
    assert last_name_kind(declared, observed) == TYPO
    assert not compare(person(last=declared), person(last=observed)).matches


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Dupont", "Martin"),
        ("Weber", "Wbbex"),  # two edits in a 5-letter name: too many
        ("Li", "Ly"),  # too short for a typo
        ("Ng", "Ngo"),
        ("Schmit", "Schmittberger"),
    ],
)
def test_different(declared: str, observed: str) -> None:
    assert last_name_kind(declared, observed) == DIFFERENT


def test_typo_first_names() -> None:
    assert first_names_kind("Mairie", "Marie") == TYPO
    assert first_names_kind("Marie", "Sophie") == DIFFERENT


# --- homoglyphs and invisible characters ----------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "observed"),
    [
        ("Dup\u043ent", "Dupont"),  # Cyrillic о
        ("Dup\u03bfnt", "Dupont"),  # Greek ο
        ("\u0420\u043e\u0440ov", "Popov"),  # Latin-looking Cyrillic "Рорov"
        ("\u0420\u043e\u0440ov", "POPOV"),
        ("Dupont", "DUP\u041eNT"),  # Cyrillic capital О
        ("Ανna", "Anna"),  # Greek capital alpha and nu
        ("Dupont\u200b", "Dupont"),  # zero-width space
        ("Du\u200dpont", "Dupont"),  # zero-width joiner
        ("Du\u00adpont", "Dupont"),  # soft hyphen: invisible, not a hyphen
        ("Du\u034fpont", "Dupont"),  # combining grapheme joiner
        ("Dupont\ufe0f", "Dupont"),  # variation selector
        ("Du\x1fpont", "Dupont"),  # control character
        ("Dupont\x1f", "Dupont"),  # str.strip() would have removed it
        ("Dupont\t", "Dupont"),
        ("\uff24upont", "Dupont"),  # fullwidth D: not folded
        ("Dup\u0251nt", "Dupant"),  # Latin alpha looks like "a"
        ("Dupont1", "Dupont"),
    ],
)
def test_homoglyphs_and_invisible_characters_are_different(declared: str, observed: str) -> None:
    assert last_name_kind(declared, observed) == DIFFERENT
    assert last_name_kind(observed, declared) == DIFFERENT


def test_homoglyph_in_first_names_is_not_subset() -> None:
    assert first_names_kind("Mari\u0435", "Marie Louise") == DIFFERENT  # Cyrillic е
    assert first_names_kind("Marie", "Marie L\u043euise") == DIFFERENT


def test_homoglyph_is_never_swapped() -> None:
    result = compare(person("Dupont", "Marie"), person("Marie", "Dup\u043ent"))
    assert kinds(result)[LAST_NAME] == DIFFERENT


# --- missing names ---------------------------------------------------------------------------


@pytest.mark.parametrize("observed", [None, "", "   ", "\u00a0", "-", "'"])
def test_missing_observed_name(observed) -> None:
    assert first_names_kind("Marie", observed) == MISSING


@pytest.mark.parametrize("declared", [None, "", "  "])
def test_missing_declared_name(declared) -> None:
    assert last_name_kind(declared, "Dupont") == MISSING


# --- birth date --------------------------------------------------------------------------------


def birth_kind(declared: Identity, observed: Identity) -> FieldComparison:
    return compare(declared, observed).fields[2]


def test_birth_date_from_matricule() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    fc = birth_kind(declared, person())
    assert fc.kind == IDENTICAL
    assert fc.declared == BIRTH
    assert fc.observed == BIRTH


def test_birth_date_from_matricule_with_separators() -> None:
    declared = Identity("Dupont", "Marie", matricule="1985 0412 123 45")
    assert birth_kind(declared, person()).kind == IDENTICAL


@pytest.mark.parametrize(
    ("matricule", "shown"),
    [
        ("1985040012345", "1985-04-00"),  # day unknown
        ("1985000012345", "1985-00-00"),  # month and day unknown
        ("1985001212345", "1985-00-12"),  # month unknown
    ],
)
def test_partial_birth_date_compares_known_parts(matricule: str, shown: str) -> None:
    declared = Identity("Dupont", "Marie", matricule=matricule)
    fc = birth_kind(declared, person())
    assert fc.kind == IDENTICAL
    assert fc.declared == shown
    other = person(birth_date=datetime.date(1986, 4, 12))
    assert birth_kind(declared, other).kind == DIFFERENT


def test_partial_birth_date_different_month() -> None:
    declared = Identity("Dupont", "Marie", matricule="1985050012345")
    assert birth_kind(declared, person()).kind == DIFFERENT


@pytest.mark.parametrize(
    "observed",
    [
        datetime.date(1985, 12, 4),  # day and month swapped
        datetime.date(1986, 4, 12),
        datetime.date(1985, 4, 13),
    ],
)
def test_birth_date_different(observed: datetime.date) -> None:
    result = compare(person(), person(birth_date=observed))
    assert kinds(result)[BIRTH_DATE] == DIFFERENT
    assert not result.matches


def test_declared_birth_date_wins_over_matricule() -> None:
    declared = person(birth_date=BIRTH, matricule="1990010112345")
    assert birth_kind(declared, person()).kind == IDENTICAL


def test_birth_date_missing_on_provider_side() -> None:
    result = compare(person(matricule=MATRICULE_1985), person(birth_date=None))
    assert kinds(result)[BIRTH_DATE] == MISSING
    assert not result.matches  # no birth date and no matricule confirmed


@pytest.mark.parametrize("matricule", [None, "", "abc", "1985", "1985133012345", "1985023012345"])
def test_birth_date_missing_on_declared_side(matricule) -> None:
    declared = Identity("Dupont", "Marie", matricule=matricule)
    assert birth_kind(declared, person()).kind == MISSING
    assert birth_kind(declared, person()).declared is None


def test_birth_date_accepts_iso_strings() -> None:
    assert birth_kind(person(), person(birth_date="1985-04-12")).kind == IDENTICAL  # type: ignore[arg-type]
    assert birth_kind(person(), person(birth_date="not a date")).kind == DIFFERENT  # type: ignore[arg-type]


def test_birth_date_accepts_datetime() -> None:
    observed = person(birth_date=datetime.datetime(1985, 4, 12, 10, 30))
    assert birth_kind(person(), observed).kind == IDENTICAL


# --- matricule field ---------------------------------------------------------------------------


def test_matricule_identical_with_separators() -> None:
    result = compare(person(matricule=MATRICULE_1985), person(matricule="1985.0412-123 45"))
    assert kinds(result)[MATRICULE] == IDENTICAL


def test_matricule_different() -> None:
    result = compare(person(matricule=MATRICULE_1985), person(matricule="1985041212346"))
    assert kinds(result)[MATRICULE] == DIFFERENT
    assert not result.matches


def test_matricule_non_digits_are_never_identical() -> None:
    result = compare(person(matricule="19850412abc"), person(matricule="19850412abc"))
    assert kinds(result)[MATRICULE] == DIFFERENT


def test_matricule_missing_on_declared_side() -> None:
    result = compare(person(matricule=None), person(matricule=MATRICULE_1985))
    assert kinds(result)[MATRICULE] == MISSING
    assert result.matches  # the birth date is confirmed


# --- the missing-blocks rule ---------------------------------------------------------------------


def test_missing_first_name_blocks_even_with_birth_date_and_matricule() -> None:
    """Twins share a last name and a birth date: a missing first name never auto-creates."""
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    observed = Identity("DUPONT", "", BIRTH, MATRICULE_1985)
    result = compare(declared, observed)
    assert kinds(result)[FIRST_NAMES] == MISSING
    assert not result.matches
    assert [f.field for f in result.blocking] == [FIRST_NAMES]
    assert [f.field for f in result.differences] == [LAST_NAME, FIRST_NAMES]


def test_missing_birth_date_confirmed_by_matricule_alone() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Dupont", "Marie", None, MATRICULE_1985)
    result = compare(declared, observed)
    assert kinds(result)[BIRTH_DATE] == MISSING
    assert result.matches


def test_missing_first_name_and_birth_date_blocks_despite_the_matricule() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Dupont", None, None, MATRICULE_1985)  # type: ignore[arg-type]
    result = compare(declared, observed)
    assert [f.field for f in result.blocking] == [FIRST_NAMES]


def test_missing_first_name_blocks_with_the_birth_date_alone() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    result = compare(declared, Identity("Dupont", "", BIRTH))
    assert not result.matches


def test_missing_last_name_blocks_whatever_agrees() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    result = compare(declared, Identity("", "Marie", BIRTH, MATRICULE_1985))
    assert [f.field for f in result.blocking] == [LAST_NAME]


def test_a_missing_name_blocks_even_when_the_policy_leaves_missing_out() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Dupont", "", BIRTH, MATRICULE_1985)
    assert not compare(declared, observed, Policy.from_config("different")).matches
    # ...while a missing birth date then follows the policy.
    observed = Identity("Dupont", "Marie", None)
    assert compare(declared, observed, Policy.from_config("different")).matches


_TEXT = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "Zs", "Pd")), max_size=20)
_BLANK = st.sampled_from(["", " ", "  ", "-", "'", " - ", "\u00a0"])
_DATES = st.one_of(st.none(), st.dates(datetime.date(1900, 1, 1), datetime.date(2010, 12, 31)))
_POLICIES = st.frozensets(st.sampled_from(KINDS), min_size=1).map(Policy)


@settings(max_examples=400, deadline=None)
@given(
    declared_last=_TEXT.filter(str.strip),
    declared_first=_TEXT.filter(str.strip),
    other=_TEXT,
    blank=_BLANK,
    which=st.sampled_from([LAST_NAME, FIRST_NAMES]),
    birth=_DATES,
    same_birth=st.booleans(),
    with_matricule=st.booleans(),
    policy=_POLICIES,
)
def test_an_identity_with_an_empty_name_never_matches(
    declared_last, declared_first, other, blank, which, birth, same_birth, with_matricule, policy
) -> None:
    """Property: for every observed identity with an empty name field, `compare(...)
    .matches` is False, whatever the other fields say and whatever the policy."""
    declared = Identity(declared_last, declared_first, matricule=MATRICULE_1985)
    observed_birth = BIRTH if same_birth else birth
    names = {LAST_NAME: declared_last, FIRST_NAMES: declared_first}
    names[which] = blank
    # The other name is the declared one, or anything.
    other_field = FIRST_NAMES if which == LAST_NAME else LAST_NAME
    names[other_field] = names[other_field] if other == "" else other
    observed = Identity(
        names[LAST_NAME],
        names[FIRST_NAMES],
        observed_birth,
        MATRICULE_1985 if with_matricule else None,
    )
    result = compare(declared, observed, policy)
    assert not result.matches
    assert which in {f.field for f in result.blocking}


def test_missing_blocks_without_birth_date_and_matricule() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    result = compare(declared, Identity("Dupont", "Marie"))
    assert kinds(result)[BIRTH_DATE] == MISSING
    assert not result.matches
    assert [f.field for f in result.blocking] == [BIRTH_DATE]


def test_missing_blocks_when_birth_date_differs() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    result = compare(declared, Identity("Dupont", "", datetime.date(1985, 4, 13)))
    assert {f.field for f in result.blocking} == {FIRST_NAMES, BIRTH_DATE}


def test_missing_blocks_when_matricule_differs_and_no_birth_date() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    result = compare(declared, Identity("Dupont", "", None, "1985041299999"))
    assert {f.field for f in result.blocking} == {FIRST_NAMES, BIRTH_DATE, MATRICULE}


def test_missing_confirmation_can_be_switched_off() -> None:
    declared = Identity("Dupont", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Dupont", "", BIRTH, MATRICULE_1985)
    assert not compare(declared, observed, Policy(missing_confirmable=False)).matches


def test_confirmed_missing_does_not_hide_other_blocking_kinds() -> None:
    declared = Identity("Schmit", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Schmitt", "Marie", None, MATRICULE_1985)
    result = compare(declared, observed)
    assert [f.field for f in result.blocking] == [LAST_NAME]


# --- policy ----------------------------------------------------------------------------------


def test_policy_from_config_string() -> None:
    policy = Policy.from_config(" typo , DIFFERENT,,missing ")
    assert policy.blocking_kinds == frozenset({TYPO, DIFFERENT, MISSING})


def test_policy_from_config_iterable_and_knobs() -> None:
    policy = Policy.from_config([SWAPPED, TYPO], typo_max_distance=1)
    assert policy.blocking_kinds == frozenset({SWAPPED, TYPO})
    assert policy.typo_max_distance == 1


def test_custom_policy_lets_typos_through() -> None:
    declared, observed = person(last="Schmit"), person(last="Schmitt")
    assert not compare(declared, observed).matches
    result = compare(declared, observed, Policy.from_config("swapped,different,missing"))
    assert result.matches
    assert kinds(result)[LAST_NAME] == TYPO
    assert result.blocking == ()
    assert [f.field for f in result.differences] == [LAST_NAME]


def test_custom_policy_blocks_formatting() -> None:
    declared, observed = person(last="Müller"), person(last="MULLER")
    assert compare(declared, observed).matches
    result = compare(declared, observed, Policy.from_config("formatting,different"))
    assert not result.matches
    assert [f.field for f in result.blocking] == [LAST_NAME]


def test_custom_policy_swapped_not_blocking() -> None:
    result = compare(
        person("Dupont", "Marie"), person("Marie", "Dupont"), Policy.from_config("typo")
    )
    assert result.matches


def test_typo_knobs_change_the_kind() -> None:
    strict = Policy(typo_max_distance=0, typo_short_max_distance=0)
    result = compare(person(last="Schmit"), person(last="Schmitt"), strict)
    assert kinds(result)[LAST_NAME] == DIFFERENT


@pytest.mark.parametrize("config", ["typo,speling", ["bogus"], "identical,Typo,nope"])
def test_policy_unknown_kind_raises(config) -> None:
    with pytest.raises(ValueError, match="unknown kind") as info:
        Policy.from_config(config)
    assert "typo" in str(info.value)  # lists the valid kinds


@pytest.mark.parametrize("config", ["", " , ", []])
def test_policy_empty_config_raises(config) -> None:
    with pytest.raises(ValueError, match="empty"):
        Policy.from_config(config)


def test_policy_constructor_validates() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        Policy(blocking_kinds=frozenset({"typos"}))
    assert Policy(blocking_kinds={TYPO}).blocking_kinds == frozenset({TYPO})  # type: ignore[arg-type]


def test_policy_blocking_fields_reevaluates_stored_fields() -> None:
    result = compare(person(last="Schmit"), person(last="Schmitt"))
    assert Policy.from_config("different").blocking_fields(result.fields) == ()


# --- storage -----------------------------------------------------------------------------------


def test_to_dict_is_json_safe_and_round_trips() -> None:
    declared = Identity("Schmit", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Schmitt", "MARIE LOUISE", datetime.date(1985, 12, 4), MATRICULE_1985)
    result = compare(declared, observed)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["matches"] is False
    assert data["fields"][0] == {
        "field": "last_name",
        "declared": "Schmit",
        "observed": "Schmitt",
        "kind": "typo",
        "blocking": True,
    }
    assert data["fields"][2]["declared"] == "1985-04-12"
    assert data["fields"][2]["observed"] == "1985-12-04"
    assert Comparison.from_dict(data) == result


def test_round_trip_partial_date_and_missing() -> None:
    declared = Identity("Dupont", "Marie", matricule="1985000012345")
    result = compare(declared, Identity("Dupont", "", BIRTH, None))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["fields"][2]["declared"] == "1985-00-00"
    assert data["fields"][1]["observed"] == ""
    assert Comparison.from_dict(data) == result
    assert not result.matches  # the first name is missing


def test_from_dict_without_blocking_flags_uses_default_policy() -> None:
    data = compare(person(last="Schmit"), person(last="Schmitt")).to_dict()
    for item in data["fields"]:
        del item["blocking"]
    del data["matches"]
    restored = Comparison.from_dict(data)
    assert not restored.matches
    assert [f.field for f in restored.blocking] == [LAST_NAME]


def test_from_dict_rejects_unknown_kind_and_field() -> None:
    data = compare(person(), person()).to_dict()
    data["fields"][0]["kind"] = "close"
    with pytest.raises(ValueError, match="unknown kind"):
        Comparison.from_dict(data)
    data = compare(person(), person()).to_dict()
    data["fields"][0]["field"] = "nickname"
    with pytest.raises(ValueError, match="unknown field"):
        Comparison.from_dict(data)


# --- labels and summary ------------------------------------------------------------------------


def test_field_labels() -> None:
    assert field_label(LAST_NAME) == "nom"
    assert field_label(FIRST_NAMES) == "prénom(s)"
    assert field_label(BIRTH_DATE) == "date de naissance"
    assert field_label(MATRICULE) == "matricule"


def test_kind_labels() -> None:
    labels = [kind_label(kind) for kind in KINDS]
    assert labels == [
        "identique",
        "mise en forme différente",
        "prénoms partiels",
        "nom et prénom inversés",
        "faute de frappe",
        "différent",
        "absent",
    ]
    assert kind_label(DIFFERENT, BIRTH_DATE) == "différente"
    assert kind_label(MISSING, BIRTH_DATE) == "absente"
    assert kind_label(DIFFERENT, LAST_NAME) == "différent"


def test_summary_example_from_the_brief() -> None:
    declared = Identity("Schmit", "Marie", matricule=MATRICULE_1985)
    observed = Identity("Schmitt", "Marie", datetime.date(1985, 12, 4))
    assert compare(declared, observed).summary() == (
        "nom : faute de frappe ; date de naissance : différente"
    )


def test_summary_empty_when_all_identical() -> None:
    assert compare(person(), person()).summary() == ""


def test_summary_lists_non_blocking_differences_too() -> None:
    result = compare(
        person(last="Müller", first="Marie"), person(last="MULLER", first="Marie Anne")
    )
    assert result.summary() == "nom : mise en forme différente ; prénom(s) : prénoms partiels"


def test_summary_swapped_and_missing() -> None:
    result = compare(person("Dupont", "Marie"), person("Marie", "Dupont", birth_date=None))
    assert result.summary() == (
        "nom : inversé avec le prénom ; prénom(s) : inversé avec le nom ; "
        "date de naissance : absente"
    )


# --- diff segments -----------------------------------------------------------------------------


def test_diff_segments_typo() -> None:
    assert diff_segments("Schmit", "Schmitt") == (
        [("Schmit", False)],
        [("Schmit", False), ("t", True)],
    )


def test_diff_segments_homoglyph() -> None:
    left, right = diff_segments("Dupont", "Dup\u043ent")
    assert left == [("Dup", False), ("o", True), ("nt", False)]
    assert right == [("Dup", False), ("\u043e", True), ("nt", False)]


def test_diff_segments_replacement_and_none() -> None:
    assert diff_segments("Weber", "Wever") == (
        [("We", False), ("b", True), ("er", False)],
        [("We", False), ("v", True), ("er", False)],
    )
    assert diff_segments(None, "Marie") == ([], [("Marie", True)])
    assert diff_segments("", "") == ([], [])


# --- properties --------------------------------------------------------------------------------

LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèêëàâäôöüùûçñåøßœæÉÈÖÜ"
ACCENTS = {
    "a": "àáâäãåā",
    "e": "éèêëēę",
    "i": "íìîïī",
    "o": "óòôöõ",
    "u": "úùûüū",
    "c": "çč",
    "n": "ñń",
    "s": "śš",
    "z": "žź",
    "y": "ýÿ",
}
NON_LATIN = st.characters(
    categories=("Lu", "Ll", "Lo"),
    min_codepoint=0x0370,
    max_codepoint=0x04FF,
)

latin_word = st.text(alphabet=LATIN_LETTERS, min_size=1, max_size=12)
latin_name = st.lists(latin_word, min_size=1, max_size=3).flatmap(
    lambda words: st.sampled_from([" ", "-"]).map(lambda sep: sep.join(words))
)
ascii_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=15)
dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31))
any_text = st.one_of(st.none(), st.text(max_size=20))
matricules = st.one_of(
    st.none(),
    st.text(alphabet="0123456789 .-", max_size=15),
    st.text(max_size=15),
)


@st.composite
def case_and_accent_variant(draw, name: str) -> str:
    out = []
    for ch in name:
        if ch in ACCENTS and draw(st.booleans()):
            ch = draw(st.sampled_from(ACCENTS[ch]))
        elif ch in ACCENTS and draw(st.booleans()):
            ch += draw(st.sampled_from(["\u0301", "\u0308", "\u0327"]))  # combining accents
        out.append(ch.upper() if draw(st.booleans()) else ch)
    return "".join(out)


@given(last=latin_name, first=latin_name, birth=dates)
def test_property_self_comparison_is_identical(last: str, first: str, birth: datetime.date) -> None:
    who = Identity(last, first, birth, MATRICULE_1985)
    result = compare(who, who)
    assert all(f.kind == IDENTICAL for f in result.fields)
    assert result.matches
    assert result.summary() == ""


@given(data=st.data(), base=ascii_name)
def test_property_case_and_diacritics_never_block(data, base: str) -> None:
    variant = data.draw(case_and_accent_variant(base))
    result = compare(person(last=base), person(last=variant))
    assert kinds(result)[LAST_NAME] in (IDENTICAL, FORMATTING)
    assert result.matches
    reverse = compare(person(first=variant), person(first=base))
    assert kinds(reverse)[FIRST_NAMES] in (IDENTICAL, FORMATTING)


@given(
    declared=st.builds(Identity, any_text, any_text, st.one_of(st.none(), dates), matricules),
    observed=st.builds(Identity, any_text, any_text, st.one_of(st.none(), dates), matricules),
)
@settings(max_examples=300)
def test_property_arbitrary_input_never_raises(declared: Identity, observed: Identity) -> None:
    result = compare(declared, observed)
    assert all(f.kind in KINDS for f in result.fields)
    assert [f.field for f in result.fields][:3] == [LAST_NAME, FIRST_NAMES, BIRTH_DATE]
    assert result.matches == (not result.blocking)
    assert set(result.blocking) <= set(result.fields)
    assert isinstance(result.summary(), str)
    assert Comparison.from_dict(json.loads(json.dumps(result.to_dict()))) == result


@given(d_last=any_text, d_first=any_text, o_last=any_text, o_first=any_text)
@settings(max_examples=300)
def test_property_name_kinds_are_symmetric(d_last, d_first, o_last, o_first) -> None:
    forward = compare(person(d_last, d_first), person(o_last, o_first))
    backward = compare(person(o_last, o_first), person(d_last, d_first))
    assert kinds(forward)[LAST_NAME] == kinds(backward)[LAST_NAME]
    assert kinds(forward)[FIRST_NAMES] == kinds(backward)[FIRST_NAMES]


@given(d_last=latin_name, o_last=latin_name, first=latin_name)
def test_property_latin_name_kinds_are_symmetric(d_last: str, o_last: str, first: str) -> None:
    forward = compare(person(d_last, first), person(o_last, first))
    backward = compare(person(o_last, first), person(d_last, first))
    assert kinds(forward) == kinds(backward)


@given(data=st.data(), name=latin_name, intruder=NON_LATIN)
def test_property_non_latin_letter_makes_different(data, name: str, intruder: str) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(name)))
    spoofed = name[:position] + intruder + name[position:]
    assert unicodedata.name(intruder).startswith(("GREEK", "CYRILLIC", "COPTIC"))
    assert last_name_kind(name, spoofed) == DIFFERENT
    assert last_name_kind(spoofed, name) == DIFFERENT
    assert first_names_kind(name, spoofed) == DIFFERENT
    assert not compare(person(last=name), person(last=spoofed)).matches


@given(data=st.data(), name=latin_name, char=st.sampled_from(["\u0430", "\u043e", "\u03bf"]))
def test_property_homoglyph_replacing_a_letter_makes_different(data, name: str, char: str) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(name) - 1))
    spoofed = name[:position] + char + name[position + 1 :]
    assert last_name_kind(name, spoofed) == DIFFERENT


@given(a=any_text, b=any_text)
def test_property_diff_segments_rebuild_the_strings(a, b) -> None:
    left, right = diff_segments(a, b)
    assert "".join(text for text, _ in left) == (a or "")
    assert "".join(text for text, _ in right) == (b or "")
    for segments in (left, right):
        assert all(text for text, _ in segments)
        assert all(x[1] != y[1] for x, y in zip(segments, segments[1:], strict=False))
    if a == b:
        assert all(not differs for _, differs in left + right)
